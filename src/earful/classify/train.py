"""Training: seeded, validated every epoch, early-stopped, best and last checkpoints.

``train`` takes examples with splits already assigned (``data.py``), caches their features,
trains :class:`~earful.classify.model.AudioCNN` with on-the-fly augmentation and writes to
the run folder: ``best.pt`` (best validation accuracy, or the final epoch with
``select="last"``), ``last.pt`` (resumable), ``history.json`` and, on the test split,
``metrics.json`` and ``confusion.png``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from earful.classify import augment as aug
from earful.classify.checkpoint import load_checkpoint, save_checkpoint
from earful.classify.data import SILENCE, UNKNOWN, Example, labels_of, with_split
from earful.classify.features import FeatureConfig, compute_features, to_log
from earful.classify.metrics import classification_report, plot_confusion
from earful.classify.model import AudioCNN, ModelConfig
from earful.errors import DatasetError, InvalidOptionError
from earful.fsutil import atomic_write

logger = logging.getLogger(__name__)


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
    tmp = path.with_name(f".{path.name}.part")
    torch.save({**saved, "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
                "train_config": asdict(cfg)}, tmp)
    tmp.replace(path)


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


@torch.no_grad()
def predict(model: AudioCNN, power: np.ndarray, batch: int = 256) -> np.ndarray:
    """Class probabilities for cached mel power (N, M, T)."""
    model.eval()
    out = []
    for i in range(0, len(power), batch):
        x = torch.from_numpy(to_log(power[i:i + batch]))
        out.append(torch.softmax(model(x), dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, model.cfg.n_classes), np.float32)


def _train_epoch(model: AudioCNN, opt: torch.optim.Optimizer, sched: Any, power: torch.Tensor,
                 y: torch.Tensor, noise: torch.Tensor, n_classes: int, cfg: TrainConfig,
                 acfg: aug.AugmentConfig, gen: torch.Generator,
                 ema: torch.optim.swa_utils.AveragedModel | None) -> float:
    from tqdm import tqdm

    model.train()
    order = torch.randperm(len(y), generator=gen)
    total, steps = 0.0, 0
    for i in tqdm(range(0, len(order), cfg.batch_size), leave=False, unit="batch",
                  disable=not logger.isEnabledFor(logging.INFO)):
        idx = order[i:i + cfg.batch_size]
        if len(idx) < 2:
            continue
        p = aug.time_shift(power[idx], acfg.time_shift_frames, gen)
        p = aug.warp(p, acfg.speed, acfg.vtlp, gen)
        p = aug.mix_noise(p, noise, acfg, gen)
        x = aug.spec_augment(torch.log(p + 1e-6), acfg, gen)
        target = nn.functional.one_hot(y[idx], n_classes).float()
        target = target * (1 - cfg.label_smoothing) + cfg.label_smoothing / n_classes
        x, target = aug.mixup(x, target, acfg.mixup_alpha, gen)
        # Each member of an ensemble learns on its own; their losses are averaged.
        logp = torch.log_softmax(model.member_logits(x), dim=2)
        loss = torch.sum(-target.unsqueeze(1) * logp, dim=2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if ema is not None:
            ema.update_parameters(model)
        total += loss.item()
        steps += 1
    return total / max(steps, 1)


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
    train_ex, val_ex, test_ex = splits["train"], splits["val"], splits["test"]
    start = time.perf_counter()
    power = {name: compute_features(ex, features, cache_dir)
             for name, ex in (("train", train_ex), ("val", val_ex), ("test", test_ex)) if ex}
    y = {name: np.array([index[e.label] for e in ex]) for name, ex in
         (("train", train_ex), ("val", val_ex), ("test", test_ex))}
    noise = torch.from_numpy(compute_features(noise_examples, features, cache_dir)
                             if noise_examples else np.zeros((0, features.n_mels,
                                                              features.frames), np.float32))
    mcfg = ModelConfig(n_classes=len(labels), n_mels=features.n_mels, **(model_cfg or {}))
    model = AudioCNN(mcfg)
    # The average also covers BatchNorm statistics (use_buffers), so it needs no extra pass.
    ema = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema_decay),
        use_buffers=True) if cfg.ema_decay else None
    # What is validated and saved: the average when there is one (a copy of an AudioCNN).
    kept: AudioCNN = ema.module if ema is not None else model  # type: ignore[assignment]
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * -(-len(train_ex) // cfg.batch_size)
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
    background = [b for b in (SILENCE, UNKNOWN) if b in index]
    meta = {"dataset": dataset, "train_config": asdict(cfg),
            "split_sizes": {k: len(v) for k, v in y.items()}}
    xt, yt = torch.from_numpy(power["train"]), torch.from_numpy(y["train"])
    for epoch in range(first_epoch, cfg.epochs + 1):
        loss = _train_epoch(model, opt, sched, xt, yt, noise, len(labels), cfg, augment, gen,
                            ema)
        val_pred = predict(kept, power["val"]).argmax(1)
        val_acc = float((val_pred == y["val"]).mean())
        history.append({"epoch": epoch, "loss": round(loss, 4), "val_accuracy": round(val_acc, 4)})
        logger.info("epoch %d: loss %.4f, val accuracy %.4f", epoch, loss, val_acc)
        if val_acc > best_acc or cfg.select == "last":
            best_acc, best_epoch = val_acc, epoch
            save_checkpoint(run / "best.pt", kept, labels=labels, features=features,
                            augment=augment, background=background,
                            extra={**meta, "epoch": epoch,
                                   "metrics": {"val_accuracy": round(val_acc, 4)}})
        save_resume_state(last, cfg, gen, model=model, ema=ema, optimizer=opt,
                          scheduler=sched, history=history, best_acc=best_acc,
                          best_epoch=best_epoch, epoch=epoch)
        if epoch - best_epoch >= cfg.patience:
            logger.info("early stop: no better validation accuracy for %d epochs", cfg.patience)
            break
        if stop_after is not None and epoch - first_epoch + 1 >= stop_after \
                and epoch < cfg.epochs:
            logger.info("stopping after %d epochs; resume with --resume", stop_after)
            return RunResult(run, best_epoch, {}, None, time.perf_counter() - start, history)
    seconds = time.perf_counter() - start
    best, _ = load_checkpoint(run / "best.pt")
    assert isinstance(best, AudioCNN)
    val_report = classification_report(y["val"], predict(best, power["val"]).argmax(1), labels)
    test_report = None
    if "test" in power:
        test_report = classification_report(y["test"], predict(best, power["test"]).argmax(1),
                                            labels)
    metrics = {"val": val_report, "test": test_report, "best_epoch": best_epoch,
               "train_seconds": round(seconds, 1)}
    save_checkpoint(run / "best.pt", best, labels=labels, features=features, augment=augment,
                    background=background,
                    extra={**meta, "epoch": best_epoch, "metrics": summarize_metrics(metrics)})
    write_reports(run, metrics, test_report or val_report)
    with atomic_write(run / "history.json") as fh:
        json.dump(history, fh, indent=2)
    return RunResult(run, best_epoch, val_report, test_report, seconds, history)


def summarize_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
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
