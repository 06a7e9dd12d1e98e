"""Offline voice conversion with WORLD analysis and synthesis (pyworld).

The offline cloning engine speaks the text with a Piper voice, then moves the result toward
a reference speaker. Every parameter is measured from the reference's acoustics:

* **pitch**: voiced-frame log-F0 mean and spread are mapped from the source to the target;
* **vocal-tract length**: the spectral envelope is stretched along frequency by the factor
  that best aligns the two speakers' average envelopes (their formant pattern);
* **timbre and channel**: what remains between the average envelopes, smoothed and bounded,
  is applied as an equaliser.

Aperiodicity (breathiness) stays the source's, so the output is clean speech.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from earful.audio.transforms import resample
from earful.errors import DependencyMissingError, InvalidOptionError

#: Rate at which voices are analysed and converted (Piper's medium voices use it).
RATE = 22050
FFT_SIZE = 1024
#: Exponent relating the pitch ratio of two speakers to their formant (stretch) ratio.
PITCH_TO_FORMANT = 0.3
_LN_PER_DB = np.log(10.0) / 10.0  # log-power units per decibel


@dataclass(frozen=True)
class ConvertOptions:
    """How far and how the conversion moves the voice."""

    frame_period_ms: float = 5.0
    """WORLD analysis hop in milliseconds."""
    f0_floor: float = 60.0
    """Lowest pitch searched, in Hz."""
    f0_ceil: float = 500.0
    """Highest pitch searched, in Hz."""
    max_warp: float = 0.2
    """Largest frequency stretch: the factor stays within [1/(1+max_warp), 1+max_warp]."""
    max_eq_db: float = 12.0
    """Largest boost or cut of the equaliser, in dB."""
    warp_prior_weight: float = 20.0
    """How strongly the stretch is held near what the pitch difference predicts (0: the
    envelope fit alone decides)."""
    eq_smoothing_hz: float = 250.0
    """Width of the moving average that smooths the equaliser curve."""
    strength: float = 1.0
    """0 keeps the source voice, 1 applies the full conversion."""

    def __post_init__(self) -> None:
        if not 1.0 <= self.frame_period_ms <= 20.0:
            raise InvalidOptionError("frame_period_ms must be between 1 and 20")
        if not 20.0 <= self.f0_floor < self.f0_ceil <= 1200.0:
            raise InvalidOptionError("need 20 <= f0_floor < f0_ceil <= 1200")
        if not 0.0 <= self.max_warp <= 0.5:
            raise InvalidOptionError("max_warp must be between 0 and 0.5")
        if not 0.0 <= self.max_eq_db <= 30.0:
            raise InvalidOptionError("max_eq_db must be between 0 and 30")
        if self.warp_prior_weight < 0:
            raise InvalidOptionError("warp_prior_weight must be at least 0")
        if self.eq_smoothing_hz <= 0:
            raise InvalidOptionError("eq_smoothing_hz must be positive")
        if not 0.0 <= self.strength <= 1.0:
            raise InvalidOptionError("strength must be between 0 and 1")


@dataclass(frozen=True)
class VoiceProfile:
    """A speaker's average acoustics, measured from a recording."""

    log_f0_mean: float
    """Mean natural-log F0 of voiced frames."""
    log_f0_std: float
    """Standard deviation of voiced log-F0."""
    envelope: np.ndarray
    """Mean log-power spectral envelope of voiced frames (``FFT_SIZE // 2 + 1`` bins)."""
    voiced_seconds: float
    """How much voiced speech the profile was measured on."""
    syllable_rate: float = 0.0
    """Syllables per second of speech (pauses excluded); 0 when unknown."""

    @property
    def f0_hz(self) -> float:
        """Typical pitch in Hz."""
        return float(np.exp(self.log_f0_mean))

    def to_bytes(self) -> bytes:
        """Serialise (an ``.npz`` archive)."""
        buf = io.BytesIO()
        np.savez(
            buf,
            log_f0=np.array([self.log_f0_mean, self.log_f0_std]),
            envelope=self.envelope,
            voiced=np.array([self.voiced_seconds]),
            rate=np.array([self.syllable_rate]),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> VoiceProfile:
        """Read what :meth:`to_bytes` wrote."""
        with np.load(io.BytesIO(data)) as z:
            return cls(
                float(z["log_f0"][0]),
                float(z["log_f0"][1]),
                np.asarray(z["envelope"], dtype=np.float64),
                float(z["voiced"][0]),
                float(z["rate"][0]) if "rate" in z else 0.0,
            )


@dataclass(frozen=True)
class ConversionPlan:
    """What to do to one source voice to approach one target voice."""

    f0_shift: float
    """Target minus source mean log-F0."""
    f0_scale: float
    """Target over source log-F0 spread."""
    warp: float
    """Frequency stretch of the envelope (above 1 raises formants)."""
    eq: np.ndarray
    """Log-power gain per frequency bin, applied after warping."""
    source_log_f0_mean: float
    """The source's mean log-F0 (the centre of the pitch mapping)."""


def _world() -> Any:
    try:
        with warnings.catch_warnings():
            # pyworld imports pkg_resources (hence the tts extra's setuptools<81 pin).
            warnings.simplefilter("ignore", UserWarning)
            import pyworld
    except ImportError as e:
        raise DependencyMissingError("pyworld", "tts", "offline voice cloning") from e
    return pyworld


def _analyse(x: np.ndarray, opts: ConvertOptions) -> tuple[np.ndarray, ...]:
    pw = _world()
    x64 = np.ascontiguousarray(x, dtype=np.float64)
    # Harvest, not the faster DIO: on Piper's joe voice (about 100 Hz, with creak) DIO puts
    # half the voiced frames an octave too high, and resynthesis would sing them there.
    f0, t = pw.harvest(x64, RATE, f0_floor=opts.f0_floor, f0_ceil=opts.f0_ceil,
                       frame_period=opts.frame_period_ms)
    sp = pw.cheaptrick(x64, f0, t, RATE, fft_size=FFT_SIZE)
    return x64, f0, t, sp


def analyse_voice(
    samples: np.ndarray, sample_rate: int, opts: ConvertOptions | None = None
) -> VoiceProfile:
    """Measure a speaker's pitch and average envelope from a recording.

    Raises:
        InvalidOptionError: Less than half a second of voiced speech was found.
    """
    opts = opts or ConvertOptions()
    x = resample(np.asarray(samples, dtype=np.float32), sample_rate, RATE)
    _, f0, _, sp = _analyse(x, opts)
    voiced = f0 > 0
    seconds = float(voiced.sum() * opts.frame_period_ms / 1000.0)
    if seconds < 0.5:
        raise InvalidOptionError(
            f"the reference has {seconds:.2f} s of voiced speech; at least 0.5 s is needed"
        )
    log_f0 = np.log(f0[voiced])
    envelope = np.log(sp[voiced] + 1e-12).mean(axis=0)
    return VoiceProfile(float(log_f0.mean()), float(max(log_f0.std(), 1e-3)), envelope, seconds,
                        syllable_rate(x, voiced, opts.frame_period_ms))


def syllable_rate(x: np.ndarray, voiced: np.ndarray, frame_period_ms: float) -> float:
    """Syllables per second of speech, counted as loudness peaks in voiced stretches.

    Each syllable has one vowel, the loudest voiced part of it: peaks of the smoothed
    loudness at least 2 dB above the dips around them and 100 ms apart are counted, and
    divided by the speaking time (frames within 30 dB of the loudest, pauses excluded).
    """
    from scipy.signal import find_peaks

    hop = int(RATE * frame_period_ms / 1000)
    n = min(len(voiced), len(x) // hop)
    if n < 10:
        return 0.0
    frames = x[: n * hop].reshape(n, hop)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    smooth = np.convolve(level, np.ones(7) / 7, mode="same")
    speaking = smooth > smooth.max() - 30
    peaks, _ = find_peaks(np.where(voiced[:n], smooth, smooth.min()), prominence=2.0,
                          distance=max(1, int(100 / frame_period_ms)))
    seconds = speaking.sum() * frame_period_ms / 1000
    return float(len(peaks) / seconds) if seconds > 0.5 else 0.0


def warp_envelope(log_env: np.ndarray, factor: float) -> np.ndarray:
    """Stretch log envelopes (frames x bins, or one row) along frequency by ``factor``."""
    env = np.atleast_2d(log_env)
    bins = env.shape[-1]
    src = np.clip(np.arange(bins) / factor, 0, bins - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, bins - 1)
    frac = src - lo
    out = env[:, lo] * (1.0 - frac) + env[:, hi] * frac
    return out if log_env.ndim == 2 else out[0]


def _band(bins: int, lo_hz: float = 100.0, hi_hz: float = 5000.0) -> np.ndarray:
    freqs = np.arange(bins) * RATE / FFT_SIZE
    return (freqs >= lo_hz) & (freqs <= hi_hz)


def fit_warp(
    source: np.ndarray,
    target: np.ndarray,
    max_warp: float,
    *,
    prior: float = 1.0,
    prior_weight: float = 0.0,
) -> float:
    """The stretch that best aligns two average envelopes' shapes (formant positions).

    Compared on 100 Hz to 5 kHz after removing a straight-line tilt over log frequency,
    so level and tilt differences (the equaliser's job) do not pull the factor. A penalty
    ``prior_weight * log(factor / prior) ** 2`` keeps the factor near ``prior``.
    """
    band = _band(len(source))
    logf = np.log(np.arange(len(source))[band] + 1.0)
    design = np.stack([logf, np.ones_like(logf)], axis=1)
    best, best_err = 1.0, np.inf
    for factor in np.exp(np.linspace(-np.log1p(max_warp), np.log1p(max_warp), 41)):
        diff = target[band] - warp_envelope(source, factor)[band]
        coef, *_ = np.linalg.lstsq(design, diff, rcond=None)
        err = float(np.mean((diff - design @ coef) ** 2))
        err += prior_weight * float(np.log(factor / prior)) ** 2
        if err < best_err - 1e-9:
            best, best_err = float(factor), err
    return best


def plan_conversion(
    source: VoiceProfile, target: VoiceProfile, opts: ConvertOptions | None = None
) -> ConversionPlan:
    """Work out the pitch mapping, stretch and equaliser from two profiles."""
    opts = opts or ConvertOptions()
    # Longer vocal tracts go with lower voices: formants scale roughly with the cube root
    # of the pitch ratio (about 1.18 from a typical male to a typical female voice). The
    # envelope fit alone is noisy on a few seconds of reference, so it is pulled toward
    # that expectation.
    prior = float(np.exp(PITCH_TO_FORMANT * (target.log_f0_mean - source.log_f0_mean)))
    warp = fit_warp(
        source.envelope,
        target.envelope,
        opts.max_warp,
        prior=prior,
        prior_weight=opts.warp_prior_weight,
    )
    raw = target.envelope - warp_envelope(source.envelope, warp)
    width = max(1, round(opts.eq_smoothing_hz * FFT_SIZE / RATE))
    kernel = np.ones(width) / width
    smooth = np.convolve(np.pad(raw, width, mode="edge"), kernel, mode="same")[width:-width]
    smooth -= smooth[_band(len(smooth))].mean()  # level is set separately
    limit = opts.max_eq_db * _LN_PER_DB
    return ConversionPlan(
        f0_shift=target.log_f0_mean - source.log_f0_mean,
        f0_scale=target.log_f0_std / source.log_f0_std,
        warp=warp,
        eq=np.clip(smooth, -limit, limit),
        source_log_f0_mean=source.log_f0_mean,
    )


def convert(
    samples: np.ndarray, sample_rate: int, plan: ConversionPlan, opts: ConvertOptions | None = None
) -> np.ndarray:
    """Apply a conversion plan to speech; returns float32 samples at :data:`RATE`."""
    opts = opts or ConvertOptions()
    pw = _world()
    x = resample(np.asarray(samples, dtype=np.float32), sample_rate, RATE)
    if x.size < RATE // 10:
        return x
    x64, f0, t, sp = _analyse(x, opts)
    ap = pw.d4c(x64, f0, t, RATE, fft_size=FFT_SIZE)
    s = opts.strength
    voiced = f0 > 0
    log_f0 = np.log(np.where(voiced, f0, 1.0))
    mapped = (
        plan.source_log_f0_mean
        + s * plan.f0_shift
        + (log_f0 - plan.source_log_f0_mean) * (1.0 + s * (plan.f0_scale - 1.0))
    )
    new_f0 = np.where(voiced, np.exp(mapped), 0.0)
    log_sp = warp_envelope(np.log(sp + 1e-12), 1.0 + s * (plan.warp - 1.0)) + s * plan.eq
    y = pw.synthesize(
        new_f0, np.ascontiguousarray(np.exp(log_sp)), ap, RATE, frame_period=opts.frame_period_ms
    )
    # Keep the source's loudness; WORLD resynthesis changes it with the envelope.
    src_rms = float(np.sqrt(np.mean(x64**2)) + 1e-9)
    out_rms = float(np.sqrt(np.mean(y**2)) + 1e-9)
    y = y * (src_rms / out_rms)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0.99:
        y = y * (0.99 / peak)
    return y.astype(np.float32)
