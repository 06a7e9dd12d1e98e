"""The shared training loop on its own: a tiny head on synthetic frames, no audio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from earful.classify.checkpoint import load_checkpoint
from earful.classify.encoder import CopyAugment, EncoderConfig
from earful.classify.head import EncoderHead, HeadConfig
from earful.classify.head_train import predict_frames
from earful.classify.loop import RunResult, Task, TrainConfig, fit, seed_everything
from earful.errors import InvalidOptionError

LABELS = ["a", "b"]
ENCODER = EncoderConfig(model="tiny.en")


def frames(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4, 8) frames whose first channel tells the class, plus plenty of noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, 4, 8)).astype(np.float32)
    x[:, :, 0] += np.where(y == 1, 2.0, -2.0)[:, None]
    return x, y


def fit_tiny(run: Path, cfg: TrainConfig, *, n_train: int = 64,
             calls: list[torch.Tensor] | None = None, resume: bool = False,
             stop_after: int | None = None) -> RunResult:
    """Seed, build a head and its step the way a trainer does, and run the loop."""
    run.mkdir(parents=True, exist_ok=True)
    gen = seed_everything(cfg.seed)
    data = {"train": frames(n_train, 1), "val": frames(20, 2), "test": frames(20, 3)}
    xt, yt = torch.from_numpy(data["train"][0]), torch.from_numpy(data["train"][1])
    model = EncoderHead(HeadConfig(n_classes=2, dim=8, hidden=8, kernel=3, dropout=0.2))

    def step(idx: torch.Tensor) -> torch.Tensor:
        if calls is not None:
            calls.append(idx.clone())
        # Draws from the run's generator and (dropout) the global one: resume must restore both.
        x = xt[idx] + 0.3 * torch.randn(xt[idx].shape, generator=gen)
        return nn.functional.cross_entropy(model(x), yt[idx])

    task = Task(model=model, step=step, n_train=n_train, predict=predict_frames,
                inputs={s: data[s][0] for s in ("val", "test")},
                y={s: d[1] for s, d in data.items()}, features=ENCODER.feature_config(),
                augment=CopyAugment(), encoder=ENCODER, meta={"dataset": {"name": "synthetic"}})
    return fit(task, run, cfg, gen, LABELS, started=0.0, resume=resume, stop_after=stop_after)


def test_early_stop_keeps_the_best_epoch_and_reports(tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=40, batch_size=16, lr=1e-2, patience=3, seed=0)
    r = fit_tiny(tmp_path, cfg)
    accs = [h["val_accuracy"] for h in r.history]
    # Stopped exactly `patience` epochs after the last strict improvement, well before 40.
    assert len(r.history) == r.best_epoch + cfg.patience < cfg.epochs
    assert accs[r.best_epoch - 1] == max(accs) > max(accs[:r.best_epoch - 1], default=-1)
    assert r.test is not None and r.test["accuracy"] >= 0.9
    model, meta = load_checkpoint(tmp_path / "best.pt")
    assert isinstance(model, EncoderHead) and meta["model_type"] == "encoder-head"
    assert meta["epoch"] == r.best_epoch and meta["labels"] == LABELS
    assert meta["dataset"] == {"name": "synthetic"}
    assert meta["split_sizes"] == {"train": 64, "val": 20, "test": 20}
    assert meta["metrics"]["test_accuracy"] == r.test["accuracy"]
    last = torch.load(tmp_path / "last.pt", weights_only=False)
    assert last["epoch"] == len(r.history) and last["best_epoch"] == r.best_epoch
    assert json.loads((tmp_path / "history.json").read_text()) == r.history
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["best_epoch"] == r.best_epoch and metrics["test"] == r.test
    assert (tmp_path / "confusion.png").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_each_epoch_steps_through_one_permutation(tmp_path: Path) -> None:
    calls: list[torch.Tensor] = []
    cfg = TrainConfig(epochs=2, batch_size=16, lr=1e-2, patience=5, seed=0)
    fit_tiny(tmp_path, cfg, n_train=33, calls=calls)
    # 33 examples in batches of 16: two steps an epoch, the lone 33rd example is skipped.
    assert [len(c) for c in calls] == [16, 16, 16, 16]
    for epoch in (calls[:2], calls[2:]):
        seen = torch.cat(epoch)
        assert len(set(seen.tolist())) == 32 and int(seen.max()) < 33
    assert not torch.equal(torch.cat(calls[:2]), torch.cat(calls[2:]))  # fresh order


@pytest.mark.parametrize("ema_decay", [0.0, 0.8])
def test_interrupted_generic_run_resumes_bit_for_bit(tmp_path: Path, ema_decay: float) -> None:
    cfg = TrainConfig(epochs=5, batch_size=16, lr=1e-2, patience=5, seed=3,
                      ema_decay=ema_decay)
    whole = fit_tiny(tmp_path / "whole", cfg)
    part = fit_tiny(tmp_path / "split", cfg, stop_after=2)
    assert [h["epoch"] for h in part.history] == [1, 2] and part.test is None
    assert not (tmp_path / "split" / "metrics.json").exists()
    resumed = fit_tiny(tmp_path / "split", cfg, resume=True)
    assert resumed.history == whole.history and resumed.test == whole.test
    a, _ = load_checkpoint(tmp_path / "whole" / "best.pt")
    b, _ = load_checkpoint(tmp_path / "split" / "best.pt")
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    last = torch.load(tmp_path / "whole" / "last.pt", weights_only=False)
    assert (last["ema"] is None) == (ema_decay == 0.0)
    with pytest.raises(InvalidOptionError, match="settings of the interrupted run"):
        fit_tiny(tmp_path / "split", TrainConfig(epochs=6, batch_size=16, lr=1e-2, seed=3,
                                                 ema_decay=ema_decay), resume=True)
