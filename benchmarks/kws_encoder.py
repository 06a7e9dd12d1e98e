"""Keyword spotting with a frozen Whisper encoder: recipes chosen on development speakers.

The same protocol as ``kws_recipes.py`` (test speakers set aside, development = 12% of the
training speakers plus the validation split, 662 clips): each recipe trains a head
(``earful train --encoder``) on the rest and is scored on development with the checkpoint
validation picked. A linear model (logistic regression on the mean, standard deviation and
maximum of the frames over time) is the no-training-loop baseline.

Run (a few minutes per recipe on 2 CPU cores; pass recipe names to run only some):
    EARFUL_DATA=../shared/data .venv/bin/python benchmarks/kws_encoder.py [NAME ...]
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import save, table
from earful.classify import data
from earful.classify.checkpoint import load_checkpoint
from earful.classify.encoder import EncoderConfig, encode_examples
from earful.classify.head import EncoderHead
from earful.classify.head_train import predict_frames, train_head
from earful.classify.train import TrainConfig
from kws_recipes import dev_protocol

#: name -> (description, encoder model, copies, HeadConfig fields, TrainConfig fields);
#: copies None = the linear baseline.
RECIPES: dict[str, tuple[str, str, int | None, dict[str, Any], dict[str, Any]]] = {
    "linear-tiny": ("tiny.en, logistic regression on pooled frames", "tiny.en", None, {}, {}),
    "head-tiny-0": ("tiny.en, head, no copies", "tiny.en", 0, {}, {}),
    "head-tiny-2": ("tiny.en, head, 2 augmented copies", "tiny.en", 2, {}, {}),
    "head-tiny-4": ("tiny.en, head, 4 augmented copies", "tiny.en", 4, {}, {}),
    "head-base-2": ("base, head, 2 augmented copies", "base", 2, {}, {}),
}
TRAIN = {"epochs": 40, "patience": 40, "lr": 1e-3, "seed": 0}


def _pooled(frames: np.ndarray) -> np.ndarray:
    f = frames.astype(np.float32)
    return np.concatenate([f.mean(1), f.std(1), f.max(1)], axis=1)


def linear(examples: list[data.Example], dev: list[data.Example], model: str,
           cache: Path) -> float:
    """Development accuracy of logistic regression on pooled encoder frames."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cfg = EncoderConfig(model=model)
    train = [e for e in examples if e.split == "train"]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000))
    clf.fit(_pooled(encode_examples(train, cfg, cache, progress=False)),
            [e.label for e in train])
    pred = clf.predict(_pooled(encode_examples(dev, cfg, cache, progress=False)))
    return float(np.mean(pred == np.array([e.label for e in dev])))


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    names = sys.argv[1:] or list(RECIPES)
    examples, dev, noise, y = dev_protocol()
    rows: list[list[object]] = []
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for name in names:
            text, model, copies, head_cfg, train_cfg = RECIPES[name]
            start = time.perf_counter()
            if copies is None:
                acc = linear(examples, dev, model, cache)
            else:
                run = Path(tmp) / name
                train_head(examples, run, dataset={"name": "speech_commands", "split": "dev"},
                           encoder=EncoderConfig(model=model), head_cfg=head_cfg,
                           cfg=TrainConfig(**{**TRAIN, **train_cfg}), copies=copies,
                           noise_examples=noise, cache_dir=cache)
                best, _ = load_checkpoint(run / "best.pt")
                assert isinstance(best, EncoderHead)
                frames = encode_examples(dev, EncoderConfig(model=model), cache, progress=False)
                acc = float((predict_frames(best, frames).argmax(1) == y).mean())
            seconds = time.perf_counter() - start
            out[name] = {"dev_accuracy": acc, "seconds": seconds, "description": text}
            rows.append([name, text, f"{100 * acc:.1f}%", f"{seconds / 60:.1f} min"])
            print(rows[-1], flush=True)
    md = (f"### Keyword spotting on a frozen Whisper encoder, development speakers "
          f"({len(y)} clips, test speakers untouched)\n\n"
          + table(["recipe", "model", "dev accuracy", "time (encoding + training)"], rows))
    save("kws_encoder", md, out)


if __name__ == "__main__":
    main()
