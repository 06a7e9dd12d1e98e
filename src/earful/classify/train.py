"""Training the CNN: cached mel features, on-the-fly augmentation, the shared loop.

``train`` takes examples with splits already assigned (``data.py``), caches their features
and trains :class:`~earful.classify.model.AudioCNN`, augmenting every batch (shift, warp,
background noise, SpecAugment, mixup). The epochs, checkpoints, early stopping and reports
are :func:`earful.classify.loop.fit`'s; the run folder gets ``best.pt`` (best validation
accuracy, or the final epoch with ``select="last"``), ``last.pt`` (resumable),
``history.json`` and ``metrics.json`` and ``confusion.png`` (on the test split when there
is one).

The run settings and helpers shared with ``head_train.py`` live in ``loop.py`` and are
importable from here as before.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from earful.classify import augment as aug
from earful.classify.data import Example
from earful.classify.features import FeatureConfig, compute_features, to_log
from earful.classify.loop import (
    RunResult,
    Task,
    TrainConfig,
    fit,
    load_resume_state,
    save_resume_state,
    seed_everything,
    start_run,
    summarize_metrics,
    write_reports,
)
from earful.classify.model import AudioCNN, ModelConfig

__all__ = ["RunResult", "TrainConfig", "load_resume_state", "predict", "save_resume_state",
           "seed_everything", "start_run", "summarize_metrics", "train", "write_reports"]


@torch.no_grad()
def predict(model: AudioCNN, power: np.ndarray, batch: int = 256) -> np.ndarray:
    """Class probabilities for cached mel power (N, M, T)."""
    model.eval()
    out = []
    for i in range(0, len(power), batch):
        x = torch.from_numpy(to_log(power[i:i + batch]))
        out.append(torch.softmax(model(x), dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, model.cfg.n_classes), np.float32)


def _augmented_loss(idx: torch.Tensor, *, model: AudioCNN, power: torch.Tensor,
                    y: torch.Tensor, noise: torch.Tensor, cfg: TrainConfig,
                    acfg: aug.AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Loss of the training clips ``idx``, augmented afresh (augmentation draws from
    ``gen``, so a resumed run repeats it)."""
    n_classes = model.cfg.n_classes
    p = aug.time_shift(power[idx], acfg.time_shift_frames, gen)
    p = aug.warp(p, acfg.speed, acfg.vtlp, gen)
    p = aug.mix_noise(p, noise, acfg, gen)
    x = aug.spec_augment(torch.log(p + 1e-6), acfg, gen)
    target = nn.functional.one_hot(y[idx], n_classes).float()
    target = target * (1 - cfg.label_smoothing) + cfg.label_smoothing / n_classes
    x, target = aug.mixup(x, target, acfg.mixup_alpha, gen)
    # Each member of an ensemble learns on its own; their losses are averaged.
    logp = torch.log_softmax(model.member_logits(x), dim=2)
    return torch.sum(-target.unsqueeze(1) * logp, dim=2).mean()


def train(examples: list[Example], run_dir: str | Path, *, dataset: dict[str, Any],
          features: FeatureConfig | None = None, model_cfg: dict[str, Any] | None = None,
          augment: aug.AugmentConfig | None = None, cfg: TrainConfig | None = None,
          noise_examples: list[Example] | None = None, cache_dir: Path | None = None,
          resume: bool = False, stop_after: int | None = None) -> RunResult:
    """Train a classifier on ``examples`` (splits assigned) and evaluate it.

    Args:
        examples: Labelled clips; ``train`` and ``val`` are required, ``test`` is optional.
        run_dir: Output folder.
        dataset: Description stored in the checkpoint (name, folder, split kind).
        features: Feature settings.
        model_cfg: ``ModelConfig`` fields other than ``n_classes``/``n_mels``.
        augment: Augmentation settings.
        cfg: Optimisation settings.
        noise_examples: Background-noise clips for noise mixing (training data only).
        cache_dir: Where to cache features.
        resume: Continue an interrupted run from ``run_dir/last.pt`` (same settings).
        stop_after: End this call after this many epochs, leaving ``last.pt`` to resume
            from (time-boxed training); final evaluation runs only when training is done.
    """
    features, augment, cfg = features or FeatureConfig(), augment or aug.AugmentConfig(), \
        cfg or TrainConfig()
    run, gen, labels, splits = start_run(examples, run_dir, cfg)
    index = {label: i for i, label in enumerate(labels)}
    started = time.perf_counter()
    power = {s: compute_features(ex, features, cache_dir) for s, ex in splits.items() if ex}
    y = {s: np.array([index[e.label] for e in ex]) for s, ex in splits.items()}
    noise = torch.from_numpy(compute_features(noise_examples, features, cache_dir)
                             if noise_examples else np.zeros((0, features.n_mels,
                                                              features.frames), np.float32))
    model = AudioCNN(ModelConfig(n_classes=len(labels), n_mels=features.n_mels,
                                 **(model_cfg or {})))
    step = partial(_augmented_loss, model=model, power=torch.from_numpy(power["train"]),
                   y=torch.from_numpy(y["train"]), noise=noise, cfg=cfg, acfg=augment, gen=gen)
    task = Task(model=model, step=step, n_train=len(y["train"]), predict=predict,
                inputs={s: power[s] for s in ("val", "test") if s in power}, y=y,
                features=features, augment=augment, meta={"dataset": dataset})
    return fit(task, run, cfg, gen, labels, started=started, resume=resume,
               stop_after=stop_after)
