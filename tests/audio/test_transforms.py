"""Transforms measured against what they promise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earful.audio import transforms as tr
from earful.audio.io import load_audio
from earful.errors import InvalidOptionError
from tests.conftest import dominant_frequency, tone


@pytest.mark.parametrize("noise", ["white", "pink", "recording"])
@pytest.mark.parametrize("snr", [20.0, 10.0, 5.0, 0.0, -5.0])
def test_measured_snr_matches_request(test_data: Path, noise: str, snr: float) -> None:
    speech = load_audio(test_data / "jfk.wav")
    kind = load_audio(test_data / "background_noise.wav") if noise == "recording" else noise
    noisy = tr.add_noise(speech, snr, kind, seed=3)  # type: ignore[arg-type]
    assert tr.snr_db(speech, noisy - speech) == pytest.approx(snr, abs=0.2)


def test_noise_is_seeded() -> None:
    x = tone(440)
    np.testing.assert_array_equal(tr.add_noise(x, 10, seed=1), tr.add_noise(x, 10, seed=1))
    assert not np.array_equal(tr.add_noise(x, 10, seed=1), tr.add_noise(x, 10, seed=2))


def test_pink_noise_falls_3db_per_octave() -> None:
    n = tr.pink_noise(2**18, seed=0)
    spec = np.abs(np.fft.rfft(n)) ** 2
    freqs = np.fft.rfftfreq(n.size, 1 / 16000)
    band = lambda lo: spec[(freqs >= lo) & (freqs < 2 * lo)].mean()  # noqa: E731
    # 1/f power: each octave band's mean power density halves (-3 dB).
    assert 10 * np.log10(band(1000) / band(500)) == pytest.approx(-3.0, abs=0.5)


def test_silent_signal_has_no_snr() -> None:
    with pytest.raises(InvalidOptionError):
        tr.add_noise(np.zeros(100, dtype=np.float32), 10)


@pytest.mark.parametrize("rate", [0.5, 0.8, 1.25, 2.0])
def test_time_stretch_changes_duration_by_inverse_rate(test_data: Path, rate: float) -> None:
    speech = load_audio(test_data / "jfk.wav")
    out = tr.time_stretch(speech, rate)
    assert out.size / speech.size == pytest.approx(1 / rate, rel=0.01)


def test_time_stretch_keeps_pitch() -> None:
    x = tone(440, 2.0)
    assert dominant_frequency(tr.time_stretch(x, 1.5), 16000) == pytest.approx(440, abs=8)


def test_pitch_shift_octave_keeps_length() -> None:
    x = tone(440, 1.0)
    out = tr.pitch_shift(x, 16000, 12)
    assert out.size == x.size
    assert dominant_frequency(out, 16000) == pytest.approx(880, abs=10)


@pytest.mark.parametrize(("orig", "target"), [(16000, 8000), (16000, 44100), (44100, 22050)])
def test_resample_round_trip_keeps_tone(orig: int, target: int) -> None:
    x = tone(1000, 1.0, sr=orig)
    there = tr.resample(x, orig, target)
    back = tr.resample(there, target, orig)
    assert there.size == pytest.approx(target, abs=1)
    assert dominant_frequency(there, target) == pytest.approx(1000, abs=2)
    assert dominant_frequency(back, orig) == pytest.approx(1000, abs=2)
    core = slice(1000, -1000)  # filter edges aside, the round trip is near-transparent
    assert np.max(np.abs(back[core] - x[core])) < 0.01


def test_gain_and_shift() -> None:
    x = tone(200)
    assert tr.dbfs(tr.gain(x, -6))[0] == pytest.approx(tr.dbfs(x)[0] - 6, abs=1e-3)
    shifted = tr.time_shift(x, 100)
    assert shifted.size == x.size and np.all(shifted[:100] == 0)
    np.testing.assert_array_equal(shifted[100:], x[:-100])
    np.testing.assert_array_equal(tr.time_shift(x, -50, roll=True), np.roll(x, -50))
