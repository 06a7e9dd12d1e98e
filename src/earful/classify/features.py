"""Fixed-length mel-power features for classification, computed once and cached.

The cache holds *linear* mel power, not its log: powers of uncorrelated signals add, so
background noise can be mixed in at any SNR on the cached features during training
(``augment.py``) without decoding audio again. The model sees ``log(power + eps)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from earful.audio.features import MelOptions, StftOptions, mel_power
from earful.audio.io import load_audio
from earful.classify.data import Example
from earful.errors import InvalidOptionError
from earful.fsutil import atomic_write

logger = logging.getLogger(__name__)

LOG_EPS = 1e-6


@dataclass(frozen=True)
class FeatureConfig:
    """How a clip becomes a model input. Stored in every checkpoint."""

    sample_rate: int = 16000
    """Audio is resampled to this rate."""
    clip_seconds: float = 1.0
    """Clips are cut or zero-padded (centred) to this length."""
    n_mels: int = 40
    """Mel bands."""
    n_fft: int = 480
    """FFT size (30 ms at 16 kHz)."""
    hop_length: int = 160
    """Frame step (10 ms at 16 kHz)."""
    fmin: float = 20.0
    """Lowest mel band edge in Hz."""
    fmax: float = 7600.0
    """Highest mel band edge in Hz."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for out-of-range values."""
        if self.sample_rate <= 0 or self.clip_seconds <= 0:
            raise InvalidOptionError("sample_rate and clip_seconds must be positive")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise InvalidOptionError("need 0 <= fmin < fmax <= sample_rate / 2")
        MelOptions(StftOptions(self.n_fft, self.hop_length), self.n_mels, self.fmin, self.fmax)

    @property
    def samples(self) -> int:
        """Clip length in samples."""
        return round(self.clip_seconds * self.sample_rate)

    @property
    def frames(self) -> int:
        """Frames per clip."""
        return 1 + self.samples // self.hop_length

    def mel_options(self) -> MelOptions:
        """The equivalent :class:`MelOptions`."""
        return MelOptions(StftOptions(self.n_fft, self.hop_length), self.n_mels, self.fmin,
                          self.fmax)


def fit_length(audio: np.ndarray, n: int) -> np.ndarray:
    """Centre-crop or centre-pad to ``n`` samples."""
    if audio.size >= n:
        start = (audio.size - n) // 2
        return audio[start:start + n]
    left = (n - audio.size) // 2
    return np.pad(audio, (left, n - audio.size - left))


def clip_power(audio: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Mel power of one clip, shape (n_mels, frames), float32."""
    return mel_power(fit_length(audio, cfg.samples), cfg.sample_rate,
                     cfg.mel_options()).astype(np.float32)


def to_log(power: np.ndarray) -> np.ndarray:
    """Model input from mel power."""
    return np.log(power + LOG_EPS).astype(np.float32)


def load_example(e: Example, cfg: FeatureConfig) -> np.ndarray:
    if e.offset:
        import soundfile as sf

        info = sf.info(e.path)
        start = int(e.offset * info.samplerate)
        raw, rate = sf.read(e.path, start=start, frames=int(cfg.clip_seconds * info.samplerate),
                            dtype="float32", always_2d=True)
        from earful.audio.transforms import resample

        return resample(raw.mean(axis=1), rate, cfg.sample_rate)
    return load_audio(e.path, cfg.sample_rate)


def compute_features(examples: Sequence[Example], cfg: FeatureConfig,
                     cache_dir: Path | None = None, progress: bool = True) -> np.ndarray:
    """Mel power for every example, shape (N, n_mels, frames), cached on disk by content.

    The cache key covers the feature config and every file's path, size and mtime, so a
    changed file or setting is recomputed, never served stale.
    """
    from tqdm import tqdm

    def compute() -> np.ndarray:
        out = np.empty((len(examples), cfg.n_mels, cfg.frames), np.float32)
        for i, e in enumerate(tqdm(examples, desc="features", unit="clip",
                                   disable=not progress, leave=False)):
            out[i] = clip_power(load_example(e, cfg), cfg)
        return out

    return load_or_compute(cache_path(cache_dir, "features", asdict(cfg), examples), compute)


def cache_path(cache_dir: Path | None, prefix: str, settings: dict[str, Any],
               examples: Sequence[Example]) -> Path | None:
    """A cache file named by a hash of ``settings`` and every example's path, offset, size
    and mtime, so a changed file or setting is recomputed, never served stale."""
    if cache_dir is None:
        return None
    key = hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode())
    for e in examples:
        st = e.path.stat()
        key.update(f"{e.path}|{e.offset}|{st.st_size}|{st.st_mtime_ns}".encode())
    return cache_dir / f"{prefix}-{key.hexdigest()[:16]}.npy"


def load_or_compute(cache: Path | None, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The array in ``cache`` if it is there, else ``compute()``, saved atomically."""
    if cache is not None and cache.is_file():
        logger.info("from cache %s", cache)
        return np.load(cache)
    out = compute()
    if cache is not None:
        with atomic_write(cache, "wb") as fh:
            np.save(fh, out)
    return out
