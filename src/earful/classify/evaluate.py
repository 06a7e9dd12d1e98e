"""Score any checkpoint on any data set split."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from earful.classify.checkpoint import load_checkpoint
from earful.classify.data import Example
from earful.classify.encoder import EncoderConfig, encode_examples
from earful.classify.features import FeatureConfig, compute_features
from earful.classify.head import EncoderHead
from earful.classify.head_train import predict_frames
from earful.classify.metrics import classification_report, group_accuracy
from earful.classify.train import predict, write_reports
from earful.errors import DatasetError


def evaluate_checkpoint(checkpoint: str | os.PathLike[str], examples: list[Example],
                        split: str, out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class scores, per-speaker accuracy (``per_group``) and a
    confusion matrix, written to ``out_dir``.

    Labels the checkpoint does not know are an error rather than silently skipped.
    """
    model, meta = load_checkpoint(checkpoint)
    labels: list[str] = meta["labels"]
    chosen = examples if split == "all" else [e for e in examples if e.split == split]
    if not chosen:
        raise DatasetError(f"the {split} split is empty")
    unknown = sorted({e.label for e in chosen} - set(labels))
    if unknown:
        raise DatasetError(f"labels not in the checkpoint: {', '.join(unknown)}")
    y = np.array([labels.index(e.label) for e in chosen])
    if isinstance(model, EncoderHead):
        frames = encode_examples(chosen, EncoderConfig(**meta["encoder_config"]))
        pred = predict_frames(model, frames).argmax(1)
    else:
        pred = predict(model, compute_features(chosen, FeatureConfig(**meta["feature_config"]))
                       ).argmax(1)
    report = classification_report(y, pred, labels)
    report["per_group"] = group_accuracy([e.group for e in chosen], y, pred)
    write_reports(Path(out_dir), {"split": split, "checkpoint": str(checkpoint), **report},
                  report)
    return report
