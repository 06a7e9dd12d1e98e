"""Probing uploads in bounded memory: stated lengths, lying headers, truncated WAVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from earful.audio import probe
from earful.audio.probe import probe_audio, wav_truncated
from earful.errors import AudioDecodeError, AudioTooLongError, UnsupportedFormatError
from tests.audio import bombs


@pytest.mark.parametrize("name", ["jfk.wav", "jfk.flac", "jfk.mp3", "jfk.ogg", "jfk.opus",
                                  "jfk.m4a", "jfk.webm"])
def test_every_format_measures_its_duration(test_data: Path, name: str) -> None:
    found = probe_audio(test_data / name, 60)
    assert found.duration == pytest.approx(11.0, abs=0.05) and not found.truncated


def test_stated_length_over_the_limit_is_refused_without_decoding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = bombs.flac_silence(tmp_path / "long.flac", 600)

    def no_decoding(*args: object) -> None:
        pytest.fail("decoded")

    monkeypatch.setattr(probe, "_count_soundfile", no_decoding)
    monkeypatch.setattr(probe, "_count_pyav", no_decoding)
    with pytest.raises(AudioTooLongError, match=r"600\.0 s long; the limit is 60\.0 s"):
        probe_audio(path, 60)


def test_hidden_length_stops_decoding_at_the_limit(tmp_path: Path) -> None:
    path = bombs.flac_silence(tmp_path / "hidden.flac", 600, hide_length=True)
    with pytest.raises(AudioTooLongError) as info:
        probe_audio(path, 60)
    assert 60 < info.value.duration <= 60 + probe.BLOCK_SECONDS


def test_wav_claiming_more_than_it_holds(tmp_path: Path) -> None:
    short = bombs.wav_claiming(tmp_path / "short.wav", 2.0, 10_000_000)
    streamed = bombs.wav_claiming(tmp_path / "streamed.wav", 2.0, 0xFFFFFFFF)
    assert wav_truncated(short) and not wav_truncated(streamed)
    found = probe_audio(short, 60)
    assert found.truncated and found.duration == pytest.approx(2.0)
    assert not probe_audio(streamed, 60).truncated


def test_bad_inputs_are_typed_errors(tmp_path: Path) -> None:
    empty, junk, nan = tmp_path / "e.wav", tmp_path / "j.wav", tmp_path / "n.wav"
    empty.write_bytes(b"")
    junk.write_bytes(b"not audio at all" * 100)
    sf.write(nan, np.array([0.0, np.nan, 0.1], np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioDecodeError, match="empty"):
        probe_audio(empty, 60)
    with pytest.raises(UnsupportedFormatError):
        probe_audio(junk, 60, name="upload.wav")
    with pytest.raises(AudioDecodeError, match="NaN"):
        probe_audio(nan, 60)
    with pytest.raises(AudioDecodeError, match="not found"):
        probe_audio(tmp_path / "missing.wav", 60)
