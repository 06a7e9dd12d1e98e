"""FSDD speaker-independent accuracy: leave one speaker out, mean over the six speakers.

Two models per fold, each holding one speaker out for test and the next for validation:

* ``cnn``: the shipped FSDD model's architecture (15 epochs, 16 channels, seed 0) with the
  default augmentation, which includes speed and vocal-tract-length perturbation (new
  speakers are the point here);
* ``whisper``: a head on the frozen Whisper tiny.en encoder (``earful train --encoder
  tiny.en``; 30 epochs, 2 augmented copies, seed 0).

Run (about 20 minutes on 2 CPU cores; pass ``cnn`` or ``whisper`` to run one model):
    EARFUL_DATA=../shared/data .venv/bin/python benchmarks/fsdd_speakers.py [cnn|whisper]
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
from pathlib import Path

from _common import data_dir, save, table
from earful.classify.data import fsdd
from earful.classify.encoder import EncoderConfig
from earful.classify.head_train import train_head
from earful.classify.train import RunResult, TrainConfig, train

MODELS = ("cnn", "whisper")


def fold(model: str, spk: str, root: Path, tmp: Path) -> RunResult:
    """Train one model with ``spk`` held out."""
    ex = fsdd(root, "speaker", spk)
    dataset = {"name": "fsdd", "split": f"speaker {spk}"}
    if model == "cnn":
        return train(ex, tmp / model / spk, dataset=dataset, model_cfg={"channels": 16},
                     cfg=TrainConfig(epochs=15, seed=0), cache_dir=tmp / "cache")
    return train_head(ex, tmp / model / spk, dataset=dataset, encoder=EncoderConfig("tiny.en"),
                      cfg=TrainConfig(epochs=30, patience=30, lr=1e-3, seed=0), copies=2,
                      cache_dir=tmp / "cache")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    root = data_dir() / "fsdd"
    models = [m for m in MODELS if m in sys.argv[1:]] or list(MODELS)
    speakers = sorted({e.group for e in fsdd(root, "speaker", "george")})
    accs: dict[str, dict[str, float]] = {m: {} for m in models}
    secs: dict[str, dict[str, float]] = {m: {} for m in models}
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            for spk in speakers:
                r = fold(model, spk, root, Path(tmp))
                accs[model][spk] = r.test["accuracy"] if r.test else 0.0
                secs[model][spk] = r.seconds
                print(model, spk, accs[model][spk], round(r.seconds), flush=True)
    rows: list[list[object]] = [
        [spk, *(f"{100 * accs[m][spk]:.1f}% ({secs[m][spk]:.0f} s)" for m in models)]
        for spk in speakers]
    means = {m: statistics.mean(accs[m].values()) for m in models}
    rows.append(["**mean**", *(f"**{100 * means[m]:.1f}%**" for m in models)])
    names = {"cnn": "log-mel CNN (training time)", "whisper": "Whisper tiny.en head (time)"}
    md = ("### FSDD, speaker-independent (leave one speaker out)\n\n"
          + table(["held-out speaker", *(names[m] for m in models)], rows))
    save("fsdd_speakers", md, {m: {"per_speaker": accs[m], "mean": means[m],
                                   "seconds": secs[m]} for m in models})


if __name__ == "__main__":
    main()
