"""Classify audio of any length with a trained checkpoint.

Clips up to the training window are scored once (centre-padded). Longer audio is scored
over sliding windows (half-window hop) and the result says so. How windows combine depends
on the checkpoint's background labels (``_silence_``, ``_unknown_`` for keyword spotting):
the window most confident in a foreground class decides, so a keyword in a long recording is
found rather than outvoted by the silence around it; without background labels (ESC-50,
digits) window probabilities are averaged.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from earful.classify.checkpoint import Model, load_checkpoint
from earful.classify.encoder import EncoderConfig, encode_clips
from earful.classify.features import FeatureConfig, clip_power, to_log
from earful.errors import InvalidOptionError
from earful.models import manager

if TYPE_CHECKING:
    from earful.asr.options import ModelSpec

WINDOWS = 64  # windows scored per batch

#: The default keyword-spotting model, shipped inside the package (package data, so an
#: installed wheel finds it): a head on the frozen Whisper tiny.en encoder (97.1% on unseen
#: speakers; the repository's models/kws12 is the log-mel CNN).
DEFAULT_MODEL = Path(str(resources.files("earful.classify") / "shipped" / "kws12-whisper"
                         / "model.pt"))


@dataclass(frozen=True)
class Prediction:
    """A classification result."""

    label: str
    score: float
    top_k: list[tuple[str, float]]
    windows: int = 1
    """How many windows were scored (1 = the clip fit the training window)."""
    window_labels: list[dict[str, Any]] = field(default_factory=list)
    """For long audio: each window's start time, top label and score."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"label": self.label, "score": self.score,
                "top_k": [{"label": lbl, "score": s} for lbl, s in self.top_k],
                "windows": self.windows, "window_labels": self.window_labels}


class Classifier:
    """A loaded checkpoint ready for inference."""

    def __init__(self, model: Model, meta: dict[str, Any]) -> None:
        self.model = model
        self.meta = meta
        self.labels: list[str] = list(meta["labels"])
        self.background = set(meta.get("background_labels", []))
        self.features = FeatureConfig(**meta["feature_config"])
        enc = meta.get("encoder_config")
        self.encoder = EncoderConfig(**enc) if enc else None
        """The frozen Whisper encoder an encoder-head checkpoint runs on (None for CNNs)."""

    @torch.no_grad()
    def probabilities(self, windows: np.ndarray,
                      encoder_base: ModelSpec | None = None) -> np.ndarray:
        """Class probabilities for audio windows (W, samples) at the feature rate.

        ``encoder_base`` sets the device, threads and cache folder of the frozen encoder.
        """
        if self.encoder is not None:
            x = torch.from_numpy(encode_clips(windows, self.encoder, base=encoder_base))
        else:
            x = torch.from_numpy(to_log(np.stack([clip_power(w, self.features)
                                                  for w in windows])))
        return torch.softmax(self.model(x), dim=1).numpy()

    def classify(self, audio: np.ndarray, top_k: int = 3,
                 encoder_base: ModelSpec | None = None) -> Prediction:
        """Classify mono audio already at ``self.features.sample_rate``."""
        if audio.size == 0:
            raise InvalidOptionError("cannot classify empty audio")
        if top_k < 1:
            raise InvalidOptionError("top_k must be >= 1")
        n = self.features.samples
        starts = [0]  # a clip that fits is one (shorter) window
        if audio.size > n:
            starts = list(range(0, audio.size - n + 1, n // 2))
            if starts[-1] + n < audio.size:
                starts.append(audio.size - n)
        # In batches, so an hour of audio never holds all its windows at once.
        probs = np.concatenate([
            self.probabilities(np.stack([audio[s:s + n] for s in starts[i:i + WINDOWS]]),
                               encoder_base)
            for i in range(0, len(starts), WINDOWS)])
        combined = self._combine(probs)
        order = np.argsort(combined)[::-1][:top_k]
        top = [(self.labels[i], round(float(combined[i]), 4)) for i in order]
        per_window = []
        if len(starts) > 1:
            sr = self.features.sample_rate
            per_window = [{"start": round(s / sr, 3), "label": self.labels[int(p.argmax())],
                           "score": round(float(p.max()), 4)} for s, p in zip(starts, probs,
                                                                             strict=True)]
        return Prediction(top[0][0], top[0][1], top, len(starts), per_window)

    def _combine(self, probs: np.ndarray) -> np.ndarray:
        if len(probs) == 1:
            return probs[0]
        fg = [i for i, lbl in enumerate(self.labels) if lbl not in self.background]
        if self.background and fg:
            best = probs[:, fg].max(axis=1)
            winner = int(best.argmax())
            if self.labels[int(probs[winner].argmax())] not in self.background:
                return probs[winner]
        return probs.mean(axis=0)


def load_classifier(path: str) -> Classifier:
    """The model manager's loader: a :class:`Classifier` from a checkpoint path."""
    model, meta = load_checkpoint(path)
    return Classifier(model, meta)


def model_name(path: str | os.PathLike[str] | None = None) -> str:
    """A checkpoint's public name, never its path: the folder of a ``model.pt`` or
    ``best.pt`` (``kws12-whisper``), else the file's stem."""
    p = Path(path or DEFAULT_MODEL)
    return p.parent.name if p.stem in ("model", "best", "last") and p.parent.name else p.stem


def _key(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    return {"label": model_name(path), "path": str(Path(path or DEFAULT_MODEL).resolve())}


def get_classifier(path: str | os.PathLike[str] | None = None, *,
                   pin: bool = False) -> Classifier:
    """The cached classifier for ``path`` (default: the shipped keyword model); not held."""
    clf: Classifier = manager.get("classify", pin=pin, **_key(path))
    return clf


def use_classifier(path: str | os.PathLike[str] | None = None,
                   ) -> contextlib.AbstractContextManager[Classifier]:
    """Hold the classifier for ``path`` (default: the shipped model) for a ``with`` block."""
    return manager.use("classify", **_key(path))
