"""``earful train``, ``earful evaluate``, ``earful classify`` and ``earful download``."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger("earful")

DATASETS = ("speech_commands", "esc50", "fsdd", "folder")


def load_dataset(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any], list[Any]]:
    """Examples, their description and the background-noise clips for a dataset argument."""
    from earful.classify import data

    root = Path(args.data_dir)
    name = args.dataset
    noise: list[data.Example] = []
    if name == "speech_commands":
        examples = data.speech_commands(root, args.task)
        # Noise comes from the training split only, so test clips never leak into training.
        noise = [e for e in examples if e.split == "train" and e.label == data.SILENCE]
        if (root / "_background_noise_").is_dir():
            noise += [data.Example(f, data.SILENCE, "train") for f in
                      sorted((root / "_background_noise_").glob("*.wav"))]
        split = "official lists" if (root / "testing_list.txt").is_file() else "speaker hash"
    elif name == "esc50":
        examples = data.esc50(root, args.fold)
        split = f"official folds, test fold {args.fold}"
    elif name == "fsdd":
        examples = data.fsdd(root, args.split, args.test_speaker)
        split = args.split + (f", test speaker {args.test_speaker}" if args.test_speaker else "")
    else:
        examples = data.folder_tree(root, args.group_pattern)
        split = "group hash 80/10/10"
    if args.noise_dir:
        noise += [data.Example(f, "noise", "train") for f in sorted(Path(args.noise_dir).glob(
            "*.wav"))]
    return examples, {"name": name, "data_dir": str(root), "split": split,
                      "task": getattr(args, "task", None)}, noise


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, required=True)
    p.add_argument("--data-dir", required=True, help="the data set's folder")
    p.add_argument("--task", choices=("12", "35"), default="12", help="Speech Commands task")
    p.add_argument("--fold", type=int, default=1, help="ESC-50 test fold (1-5)")
    p.add_argument("--split", choices=("official", "speaker"), default="official",
                   help="FSDD split")
    p.add_argument("--test-speaker", default=None, help="FSDD held-out speaker")
    p.add_argument("--group-pattern", default=None,
                   help="folder data sets: regex whose group 1 is the speaker in a file name")
    p.add_argument("--noise-dir", default=None, help="extra background-noise WAVs")


def _cmd_train(args: argparse.Namespace) -> int:
    from earful.classify.augment import AugmentConfig
    from earful.classify.features import FeatureConfig
    from earful.classify.train import TrainConfig, train
    from earful.config import get_settings

    examples, dataset, noise = load_dataset(args)
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      patience=args.patience, seed=args.seed, ema_decay=args.ema,
                      select=args.select)
    cache = get_settings().cache_dir / "features"
    # Unset, each model keeps its own default dropout.
    dropout = {} if args.dropout is None else {"dropout": args.dropout}
    if args.encoder:
        from earful.classify.encoder import EncoderConfig
        from earful.classify.head_train import train_head

        result = train_head(
            examples, args.out, dataset=dataset,
            encoder=EncoderConfig(model=args.encoder, clip_seconds=args.clip_seconds),
            head_cfg={"hidden": args.hidden, **dropout}, cfg=cfg,
            copies=args.copies, noise_examples=noise, cache_dir=cache, resume=args.resume)
    else:
        result = train(
            examples, args.out, dataset=dataset,
            features=FeatureConfig(clip_seconds=args.clip_seconds),
            model_cfg={"channels": args.channels, "depth": args.depth,
                       "members": args.members, **dropout},
            augment=AugmentConfig(mixup_alpha=args.mixup, **{k: v for k, v in (
                ("speed", args.speed), ("vtlp", args.vtlp)) if v is not None}),
            cfg=cfg, noise_examples=noise, cache_dir=cache, resume=args.resume)
    test = result.test or {}
    print(json.dumps({"run_dir": str(result.run_dir), "best_epoch": result.best_epoch,
                      "val_accuracy": result.val["accuracy"],
                      "test_accuracy": test.get("accuracy"),
                      "test_macro_f1": test.get("macro_f1"),
                      "train_seconds": round(result.seconds, 1)}, indent=2))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from earful.classify.evaluate import evaluate_checkpoint

    examples, _, _ = load_dataset(args)
    report = evaluate_checkpoint(args.checkpoint, examples, args.split_name, args.out)
    print(json.dumps({k: report[k] for k in ("accuracy", "macro_f1", "n")}, indent=2))
    return 0


def _cmd_classify(args: argparse.Namespace) -> int:
    from earful.audio.io import load_audio
    from earful.classify.inference import get_classifier
    from earful.errors import EarfulError

    clf = get_classifier(args.model)
    results, failed = [], 0
    for f in args.files:
        try:
            pred = clf.classify(load_audio(f, clf.features.sample_rate), args.top_k)
        except EarfulError as e:
            logger.error("skipped %s: %s", f, e)
            failed += 1
            continue
        results.append({"file": f, **pred.to_dict()})
        if not args.json:
            note = f" ({pred.windows} windows)" if pred.windows > 1 else ""
            tops = ", ".join(f"{lbl} {s:.2f}" for lbl, s in pred.top_k)
            print(f"{f}: {pred.label} ({pred.score:.2f}){note}  [{tops}]")
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if failed else 0


def _cmd_download(args: argparse.Namespace) -> int:
    from earful.classify.download import download_dataset

    print(download_dataset(args.name, args.dest, args.url))
    return 0


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a classifier: a log-mel CNN, or with --encoder a "
                       "head on a frozen Whisper encoder")
    _add_dataset_args(p)
    p.add_argument("--out", required=True, help="run folder (checkpoints, metrics, plots)")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--patience", type=int, default=12)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--dropout", type=float, default=None,
                   help="dropout (default 0.2 for the CNN, 0.3 for an encoder head)")
    p.add_argument("--members", type=int, default=1,
                   help="networks trained side by side and averaged (an ensemble in one model)")
    p.add_argument("--select", choices=("val", "last"), default="val",
                   help="keep the epoch with the best validation accuracy, or the final one "
                        "(when the validation split is too small to choose by)")
    p.add_argument("--ema", type=float, default=0.0,
                   help="keep and save an exponential moving average of the weights with "
                        "this decay per step, e.g. 0.995 (0 = off)")
    p.add_argument("--mixup", type=float, default=0.0, help="mixup alpha (0 = off)")
    p.add_argument("--speed", type=float, default=None,
                   help="speed perturbation: time stretched by up to this fraction "
                        "(0 = off; default 0.15)")
    p.add_argument("--vtlp", type=float, default=None,
                   help="vocal-tract-length perturbation: mel axis scaled by up to this "
                        "fraction (0 = off; default 0.1)")
    p.add_argument("--encoder", default=None, metavar="WHISPER_MODEL",
                   help="train a head on this frozen Whisper encoder (tiny.en and base are "
                        "bundled) instead of a CNN; the CNN flags above do not apply")
    p.add_argument("--copies", type=int, default=2,
                   help="--encoder: randomised copies of the training split (speed, shift, "
                        "noise) encoded once and added to it")
    p.add_argument("--hidden", type=int, default=128, help="--encoder: head width")
    p.add_argument("--clip-seconds", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.set_defaults(handler=_cmd_train)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score a checkpoint on a data set split")
    p.add_argument("checkpoint")
    _add_dataset_args(p)
    p.add_argument("--split-name", choices=("train", "val", "test", "all"), default="test")
    p.add_argument("--out", required=True, help="folder for metrics.json and confusion.png")
    p.set_defaults(handler=_cmd_evaluate)


def _add_classify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classify", help="classify audio files")
    p.add_argument("files", nargs="+")
    p.add_argument("--model", default=None, help="checkpoint (default: shipped keyword model)")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_classify)


def _add_download(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("download", help="download speech_commands or esc50 (needs internet)")
    p.add_argument("name", choices=("speech_commands", "esc50"))
    p.add_argument("dest")
    p.add_argument("--url", default=None, help="override the source URL (file:// works)")
    p.set_defaults(handler=_cmd_download)


REGISTRARS = [_add_train, _add_evaluate, _add_classify, _add_download]
