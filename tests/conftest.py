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


def tone(freq: float, seconds: float = 1.0, sr: int = 16000, amp: float = 0.5) -> np.ndarray:
    """A pure sine tone, float32."""
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(x: np.ndarray, sr: int) -> float:
    """Frequency of the strongest FFT bin, for checking tones."""
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / sr)[int(np.argmax(spec))])
