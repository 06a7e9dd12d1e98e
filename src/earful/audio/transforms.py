"""Audio transforms for augmentation and teaching: resample, noise at an SNR, stretch, shift.

All functions are pure: they take arrays (and a seed where randomness is involved) and
return new arrays. The same seed always gives the same output.
"""

from __future__ import annotations

from typing import Literal

import librosa
import numpy as np
import soxr

from earful.errors import InvalidOptionError

NoiseKind = Literal["white", "pink"]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def resample(samples: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling with soxr's high-quality filter."""
    if orig_rate <= 0 or target_rate <= 0:
        raise InvalidOptionError("sample rates must be positive")
    if orig_rate == target_rate:
        return np.asarray(samples, dtype=np.float32).copy()
    return soxr.resample(np.asarray(samples, dtype=np.float32), orig_rate, target_rate, "HQ")


def white_noise(n: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Gaussian white noise with unit variance."""
    return _rng(seed).standard_normal(n).astype(np.float32)


def pink_noise(n: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Pink (1/f power) noise with unit variance, shaped from white noise by FFT."""
    spectrum = np.fft.rfft(_rng(seed).standard_normal(n))
    freqs = np.arange(spectrum.size, dtype=np.float64)
    freqs[0] = 1.0  # keep DC finite; it is removed below anyway
    spectrum /= np.sqrt(freqs)
    spectrum[0] = 0.0
    pink = np.fft.irfft(spectrum, n)
    return (pink / (pink.std() or 1.0)).astype(np.float32)


def power(samples: np.ndarray) -> float:
    """Mean square of the samples."""
    x = np.asarray(samples, dtype=np.float64)
    return float(np.mean(x * x)) if x.size else 0.0


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """Signal-to-noise ratio in dB of a clean signal and the noise added to it."""
    return 10.0 * np.log10(power(signal) / power(noise))


def add_noise(samples: np.ndarray, snr: float, noise: NoiseKind | np.ndarray = "white",
              seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Add noise scaled so that the result has exactly the requested SNR.

    Args:
        samples: Clean mono signal.
        snr: Target signal-to-noise ratio in dB.
        noise: ``"white"``, ``"pink"``, or a noise recording at the same rate (tiled if
            shorter, a random excerpt if longer).
        seed: Seed or generator for the noise and the excerpt position.

    Returns:
        ``samples + scaled_noise`` as float32 (not clipped, so the SNR stays exact).
    """
    x = np.asarray(samples, dtype=np.float32)
    p_signal = power(x)
    if p_signal == 0.0:
        raise InvalidOptionError("cannot set an SNR for a silent signal")
    rng = _rng(seed)
    if isinstance(noise, str):
        if noise not in ("white", "pink"):
            raise InvalidOptionError(f"noise must be 'white', 'pink' or an array, got {noise!r}")
        n = white_noise(x.size, rng) if noise == "white" else pink_noise(x.size, rng)
    else:
        rec = np.asarray(noise, dtype=np.float32).ravel()
        if rec.size == 0 or power(rec) == 0.0:
            raise InvalidOptionError("the noise recording is empty or silent")
        if rec.size < x.size:
            rec = np.tile(rec, int(np.ceil(x.size / rec.size)))
        start = int(rng.integers(0, rec.size - x.size + 1))
        n = rec[start:start + x.size]
    scale = np.sqrt(p_signal / (power(n) * 10.0 ** (snr / 10.0)))
    return (x + scale * n).astype(np.float32)


def time_stretch(samples: np.ndarray, rate: float) -> np.ndarray:
    """Change speed by ``rate`` (2.0 = twice as fast) without changing pitch (phase vocoder)."""
    if rate <= 0:
        raise InvalidOptionError(f"rate must be positive, got {rate}")
    return librosa.effects.time_stretch(np.asarray(samples, dtype=np.float32), rate=rate)


def pitch_shift(samples: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """Shift pitch by ``semitones`` without changing duration."""
    return librosa.effects.pitch_shift(np.asarray(samples, dtype=np.float32), sr=sample_rate,
                                       n_steps=semitones)


def gain(samples: np.ndarray, db: float) -> np.ndarray:
    """Scale by ``db`` decibels."""
    return (np.asarray(samples, dtype=np.float32) * np.float32(10.0 ** (db / 20.0)))


def time_shift(samples: np.ndarray, shift: int, *, roll: bool = False) -> np.ndarray:
    """Move the signal by ``shift`` samples (positive = later), keeping the length.

    With ``roll`` the samples pushed off one end come back at the other; otherwise the gap
    is filled with zeros.
    """
    x = np.asarray(samples, dtype=np.float32)
    if roll:
        return np.roll(x, shift)
    out = np.zeros_like(x)
    if shift >= 0:
        out[shift:] = x[:x.size - shift] if shift < x.size else []
    else:
        out[:shift] = x[-shift:]
    return out


def dbfs(samples: np.ndarray) -> tuple[float, float]:
    """RMS and peak level in dB relative to full scale (-inf for silence)."""
    x = np.asarray(samples, dtype=np.float64)
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    with np.errstate(divide="ignore"):
        return float(20 * np.log10(rms)), float(20 * np.log10(peak))
