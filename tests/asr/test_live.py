"""Live building blocks: G.711 decoding, turn detection on real speech, stable partials."""

from __future__ import annotations

import audioop
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from earful.asr.live import TurnDetection, TurnTracker, decode_input, stable_words
from earful.errors import InvalidOptionError


@pytest.mark.parametrize("encoding,reference", [("g711_ulaw", audioop.ulaw2lin),
                                                ("g711_alaw", audioop.alaw2lin)])
def test_g711_tables_match_the_standard_decoder(encoding: str, reference: object) -> None:
    codes = bytes(range(256))
    expected = np.frombuffer(reference(codes, 2), "<i2") / 32768.0  # type: ignore[operator]
    assert np.array_equal(decode_input(codes, encoding), expected.astype(np.float32))  # type: ignore[arg-type]


def test_pcm16_decoding_and_odd_length() -> None:
    pcm = np.array([0, 16384, -32768], "<i2").tobytes()
    assert decode_input(pcm, "pcm16").tolist() == [0.0, 0.5, -1.0]
    with pytest.raises(InvalidOptionError, match="16-bit"):
        decode_input(pcm[:-1], "pcm16")


def test_turns_found_in_real_speech_with_pauses(test_data: Path) -> None:
    audio, rate = sf.read(test_data / "jfk.wav", dtype="float32")
    audio = soxr.resample(audio, rate, 16000)
    silence = np.zeros(16000 * 2, np.float32)
    stream = np.concatenate([silence, audio, silence, audio, silence])
    tracker = TurnTracker(TurnDetection(silence_duration_ms=1200))
    events, turns = [], []
    for i in range(0, stream.size, 1600):  # 100 ms at a time, as a client sends
        new, turn = tracker.feed(stream[i:i + 1600])
        events += new
        turns += [turn] if turn is not None else []
    names = [e[0] for e in events]
    assert names == ["speech_started", "speech_stopped"] * len(turns) and len(turns) == 2
    first, second = turns
    # Each turn holds one reading (11 s), starting near where the speech does.
    assert 1700 <= first.start_ms <= 2600 and 9.0 <= first.audio.size / 16000 <= 12.5
    assert second.start_ms - first.start_ms == pytest.approx(13000, abs=800)
    # While nobody talks, only the prefix padding is kept.
    assert tracker.buffered_seconds <= 0.3 + 0.2 + 1e-6


def test_stable_words_grow_only_by_agreement() -> None:
    assert stable_words(None, ["ask", "not", "what", "your"]) == ["ask", "not"]
    assert stable_words(["ask", "not", "what"], ["Ask", "not,", "what", "your"]) == \
        ["Ask", "not,", "what"]
    assert stable_words(["ask", "knot"], ["ask", "not", "what"]) == ["ask"]
