"""The one training loop every classifier trainer runs.

A trainer (``train.py`` for the CNN on mel features, ``head_train.py`` for a head on frozen
encoder frames) computes its inputs, builds its network and describes one training step as
a :class:`Task`; :func:`fit` does the rest, the same way for both: AdamW with a one-cycle
schedule, an optional weight average (EMA), validation every epoch, ``best.pt`` and a
resumable ``last.pt`` after every epoch, early stopping, and at the end ``metrics.json``,
``confusion.png`` and ``history.json`` in the run folder.

Resuming is bit-for-bit: ``last.pt`` holds the model, average, optimiser, scheduler and
both random generators, and every random draw of a step goes through the generator that
:func:`start_run` returns or torch's global one, so an interrupted and resumed run repeats
the uninterrupted one exactly.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import numpy as np
import torch

from earful.classify.augment import AugmentConfig
from earful.classify.checkpoint import load_checkpoint, save_checkpoint
from earful.classify.data import SILENCE, UNKNOWN, Example, labels_of, with_split
from earful.classify.encoder import CopyAugment, EncoderConfig
from earful.classify.features import FeatureConfig
from earful.classify.head import EncoderHead
from earful.classify.metrics import classification_report, plot_confusion
from earful.classify.model import AudioCNN
from earful.errors import DatasetError, InvalidOptionError
from earful.fsutil import atomic_write

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=AudioCNN | EncoderHead)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. Stored in every checkpoint."""

    epochs: int = 40
    """Most epochs to run."""
    batch_size: int = 64
    """Clips per step."""
    lr: float = 3e-3
    """Peak learning rate (one-cycle schedule)."""
    weight_decay: float = 1e-2
    """AdamW weight decay."""
    label_smoothing: float = 0.05
    """Cross-entropy label smoothing."""
    patience: int = 12
    """Stop after this many epochs without a better validation accuracy."""
    select: str = "val"
    """Which epoch ``best.pt`` keeps: ``"val"``, the best validation accuracy; ``"last"``,
    the final epoch (no early stopping), for validation sets too small to choose by."""
    seed: int = 0
    """Seed for weights, batching and augmentation."""
    threads: int = 0
    """Torch CPU threads (0 = torch's default)."""
    ema_decay: float = 0.0
    """Keep an exponential moving average of the weights with this decay per step and
    validate, select and save it instead of the raw weights; 0 disables it."""

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.patience < 1:
            raise InvalidOptionError("epochs, batch_size, patience must be >= 1 and lr > 0")
        if self.select not in ("val", "last"):
            raise InvalidOptionError("select must be 'val' or 'last'")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InvalidOptionError("ema_decay must be in [0, 1)")


