"""Self-describing checkpoints: weights plus everything needed to use and trust them.

Two model types share the format: ``cnn`` (:class:`~earful.classify.model.AudioCNN` on
log-mel features) and ``encoder-head`` (:class:`~earful.classify.head.EncoderHead` on the
frames of the frozen Whisper encoder named by ``encoder_config``).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from earful import __version__
from earful.classify.augment import AugmentConfig
from earful.classify.encoder import CopyAugment, EncoderConfig
from earful.classify.features import FeatureConfig
from earful.classify.head import EncoderHead, HeadConfig
from earful.classify.model import AudioCNN, ModelConfig
from earful.errors import CheckpointError
from earful.fsutil import atomic_write

FORMAT = "earful-classifier/1"
Model = AudioCNN | EncoderHead


def save_checkpoint(path: str | os.PathLike[str], model: Model, *, labels: list[str],
                    features: FeatureConfig, augment: AugmentConfig | CopyAugment,
                    background: list[str], extra: dict[str, Any],
                    encoder: EncoderConfig | None = None) -> Path:
    """Write weights and metadata atomically (temp file, then rename)."""
    dest = Path(path)
    payload = {
        "format": FORMAT,
        "earful_version": __version__,
        "model_type": "encoder-head" if isinstance(model, EncoderHead) else "cnn",
        "model_config": asdict(model.cfg),
        "encoder_config": asdict(encoder) if encoder is not None else None,
        "labels": labels,
        "background_labels": background,
        "feature_config": asdict(features),
        "augment_config": asdict(augment),
        **extra,
        "state_dict": model.state_dict(),
    }
    with atomic_write(dest, "wb") as fh:
        torch.save(payload, fh)
    return dest


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[Model, dict[str, Any]]:
    """Load a checkpoint; returns the model (in eval mode) and its metadata."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint not found: {p}")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"cannot read checkpoint {p}: {e}") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{p} is not an earful classifier checkpoint ({FORMAT})")
    kind = payload.get("model_type", "cnn")  # checkpoints before encoder heads are CNNs
    try:
        model: Model
        if kind == "encoder-head":
            EncoderConfig(**payload["encoder_config"])  # validates before any model loads
            model = EncoderHead(HeadConfig(**payload["model_config"]))
        elif kind == "cnn":
            model = AudioCNN(ModelConfig(**payload["model_config"]))
        else:
            raise ValueError(f"unknown model type {kind!r}")
        model.load_state_dict(payload.pop("state_dict"))
    except Exception as e:
        raise CheckpointError(f"checkpoint {p} does not match its model config: {e}") from e
    model.eval()
    return model, payload
