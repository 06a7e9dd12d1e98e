"""Training a head on frozen Whisper encoder frames (``earful train --encoder tiny.en``).

The encoder runs once per clip: the train, validation and test splits are encoded and
cached, plus ``copies`` randomised copies of the training split (speed, shift, background
noise; ``encoder.CopyAugment``). Each epoch then only trains the head, with random time
masks on the frames, so a run takes minutes on two CPU cores (4.3 for the shipped
keyword model with 2 copies, encoding included). The run folder gets
what ``train.train`` writes: ``best.pt``, ``last.pt`` (resumable), ``history.json``,
``metrics.json`` and ``confusion.png``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from earful.classify.checkpoint import load_checkpoint, save_checkpoint
from earful.classify.data import SILENCE, UNKNOWN, Example
from earful.classify.encoder import CopyAugment, EncoderConfig, encode_examples
from earful.classify.head import EncoderHead, HeadConfig
from earful.classify.metrics import classification_report
from earful.classify.train import (
    RunResult,
    TrainConfig,
    load_resume_state,
    save_resume_state,
    start_run,
    summarize_metrics,
    write_reports,
)
from earful.errors import InvalidOptionError
from earful.fsutil import atomic_write

logger = logging.getLogger(__name__)

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


def _epoch(model: EncoderHead, opt: torch.optim.Optimizer, sched: Any, x: torch.Tensor,
           y: torch.Tensor, cfg: TrainConfig, gen: torch.Generator) -> float:
    model.train()
    order = torch.randperm(len(y), generator=gen)
    total, steps = 0.0, 0
    for i in range(0, len(order), cfg.batch_size):
        idx = order[i:i + cfg.batch_size]
        if len(idx) < 2:
            continue
        logits = model(_time_mask(x[idx].float(), gen))
        loss = nn.functional.cross_entropy(logits, y[idx], label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        total, steps = total + loss.item(), steps + 1
    return total / max(steps, 1)


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
    start = time.perf_counter()
    frames = {s: encode_examples(ex, encoder, cache_dir) for s, ex in splits.items() if ex}
    y = {s: np.array([index[e.label] for e in ex]) for s, ex in splits.items()}
    extra = [encode_examples(splits["train"], encoder, cache_dir, copy_seed=cfg.seed * 1000 + k,
                             noise=noise_examples or [], aug=augment) for k in range(copies)]
    xt = torch.from_numpy(np.concatenate([frames["train"], *extra]))
    yt = torch.from_numpy(np.tile(y["train"], copies + 1))
    model = EncoderHead(HeadConfig(n_classes=len(labels), dim=xt.shape[2], **(head_cfg or {})))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * -(-len(yt) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps + 1)
    history: list[dict[str, float]] = []
    best_acc, best_epoch, first_epoch = -1.0, 0, 1
    last = run / "last.pt"
    if resume and last.is_file():
        state = load_resume_state(last, cfg, gen, model=model, optimizer=opt, scheduler=sched)
        history, best_acc, best_epoch = state["history"], state["best_acc"], state["best_epoch"]
        first_epoch = state["epoch"] + 1
    background = [b for b in (SILENCE, UNKNOWN) if b in index]
    meta = {"dataset": dataset, "train_config": asdict(cfg), "copies": copies,
            "split_sizes": {k: len(v) for k, v in y.items()}}
    save = partial(save_checkpoint, labels=labels, features=encoder.feature_config(),
                   augment=augment, background=background, encoder=encoder)
    for epoch in range(first_epoch, cfg.epochs + 1):
        loss = _epoch(model, opt, sched, xt, yt, cfg, gen)
        val_acc = float((predict_frames(model, frames["val"]).argmax(1) == y["val"]).mean())
        history.append({"epoch": epoch, "loss": round(loss, 4), "val_accuracy": round(val_acc, 4)})
        logger.info("epoch %d: loss %.4f, val accuracy %.4f", epoch, loss, val_acc)
        if val_acc > best_acc or cfg.select == "last":
            best_acc, best_epoch = val_acc, epoch
            save(run / "best.pt", model,
                            extra={**meta, "epoch": epoch,
                                   "metrics": {"val_accuracy": round(val_acc, 4)}})
        save_resume_state(last, cfg, gen, model=model, optimizer=opt, scheduler=sched,
                          history=history, best_acc=best_acc, best_epoch=best_epoch,
                          epoch=epoch)
        if epoch - best_epoch >= cfg.patience:
            logger.info("early stop: no better validation accuracy for %d epochs", cfg.patience)
            break
        if stop_after is not None and epoch - first_epoch + 1 >= stop_after \
                and epoch < cfg.epochs:
            return RunResult(run, best_epoch, {}, None, time.perf_counter() - start, history)
    seconds = time.perf_counter() - start
    best, _ = load_checkpoint(run / "best.pt")
    assert isinstance(best, EncoderHead)
    reports = {s: classification_report(y[s], predict_frames(best, frames[s]).argmax(1), labels)
               for s in ("val", "test") if s in frames}
    metrics = {"val": reports["val"], "test": reports.get("test"), "best_epoch": best_epoch,
               "train_seconds": round(seconds, 1)}
    save(run / "best.pt", best,
                    extra={**meta, "epoch": best_epoch, "metrics": summarize_metrics(metrics)})
    write_reports(run, metrics, reports.get("test") or reports["val"])
    with atomic_write(run / "history.json") as fh:
        json.dump(history, fh, indent=2)
    return RunResult(run, best_epoch, reports["val"], reports.get("test"), seconds, history)
