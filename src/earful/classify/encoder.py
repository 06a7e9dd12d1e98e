"""A pretrained Whisper encoder as a frozen front end for classification.

With a few thousand labelled clips, a CNN trained from scratch on log-mel features learns
the speakers it was shown; Whisper's encoder was trained on 680,000 hours of speech and
already maps many voices saying one word to similar frames. Here the encoder stays frozen:
each clip's frames are computed once (``encode_examples``, cached on disk) and only a small
head (``head.py``) is trained on them.

The encoder runs through CTranslate2 (the same faster-whisper model the ASR uses, from the
model manager, so the service holds one copy). Clips are not padded to Whisper's 30 s window:
1 s of audio is 100 mel frames and 50 encoder frames, which keeps inference near 15 ms.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from earful.audio.constants import SAMPLE_RATE
from earful.audio.transforms import add_noise, resample, time_shift
from earful.classify.data import Example
from earful.classify.features import (
    FeatureConfig,
    cache_path,
    fit_length,
    load_example,
    load_or_compute,
)
from earful.errors import InvalidOptionError

if TYPE_CHECKING:
    from earful.asr.options import ModelSpec

logger = logging.getLogger(__name__)

HOP = 160  # Whisper's mel hop: 100 frames per second; the encoder halves that.


@dataclass(frozen=True)
class EncoderConfig:
    """Which Whisper encoder turns clips into frames. Stored in every checkpoint."""

    model: str = "tiny.en"
    """faster-whisper model name (``tiny.en`` and ``base`` are bundled) or folder."""
    clip_seconds: float = 1.0
    """Clips are cut or zero-padded (centred) to this length; at most 30 s."""
    compute_type: str = "int8"
    """CTranslate2 compute type."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for out-of-range values."""
        if not 0.02 <= self.clip_seconds <= 30.0:
            raise InvalidOptionError("clip_seconds must be in [0.02, 30] for a Whisper encoder")
        if not self.model:
            raise InvalidOptionError("an encoder model name is required")

    @property
    def samples(self) -> int:
        """Clip length in samples at 16 kHz."""
        return round(self.clip_seconds * SAMPLE_RATE)

    @property
    def mel_frames(self) -> int:
        """Mel frames fed to the encoder (even: its second convolution has stride 2)."""
        return 2 * max(1, self.samples // (2 * HOP))

    def feature_config(self) -> FeatureConfig:
        """The clip geometry as a :class:`FeatureConfig` (used for decoding and windows)."""
        return FeatureConfig(sample_rate=SAMPLE_RATE, clip_seconds=self.clip_seconds)

    def spec(self, base: ModelSpec | None = None) -> ModelSpec:
        """The faster-whisper model spec of this encoder: its model and compute type, with
        the device, threads and cache folder of ``base`` (the service passes its ASR spec,
        so both share one loaded model)."""
        from earful.asr.options import ModelSpec

        return (base or ModelSpec()).with_(name=self.model, engine="faster-whisper",
                                          compute_type=self.compute_type)


def encode_clips(clips: np.ndarray, cfg: EncoderConfig, batch: int = 64,
                 base: ModelSpec | None = None) -> np.ndarray:
    """Encoder frames for fixed-length 16 kHz clips (N, samples) -> (N, frames, dim).

    ``base`` gives the device, threads and cache folder (see :meth:`EncoderConfig.spec`).
    """
    from earful.asr.engines import use_model

    with use_model(cfg.spec(base)) as wm:
        return _encode(wm, clips, cfg, batch)


def _encode(wm: Any, clips: np.ndarray, cfg: EncoderConfig, batch: int) -> np.ndarray:
    import ctranslate2

    n = cfg.mel_frames
    out = []
    for i in range(0, len(clips), batch):
        # faster-whisper's extractor pads by one hop; the last frame is dropped.
        mels = np.stack([wm.feature_extractor(fit_length(c, cfg.samples))[:, :n]
                         for c in clips[i:i + batch]]).astype(np.float32)
        enc = wm.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mels)),
                              to_cpu=True)
        out.append(np.asarray(enc, dtype=np.float32))
    if not out:
        return np.zeros((0, n // 2, 0), np.float32)
    return np.concatenate(out)


@dataclass(frozen=True)
class CopyAugment:
    """Randomised audio for extra encoded copies of the training split."""

    speed: float = 0.1
    """Speed perturbation: resampled by a factor in [1 - speed, 1 + speed] (pitch and
    tempo change together, as in Kaldi's speed perturbation)."""
    shift_seconds: float = 0.1
    """Largest time shift either way."""
    snr_db: tuple[float, float] = (0.0, 20.0)
    """Background noise is mixed in at an SNR drawn from this range (when noise is given)."""
    noise_probability: float = 0.8
    """Share of copies that get background noise."""

    def __post_init__(self) -> None:
        if not 0 <= self.speed < 0.5 or self.shift_seconds < 0 or \
                self.snr_db[0] > self.snr_db[1] or not 0 <= self.noise_probability <= 1:
            raise InvalidOptionError("speed must be in [0, 0.5), shift_seconds >= 0, "
                                     "snr_db a (low, high) range, noise_probability in [0, 1]")


def perturb(audio: np.ndarray, cfg: EncoderConfig, rng: np.random.Generator,
            noise: Sequence[np.ndarray], aug: CopyAugment) -> np.ndarray:
    """One randomised copy of a clip (fixed length) for training."""
    factor = 1.0 + rng.uniform(-aug.speed, aug.speed)
    if aug.speed:
        # Played back at SAMPLE_RATE, audio resampled to rate / factor runs `factor` faster.
        audio = resample(audio, SAMPLE_RATE, max(1, round(SAMPLE_RATE / factor)))
    clip = fit_length(audio, cfg.samples)
    shift = round(rng.uniform(-aug.shift_seconds, aug.shift_seconds) * SAMPLE_RATE)
    clip = time_shift(clip, shift)
    if noise and rng.random() < aug.noise_probability and np.any(clip):
        bed = fit_length(noise[int(rng.integers(len(noise)))], cfg.samples)
        if np.any(bed):
            clip = add_noise(clip, float(rng.uniform(*aug.snr_db)), bed, seed=rng)
    return clip.astype(np.float32)


def encode_examples(examples: Sequence[Example], cfg: EncoderConfig,
                    cache_dir: Path | None = None, *, copy_seed: int | None = None,
                    noise: Sequence[Example] = (), aug: CopyAugment | None = None,
                    progress: bool = True) -> np.ndarray:
    """Encoder frames for every example (N, frames, dim), cached on disk by content.

    With ``copy_seed`` each clip is first perturbed (``perturb``) with that seed, giving one
    reproducible augmented copy of the set; ``noise`` clips supply the background.
    """
    from tqdm import tqdm

    aug = aug or CopyAugment()
    copied = copy_seed is not None
    settings = {**asdict(cfg), "copy_seed": copy_seed, "aug": asdict(aug) if copied else None,
                "noise": [str(e.path) for e in noise] if copied else None}

    def compute() -> np.ndarray:
        fcfg = cfg.feature_config()
        rng = np.random.default_rng(copy_seed)
        beds = [load_example(e, fcfg) for e in noise] if copied else []
        clips = np.empty((len(examples), cfg.samples), np.float32)
        for i, e in enumerate(tqdm(examples, desc="decode", unit="clip", disable=not progress,
                                   leave=False)):
            audio = load_example(e, fcfg)
            clips[i] = (perturb(audio, cfg, rng, beds, aug) if copied
                        else fit_length(audio, cfg.samples))
        return encode_clips(clips, cfg).astype(np.float16)  # half the cache; fp32 to train

    return load_or_compute(cache_path(cache_dir, "encoder", settings, examples), compute)
