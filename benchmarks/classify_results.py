"""Classifier figures: the shipped models' test scores and single-clip CPU latency.

The latency of ``kws12-whisper`` includes its frozen Whisper tiny.en encoder.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/classify_results.py
(Training the models is its own command; see models/*/MODEL_CARD.md.)
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch

from _common import data_dir, save, table
from earful.audio.io import load_audio
from earful.classify import data as ds
from earful.classify.evaluate import evaluate_checkpoint
from earful.classify.inference import load_classifier

ROOT = Path(__file__).resolve().parents[1]


def latency_ms(model: Path, clip: Path, runs: int = 200) -> tuple[float, float]:
    clf = load_classifier(str(model))
    audio = load_audio(clip, clf.features.sample_rate)
    for _ in range(20):
        clf.classify(audio)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        clf.classify(audio)
        times.append(1000 * (time.perf_counter() - t0))
    times.sort()
    return statistics.median(times), times[int(0.95 * runs)]


def main() -> None:
    data = data_dir()
    torch.set_num_threads(2)
    rows, raw = [], {}
    commands = ds.speech_commands(data / "speech_commands")
    cases = [
        ("kws12-whisper", commands, "Speech Commands 12-class, unseen speakers",
         data / "speech_commands" / "yes"),
        ("kws12", commands, "Speech Commands 12-class, unseen speakers",
         data / "speech_commands" / "yes"),
        ("fsdd", ds.fsdd(data / "fsdd"), "FSDD official split (takes 0-4)",
         data / "fsdd" / "recordings"),
    ]
    for name, examples, label, clip_dir in cases:
        model = ROOT / "models" / name / "model.pt"
        if not model.is_file():
            print(f"skipping {name}: {model} not found")
            continue
        report = evaluate_checkpoint(model, examples, "test", ROOT / "outputs" / f"eval-{name}")
        clf = load_classifier(str(model))
        p50, p95 = latency_ms(model, sorted(clip_dir.glob("*.wav"))[0])
        params = sum(p.numel() for p in clf.model.parameters())
        rows.append([name, label, report["n"], f"{100 * report['accuracy']:.1f}%",
                     f"{report['macro_f1']:.3f}", f"{p50:.1f} / {p95:.1f} ms",
                     f"{params / 1e3:.0f}k", f"{model.stat().st_size / 1e6:.2f} MB",
                     f"{clf.meta['metrics'].get('train_seconds', 0) / 60:.1f} min"])
        raw[name] = {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
                     "latency_p50_ms": p50, "latency_p95_ms": p95, "params": params,
                     "per_group": report["per_group"]}
        print(rows[-1], flush=True)
    md = ("### Shipped classifiers (test split, CPU, 2 threads)\n\n"
          + table(["model", "test set", "clips", "accuracy", "macro-F1",
                   "latency p50 / p95 (one clip)", "params", "file", "training time"], rows))
    for name in ("kws12-whisper", "kws12"):
        if name in raw:
            md += "\n\n" + speaker_table(name, raw[name]["per_group"], raw[name]["accuracy"])
    save("classify_results", md, raw)


def speaker_table(name: str, per_group: dict[str, dict[str, float]], overall: float) -> str:
    """A keyword model's hardest test speakers (silence clips have no speaker)."""
    speakers = {g: v for g, v in per_group.items()
                if g != "(none)" and not g.startswith("noise:")}
    clips = sum(v["n"] for v in speakers.values())
    rows: list[list[object]] = [
        [g, int(v["n"]), f"{100 * v['n'] / clips:.0f}%", f"{100 * v['accuracy']:.1f}%",
         round(v["n"] * (1 - v["accuracy"]))] for g, v in list(speakers.items())[:5]]
    mean = statistics.mean(v["accuracy"] for v in speakers.values())
    return (f"#### {name}: the hardest of its {len(speakers)} test speakers\n\n"
            + table(["speaker", "clips", "share of speech clips", "accuracy", "errors"], rows)
            + f"\n\nAccuracy is {100 * overall:.1f}% over all clips and "
            f"{100 * mean:.1f}% as a mean over speakers.")


if __name__ == "__main__":
    main()
