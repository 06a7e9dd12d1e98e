"""FSDD speaker-independent accuracy: leave one speaker out, mean over the six speakers.

Each fold trains the shipped FSDD model's architecture (15 epochs, 16 channels, seed 0) with
the default augmentation, which includes speed and vocal-tract-length perturbation (new
speakers are the point here), holding one speaker out for test and the next for validation.
Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/fsdd_speakers.py
"""

from __future__ import annotations

import logging
import statistics
import tempfile
from pathlib import Path

from _common import data_dir, save, table
from earful.classify.data import fsdd
from earful.classify.train import TrainConfig, train


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    root = data_dir() / "fsdd"
    speakers = sorted({e.group for e in fsdd(root, "speaker", "george")})
    rows, accs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for spk in speakers:
            ex = fsdd(root, "speaker", spk)
            r = train(ex, Path(tmp) / spk, dataset={"name": "fsdd", "split": f"speaker {spk}"},
                      model_cfg={"channels": 16}, cfg=TrainConfig(epochs=15, seed=0),
                      cache_dir=Path(tmp) / "cache")
            accs[spk] = r.test["accuracy"] if r.test else 0.0
            rows.append([spk, f"{100 * accs[spk]:.1f}%", f"{r.seconds:.0f} s"])
            print(rows[-1], flush=True)
    mean = statistics.mean(accs.values())
    rows.append(["**mean**", f"**{100 * mean:.1f}%**", ""])
    md = ("### FSDD, speaker-independent (leave one speaker out)\n\n"
          + table(["held-out speaker", "test accuracy", "training time"], rows))
    save("fsdd_speakers", md, {"per_speaker": accs, "mean": mean})


if __name__ == "__main__":
    main()