@dataclass
class RunResult:
    """What a training run produced."""

    run_dir: Path
    best_epoch: int
    val: dict[str, Any]
    test: dict[str, Any] | None
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Task(Generic[M]):
    """What one kind of classifier brings to :func:`fit`: features, model and step."""

    model: M
    """The network to train (untrained, or to be overwritten by a resume)."""
    step: Callable[[torch.Tensor], torch.Tensor]
    """Loss of one batch, given the indices of its training examples; draws any randomness
    from the run's generator so that a resume repeats it."""
    n_train: int
    """Training examples (the indices ``step`` receives are below this)."""
    predict: Callable[[M, np.ndarray], np.ndarray]
    """Class probabilities of a model for cached inputs."""
    inputs: dict[str, np.ndarray]
    """Cached inputs by split: ``val`` is required, ``test`` is evaluated when present."""
    y: dict[str, np.ndarray]
    """Label indices by split (``train``, ``val``, ``test``)."""
    features: FeatureConfig
    """How audio becomes input, saved in the checkpoint."""
    augment: AugmentConfig | CopyAugment
    """Augmentation settings, saved in the checkpoint."""
    encoder: EncoderConfig | None = None
    """The frozen encoder under a head, saved in the checkpoint."""
    meta: dict[str, Any] = field(default_factory=dict)
    """More checkpoint metadata (at least ``dataset``)."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator for augmentation."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def start_run(examples: list[Example], run_dir: str | Path, cfg: TrainConfig
              ) -> tuple[Path, torch.Generator, list[str], dict[str, list[Example]]]:
    """Create the run folder, set threads and seeds; returns it, the augmentation
    generator, the sorted labels and the examples by split (train and val must exist)."""
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    gen = seed_everything(cfg.seed)
    splits = {s: with_split(examples, s) for s in ("train", "val", "test")}
    if not splits["train"] or not splits["val"]:
        raise DatasetError("training needs non-empty train and val splits")
    return run, gen, labels_of(examples), splits


def save_resume_state(path: Path, cfg: TrainConfig, gen: torch.Generator,
                      **state: Any) -> None:
    """Write ``last.pt`` atomically: ``state`` (objects with a ``state_dict`` are saved by
    it), the random generators and the settings a resume must match."""
    saved = {k: v.state_dict() if hasattr(v, "state_dict") else v for k, v in state.items()}
    with atomic_write(path, "wb") as fh:
        torch.save({**saved, "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
                    "train_config": asdict(cfg)}, fh)


def load_resume_state(path: Path, cfg: TrainConfig, gen: torch.Generator,
                      **objects: Any) -> dict[str, Any]:
    """Read a ``last.pt`` written with the same settings, restore the random generators and
    load each of ``objects`` (None is skipped) from its saved state; returns the state."""
    state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("train_config") != asdict(cfg):
        raise InvalidOptionError("resume needs the settings of the interrupted run: "
                                 f"{state.get('train_config')}")
    for key, obj in objects.items():
        if obj is not None:
            obj.load_state_dict(state[key])
    gen.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])  # dropout draws from the global generator
    return state


def fit(task: Task[M], run: Path, cfg: TrainConfig, gen: torch.Generator, labels: list[str],
        *, started: float, resume: bool = False, stop_after: int | None = None) -> RunResult:
    """Train ``task.model``, validating, checkpointing and early-stopping, then evaluate.

    Args:
        task: Inputs, model and step of the classifier being trained.
        run: Run folder (from :func:`start_run`).
        cfg: Optimisation settings.
        gen: The run's generator (from :func:`start_run`); batch order draws from it.
        labels: Class names, in the order of the label indices.
        started: ``time.perf_counter()`` when the run began (feature time counts).
        resume: Continue from ``run/last.pt`` (same settings) if it is there.
        stop_after: End this call after this many epochs, leaving ``last.pt`` to resume
            from (time-boxed training); final evaluation runs only when training is done.
    """
    model = task.model
    # The average also covers BatchNorm statistics (use_buffers), so it needs no extra pass.
    ema = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema_decay),
        use_buffers=True) if cfg.ema_decay else None
    # What is validated and saved: the average when there is one (a copy of the model).
    kept = cast(M, ema.module) if ema is not None else model
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * -(-task.n_train // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps + 1)
    history: list[dict[str, float]] = []
    best_acc, best_epoch, first_epoch = -1.0, 0, 1
    last = run / "last.pt"
    if resume and last.is_file():
        state = load_resume_state(last, cfg, gen, model=model, ema=ema, optimizer=opt,
                                  scheduler=sched)
        history, best_acc, best_epoch = state["history"], state["best_acc"], state["best_epoch"]
        first_epoch = state["epoch"] + 1
        logger.info("resuming %s from epoch %d", run, first_epoch)
    background = [b for b in (SILENCE, UNKNOWN) if b in labels]
    meta = {**task.meta, "train_config": asdict(cfg),
            "split_sizes": {k: len(v) for k, v in task.y.items()}}

    def save_best(model: M, epoch: int, metrics: dict[str, Any]) -> None:
        save_checkpoint(run / "best.pt", model, labels=labels, features=task.features,
                        augment=task.augment, background=background, encoder=task.encoder,
                        extra={**meta, "epoch": epoch, "metrics": metrics})

    for epoch in range(first_epoch, cfg.epochs + 1):
        loss = _epoch(task, opt, sched, cfg, gen, ema)
        val_acc = float((task.predict(kept, task.inputs["val"]).argmax(1) == task.y["val"])
                        .mean())
        history.append({"epoch": epoch, "loss": round(loss, 4), "val_accuracy": round(val_acc, 4)})
        logger.info("epoch %d: loss %.4f, val accuracy %.4f", epoch, loss, val_acc)
        if val_acc > best_acc or cfg.select == "last":
            best_acc, best_epoch = val_acc, epoch
            save_best(kept, epoch, {"val_accuracy": round(val_acc, 4)})
        save_resume_state(last, cfg, gen, model=model, ema=ema, optimizer=opt,
                          scheduler=sched, history=history, best_acc=best_acc,
                          best_epoch=best_epoch, epoch=epoch)
        if epoch - best_epoch >= cfg.patience:
            logger.info("early stop: no better validation accuracy for %d epochs", cfg.patience)
            break
        if stop_after is not None and epoch - first_epoch + 1 >= stop_after \
                and epoch < cfg.epochs:
            logger.info("stopping after %d epochs; resume with --resume", stop_after)
            return RunResult(run, best_epoch, {}, None, time.perf_counter() - started, history)
    seconds = time.perf_counter() - started
    best, _ = load_checkpoint(run / "best.pt")
    assert isinstance(best, type(model))
    reports = {s: classification_report(task.y[s], task.predict(best, task.inputs[s]).argmax(1),
                                        labels)
               for s in ("val", "test") if s in task.inputs}
    metrics = {"val": reports["val"], "test": reports.get("test"), "best_epoch": best_epoch,
               "train_seconds": round(seconds, 1)}
    save_best(best, best_epoch, summarize_metrics(metrics))
    write_reports(run, metrics, reports.get("test") or reports["val"])
    with atomic_write(run / "history.json") as fh:
        json.dump(history, fh, indent=2)
    return RunResult(run, best_epoch, reports["val"], reports.get("test"), seconds, history)


def _epoch(task: Task[M], opt: torch.optim.Optimizer, sched: Any, cfg: TrainConfig,
           gen: torch.Generator, ema: torch.optim.swa_utils.AveragedModel | None) -> float:
    """One pass over the training set in a fresh random order; returns the mean loss."""
    from tqdm import tqdm

    task.model.train()
    order = torch.randperm(task.n_train, generator=gen)
    total, steps = 0.0, 0
    for i in tqdm(range(0, len(order), cfg.batch_size), leave=False, unit="batch",
                  disable=not logger.isEnabledFor(logging.INFO)):
        idx = order[i:i + cfg.batch_size]
        if len(idx) < 2:  # batch statistics (BatchNorm, std pooling) need two examples
            continue
        loss = task.step(idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if ema is not None:
            ema.update_parameters(task.model)
        total += loss.item()
        steps += 1
    return total / max(steps, 1)


def summarize_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a run's metrics, for the checkpoint."""
    out: dict[str, Any] = {k: metrics[k] for k in ("best_epoch", "train_seconds")}
    for split in ("val", "test"):
        if metrics.get(split):
            out[f"{split}_accuracy"] = metrics[split]["accuracy"]
            out[f"{split}_macro_f1"] = metrics[split]["macro_f1"]
    return out


def write_reports(run: Path, metrics: dict[str, Any], shown: dict[str, Any]) -> None:
    """Write ``metrics.json`` and ``confusion.png`` to the run folder."""
    from earful.audio.plots import save_figure

    with atomic_write(run / "metrics.json") as fh:
        json.dump(metrics, fh, indent=2)
    save_figure(plot_confusion(shown), run / "confusion.png")
