"""WORLD conversion: each step checked on real speech."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from earful.audio.transforms import resample
from earful.errors import InvalidOptionError
from earful.tts.convert import (
    RATE,
    ConvertOptions,
    VoiceProfile,
    analyse_voice,
    convert,
    fit_warp,
    plan_conversion,
    warp_envelope,
)
from earful.tts.piper_engine import SpeakOptions, speak


@pytest.fixture(scope="module")
def piper_speech(piper_voice: Any) -> Any:
    return speak(piper_voice, "We were away a year ago, and you were alone all along.",
                 SpeakOptions(noise_scale=0.3, noise_w=0.0))


def test_profile_of_a_male_reference(jfk_reference: Any) -> None:
    profile = analyse_voice(jfk_reference.samples, jfk_reference.sample_rate)
    assert 90 < profile.f0_hz < 260  # an adult male voice, raised in oratory
    assert profile.voiced_seconds > 3
    again = VoiceProfile.from_bytes(profile.to_bytes())
    assert again.log_f0_mean == profile.log_f0_mean
    np.testing.assert_array_equal(again.envelope, profile.envelope)


def test_unvoiced_reference_is_refused() -> None:
    noise = np.random.default_rng(0).normal(0, 0.1, 4 * RATE).astype(np.float32)
    with pytest.raises(InvalidOptionError, match="voiced speech"):
        analyse_voice(noise, RATE)


def test_warp_identity_and_recovery(jfk_reference: Any) -> None:
    env = analyse_voice(jfk_reference.samples, jfk_reference.sample_rate).envelope
    np.testing.assert_allclose(warp_envelope(env, 1.0), env)
    stretched = warp_envelope(env, 1.12)
    assert abs(fit_warp(env, stretched, 0.2) - 1.12) < 0.02
    # The prior pulls an ambiguous fit toward itself, never beyond the allowed range.
    assert 1 / 1.2 <= fit_warp(env, stretched, 0.2, prior=0.9, prior_weight=1e6) <= 0.91


def _pitch_ratio(converted: np.ndarray, original: Any) -> float:
    """Median frame-by-frame F0 ratio over frames voiced in both signals."""
    import pyworld

    def track(x: np.ndarray) -> np.ndarray:
        f0, _ = pyworld.harvest(x.astype(np.float64), RATE, frame_period=5.0)
        return np.asarray(f0)

    a = track(converted)
    b = track(resample(original.samples, original.sample_rate, RATE))
    n = min(a.size, b.size)
    both = (a[:n] > 0) & (b[:n] > 0)
    return float(np.median(a[:n][both] / b[:n][both]))


def test_conversion_moves_pitch_by_the_planned_amount(piper_speech: Any) -> None:
    opts = ConvertOptions()
    source = analyse_voice(piper_speech.samples, piper_speech.sample_rate, opts)
    higher = replace(source, log_f0_mean=source.log_f0_mean + np.log(1.5))
    out = convert(piper_speech.samples, piper_speech.sample_rate,
                  plan_conversion(source, higher, opts), opts)
    assert abs(len(out) / RATE - piper_speech.duration) < 0.05
    assert 1.4 < _pitch_ratio(out, piper_speech) < 1.6
    # strength 0 leaves the voice where it was
    off = replace(opts, strength=0.0)
    same = convert(piper_speech.samples, piper_speech.sample_rate,
                   plan_conversion(source, higher, off), off)
    assert 0.95 < _pitch_ratio(same, piper_speech) < 1.05


def test_options_are_validated() -> None:
    for bad in ({"strength": 1.5}, {"max_warp": 0.9}, {"f0_floor": 600.0},
                {"frame_period_ms": 0.1}, {"eq_smoothing_hz": 0.0}):
        with pytest.raises(InvalidOptionError):
            ConvertOptions(**bad)  # type: ignore[arg-type]
