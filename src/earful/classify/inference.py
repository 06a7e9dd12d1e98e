"""Classify audio of any length with a trained checkpoint.

Clips up to the training window are scored once (centre-padded). Longer audio is scored
over sliding windows (half-window hop) and the result says so. How windows combine depends
on the checkpoint's background labels (``_silence_``, ``_unknown_`` for keyword spotting):
the window most confident in a foreground class decides, so a keyword in a long recording is
found rather than outvoted by the silence around it; without background labels (ESC-50,
digits) window probabilities are averaged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from earful.classify.checkpoint import Model, load_checkpoint
from earful.classify.encoder import EncoderConfig, encode_clips
from earful.classify.features import FeatureConfig, clip_power, to_log
from earful.errors import InvalidOptionError
from earful.models import registry

WINDOWS = 64  # windows scored per batch

#: The default keyword-spotting model shipped with the repository: a head on the frozen
#: Whisper tiny.en encoder (97.1% on unseen speakers; models/kws12 is the log-mel CNN).
DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "models" / "kws12-whisper" / "model.pt"


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
    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """Class probabilities for audio windows (W, samples) at the feature rate."""
        if self.encoder is not None:
            x = torch.from_numpy(encode_clips(windows, self.encoder))
        else:
            x = torch.from_numpy(to_log(np.stack([clip_power(w, self.features)
                                                  for w in windows])))
        return torch.softmax(self.model(x), dim=1).numpy()

    def classify(self, audio: np.ndarray, top_k: int = 3) -> Prediction:
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
            self.probabilities(np.stack([audio[s:s + n] for s in starts[i:i + WINDOWS]]))
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
    """Registry loader: a :class:`Classifier` from a checkpoint path."""
    model, meta = load_checkpoint(path)
    return Classifier(model, meta)


def get_classifier(path: str | os.PathLike[str] | None = None) -> Classifier:
    """The cached classifier for ``path`` (default: the shipped keyword model)."""
    from earful.config import get_settings

    chosen = path or get_settings().classify_model or DEFAULT_MODEL
    clf: Classifier = registry.get("classify", path=str(Path(chosen).resolve()))
    return clf
