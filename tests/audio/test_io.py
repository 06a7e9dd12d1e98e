"""Decoding and encoding: every format, every input kind, every bad input."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from earful.audio.io import ENCODABLE_FORMATS, decode, encode_audio, load_audio, save_audio
from earful.errors import AudioDecodeError

FORMATS = ["wav", "flac", "mp3", "ogg", "opus", "m4a", "webm"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_to_same_duration(test_data: Path, fmt: str) -> None:
    reference = decode(test_data / "jfk.wav", 16000)
    audio = decode(test_data / f"jfk.{fmt}", 16000)
    assert audio.sample_rate == 16000
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert abs(audio.duration - reference.duration) <= 0.010


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "m4a"])
def test_lossy_formats_keep_the_signal(test_data: Path, fmt: str) -> None:
    # A lossy round trip must still be the same speech: strongly correlated with the source.
    ref = decode(test_data / "jfk.wav", 16000).samples
    got = decode(test_data / f"jfk.{fmt}", 16000).samples[: ref.size]
    n = min(ref.size, got.size)
    lag_corr = max(np.corrcoef(ref[: n - k], got[k:n])[0, 1] for k in range(0, 1200, 1))
    assert lag_corr > 0.9


def test_path_bytes_and_file_object_agree(test_data: Path) -> None:
    path = test_data / "jfk.flac"
    a = load_audio(path)
    b = load_audio(path.read_bytes())
    with open(path, "rb") as fh:
        c = load_audio(fh)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_stereo_high_rate_is_downmixed_and_resampled(test_data: Path) -> None:
    audio = decode(test_data / "jfk_stereo_44k.flac", 16000)
    raw, rate = sf.read(test_data / "jfk_stereo_44k.flac", always_2d=True)
    assert (audio.source_channels, audio.source_sample_rate) == (2, 44100)
    assert audio.duration == pytest.approx(raw.shape[0] / rate, abs=1e-3)


def test_keep_native_rate(test_data: Path) -> None:
    audio = decode(test_data / "digit_7.wav", None)
    assert audio.sample_rate == 8000 == audio.source_sample_rate


def test_eight_channel_96k_wav() -> None:
    sr = 96000
    t = np.arange(sr // 2) / sr
    multi = np.stack([0.1 * np.sin(2 * np.pi * 440 * (c + 1) * t) for c in range(8)], axis=1)
    buf = io.BytesIO()
    sf.write(buf, multi, sr, format="WAV", subtype="FLOAT")
    audio = decode(buf.getvalue(), 16000)
    assert audio.source_channels == 8 and audio.duration == pytest.approx(0.5, abs=1e-3)


def _wav_bytes(samples: np.ndarray, sr: int = 16000, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


BAD_INPUTS = {
    "empty": b"",
    "zero_samples": _wav_bytes(np.zeros(0, dtype=np.float32)),
    "truncated_header": _wav_bytes(np.zeros(1600, dtype=np.float32))[:30],
    "text_renamed": b"This is a plain text file, not audio.\n" * 20,
    "random_bytes": np.random.default_rng(7).bytes(4096),
    "nan_float_wav": _wav_bytes(np.array([0.1, np.nan, np.inf] * 100, dtype=np.float32),
                                subtype="FLOAT"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_raises_typed_error_naming_the_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.wav"
    path.write_bytes(BAD_INPUTS[kind])
    with pytest.raises(AudioDecodeError) as info:
        decode(path)
    assert str(path) in str(info.value)
    assert info.value.reason
    with pytest.raises(AudioDecodeError):
        decode(BAD_INPUTS[kind], name="upload.wav")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="not found"):
        decode(tmp_path / "nope.wav")


@pytest.mark.parametrize("fmt", ENCODABLE_FORMATS)
def test_encode_round_trip(fmt: str) -> None:
    sr = 16000
    x = (0.3 * np.sin(2 * np.pi * 300 * np.arange(sr) / sr)).astype(np.float32)
    back = decode(encode_audio(x, sr, fmt), sr)
    # Raw ADTS AAC states no length, so its encoder padding (< 2 frames) cannot be trimmed.
    assert back.duration == pytest.approx(1.0, abs=0.15 if fmt == "aac" else 0.01)


def test_save_audio_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    x = np.zeros(1600, dtype=np.float32)
    dest = save_audio(tmp_path / "out.flac", x, 16000)
    assert dest.exists() and os.listdir(tmp_path) == ["out.flac"]
    assert struct.unpack("4s", dest.read_bytes()[:4])[0] == b"fLaC"
