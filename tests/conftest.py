"""Shared fixtures: the bundled test clips and the optional shared data sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earful.config import Settings

TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Folder of small real clips shipped with the repository (see data/README.md)."""
    return TEST_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data sets, from EARFUL_DATA; tests that need them skip without."""
    data = Settings().data
    if data is None or not data.is_dir():
        pytest.skip("shared data sets not available: set EARFUL_DATA to the data folder "
                    "(make test sets it to ../shared/data when that exists)")
    return data


@pytest.fixture(scope="session")
def sentences(test_data: Path) -> list[tuple[np.ndarray, str]]:
    """JFK and two read sentences, as (16 kHz audio, text), all with different words."""
    from earful.audio.io import load_audio

    return [(load_audio(test_data / f"{name}.flac"), (test_data / f"{name}.txt").read_text())
            for name in ("jfk", "printer", "prison")]


def end_to_end(clips: list[tuple[np.ndarray, str]], gap_seconds: float
               ) -> tuple[np.ndarray, str]:
    """Clips laid end to end with silence between them, and their text.

    Long audio in tests is different sentences end to end, never one sentence repeated: a
    sentence repeated within one 30 s window looks to Whisper's compression-ratio check like
    a repetition loop, fails it, and is decoded again at random temperatures.
    """
    gap = np.zeros(round(gap_seconds * 16000), np.float32)
    audio = np.concatenate([part for clip, _ in clips for part in (gap, clip)][1:])
    return audio, " ".join(text.strip() for _, text in clips)


def tone(freq: float, seconds: float = 1.0, sr: int = 16000, amp: float = 0.5) -> np.ndarray:
    """A pure sine tone, float32."""
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(x: np.ndarray, sr: int) -> float:
    """Frequency of the strongest FFT bin, for checking tones."""
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / sr)[int(np.argmax(spec))])
