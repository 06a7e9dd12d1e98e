"""Training a head on frozen Whisper encoder frames (``earful train --encoder tiny.en``).

The encoder runs once per clip: the train, validation and test splits are encoded and
cached, plus ``copies`` randomised copies of the training split (speed, shift, background
noise; ``encoder.CopyAugment``). Each epoch then only trains the head, with random time
masks on the frames, so a run takes minutes on two CPU cores (4.3 for the shipped
keyword model with 2 copies, encoding included). Epochs, checkpoints, early stopping and
reports are the shared loop's (:func:`earful.classify.loop.fit`), so the run folder gets
what ``train.train`` writes: ``best.pt``, ``last.pt`` (resumable), ``history.json``,
``metrics.json`` and ``confusion.png``.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from earful.classify.data import Example
from earful.classify.encoder import CopyAugment, EncoderConfig, encode_examples
from earful.classify.head import EncoderHead, HeadConfig
from earful.classify.loop import RunResult, Task, TrainConfig, fit, start_run
from earful.errors import InvalidOptionError

MASK_FRAMES = 8  # longest time mask: 160 ms of 50 Hz encoder frames


@torch.no_grad()
def predict_frames(model: EncoderHead, frames: np.ndarray, batch: int = 256) -> np.ndarray:
    """Class probabilities for encoder frames (N, T, D)."""
    model.eval()
    out = [torch.softmax(model(torch.from_numpy(frames[i:i + batch].astype(np.float32))),
                         dim=1).numpy() for i in range(0, len(frames), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.cfg.n_classes), np.float32)


def _time_mask(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Zero one random span of up to MASK_FRAMES frames per clip."""
    b, t, _ = x.shape
    width = torch.randint(0, MASK_FRAMES + 1, (b, 1), generator=gen)
    start = (torch.rand((b, 1), generator=gen) * (t - width).clamp(min=1)).long()
    pos = torch.arange(t).unsqueeze(0)
    keep = ~((pos >= start) & (pos < start + width))
    return x * keep.unsqueeze(2)


def _masked_loss(idx: torch.Tensor, *, model: EncoderHead, x: torch.Tensor, y: torch.Tensor,
                 label_smoothing: float, gen: torch.Generator) -> torch.Tensor:
    """Loss of the training clips ``idx`` with a fresh time mask on their frames."""
    logits = model(_time_mask(x[idx].float(), gen))
    return nn.functional.cross_entropy(logits, y[idx], label_smoothing=label_smoothing)


def train_head(examples: list[Example], run_dir: str | Path, *, dataset: dict[str, Any],
               encoder: EncoderConfig | None = None, head_cfg: dict[str, Any] | None = None,
               cfg: TrainConfig | None = None, copies: int = 2,
               augment: CopyAugment | None = None, noise_examples: list[Example] | None = None,
               cache_dir: Path | None = None, resume: bool = False,
               stop_after: int | None = None) -> RunResult:
    """Train an :class:`EncoderHead` on ``examples`` (splits assigned) and evaluate it.

    Args:
        examples: Labelled clips; ``train`` and ``val`` are required, ``test`` is optional.
        run_dir: Output folder.
        dataset: Description stored in the checkpoint.
        encoder: Which Whisper encoder and clip length.
        head_cfg: ``HeadConfig`` fields other than ``n_classes``/``dim``.
        cfg: Optimisation settings (``ema_decay`` is not supported here).
        copies: Randomised copies of the training split added to it.
        augment: How copies are randomised.
        noise_examples: Background clips mixed into copies (training data only).
        cache_dir: Where to cache encoder frames.
        resume: Continue from ``run_dir/last.pt`` (same settings).
        stop_after: End this call after this many epochs, leaving ``last.pt`` to resume from.
    """
    encoder, cfg, augment = encoder or EncoderConfig(), cfg or TrainConfig(), \
        augment or CopyAugment()
    if cfg.ema_decay:
        raise InvalidOptionError("--ema is for CNN training; encoder heads do not use it")
    if copies < 0:
        raise InvalidOptionError("copies must be >= 0")
    run, gen, labels, splits = start_run(examples, run_dir, cfg)
    index = {label: i for i, label in enumerate(labels)}
    started = time.perf_counter()
    frames = {s: encode_examples(ex, encoder, cache_dir) for s, ex in splits.items() if ex}
    y = {s: np.array([index[e.label] for e in ex]) for s, ex in splits.items()}
    extra = [encode_examples(splits["train"], encoder, cache_dir, copy_seed=cfg.seed * 1000 + k,
                             noise=noise_examples or [], aug=augment) for k in range(copies)]
    xt = torch.from_numpy(np.concatenate([frames["train"], *extra]))
    yt = torch.from_numpy(np.tile(y["train"], copies + 1))
    model = EncoderHead(HeadConfig(n_classes=len(labels), dim=xt.shape[2], **(head_cfg or {})))
    step = partial(_masked_loss, model=model, x=xt, y=yt,
                   label_smoothing=cfg.label_smoothing, gen=gen)
    task = Task(model=model, step=step, n_train=len(yt), predict=predict_frames,
                inputs={s: frames[s] for s in ("val", "test") if s in frames}, y=y,
                features=encoder.feature_config(), augment=augment, encoder=encoder,
                meta={"dataset": dataset, "copies": copies})
    return fit(task, run, cfg, gen, labels, started=started, resume=resume,
               stop_after=stop_after)
