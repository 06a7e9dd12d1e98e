"""``earful train``, ``earful evaluate``, ``earful classify`` and ``earful download``."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earful.cli import field_option, given, report_failures

if TYPE_CHECKING:
    from earful.classify.augment import AugmentConfig
    from earful.classify.data import DatasetSpec
    from earful.classify.encoder import EncoderConfig
    from earful.classify.features import FeatureConfig
    from earful.classify.train import TrainConfig

logger = logging.getLogger("earful")

#: Where each option's default lives (see :func:`earful.cli.field_default`).
DATA = "earful.classify.data:DatasetSpec"
TRAIN = "earful.classify.train:TrainConfig"
MODEL = "earful.classify.model:ModelConfig"
HEAD = "earful.classify.head:HeadConfig"
AUGMENT = "earful.classify.augment:AugmentConfig"
FEATURES = "earful.classify.features:FeatureConfig"
ENCODER = "earful.classify.encoder:EncoderConfig"
TRAIN_HEAD = "earful.classify.head_train:train_head"
DATASETS = ("speech_commands", "esc50", "fsdd", "folder")
"""``earful.classify.data.DATASETS``, repeated so ``--help`` needs no import (a test checks
that they agree)."""


def dataset_from_args(args: argparse.Namespace) -> DatasetSpec:
    """The data set the user named, with the split settings they gave."""
    from earful.classify.data import DatasetSpec

    return DatasetSpec(args.dataset, Path(args.data_dir),
                       **given(args, "task", "fold", "split", "test_speaker", "group_pattern"))


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The optimisation settings the user gave, over :class:`TrainConfig`'s defaults."""
    from earful.classify.train import TrainConfig

    return TrainConfig(**given(args, "epochs", "batch_size", "lr", "patience", "seed",
                               "select", ema_decay="ema"))


def cnn_configs(args: argparse.Namespace,
                ) -> tuple[FeatureConfig, dict[str, Any], AugmentConfig]:
    """Features, ``ModelConfig`` fields and augmentation for a CNN, from the user's flags."""
    from earful.classify.augment import AugmentConfig
    from earful.classify.features import FeatureConfig

    return (FeatureConfig(**given(args, "clip_seconds")),
            given(args, "channels", "depth", "members", "dropout"),
            AugmentConfig(**given(args, "speed", "vtlp", mixup_alpha="mixup")))


def head_configs(args: argparse.Namespace) -> tuple[EncoderConfig, dict[str, Any],
                                                      dict[str, Any]]:
    """Encoder, ``HeadConfig`` fields and other ``train_head`` arguments, from the flags."""
    from earful.classify.encoder import EncoderConfig

    return (EncoderConfig(model=args.encoder, **given(args, "clip_seconds")),
            given(args, "hidden", "dropout"), given(args, "copies"))


def _cmd_train(args: argparse.Namespace) -> int:
    from earful.classify import data
    from earful.config import get_settings

    spec = dataset_from_args(args)
    examples = data.load(spec)
    noise = data.background_noise(spec, examples)
    if args.noise_dir:
        noise += data.noise_folder(args.noise_dir)
    cfg = train_config(args)
    # The one setting this command reads: where features and encoder frames are cached.
    cache = get_settings().cache_dir / "features"
    if args.encoder:
        from earful.classify.head_train import train_head

        encoder, head_cfg, extra = head_configs(args)
        result = train_head(examples, args.out, dataset=data.describe(spec), encoder=encoder,
                            head_cfg=head_cfg, cfg=cfg, noise_examples=noise, cache_dir=cache,
                            resume=args.resume, **extra)
    else:
        from earful.classify.train import train

        features, model_cfg, augment = cnn_configs(args)
        result = train(examples, args.out, dataset=data.describe(spec), features=features,
                       model_cfg=model_cfg, augment=augment, cfg=cfg, noise_examples=noise,
                       cache_dir=cache, resume=args.resume)
    test = result.test or {}
    print(json.dumps({"run_dir": str(result.run_dir), "best_epoch": result.best_epoch,
                      "val_accuracy": result.val["accuracy"],
                      "test_accuracy": test.get("accuracy"),
                      "test_macro_f1": test.get("macro_f1"),
                      "train_seconds": round(result.seconds, 1)}, indent=2))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from earful.classify import data
    from earful.classify.evaluate import evaluate_checkpoint

    examples = data.load(dataset_from_args(args))
    report = evaluate_checkpoint(args.checkpoint, examples, args.split_name, args.out)
    print(json.dumps({k: report[k] for k in ("accuracy", "macro_f1", "n")}, indent=2))
    return 0


def _cmd_classify(args: argparse.Namespace) -> int:
    from earful.audio.io import load_audio
    from earful.classify.inference import get_classifier
    from earful.errors import EarfulError

    clf = get_classifier(args.model)
    results, failed = [], []
    for f in args.files:
        try:
            pred = clf.classify(load_audio(f, clf.features.sample_rate), args.top_k)
        except EarfulError as e:
            failed.append((f, str(e)))
            continue
        results.append({"file": f, **pred.to_dict()})
        if not args.json:
            note = f" ({pred.windows} windows)" if pred.windows > 1 else ""
            tops = ", ".join(f"{lbl} {s:.2f}" for lbl, s in pred.top_k)
            print(f"{f}: {pred.label} ({pred.score:.2f}){note}  [{tops}]")
    if args.json:
        print(json.dumps(results, indent=2))
    return report_failures(failed)


def _cmd_download(args: argparse.Namespace) -> int:
    from earful.classify.download import download_dataset

    print(download_dataset(args.name, args.dest, args.url))
    return 0


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, required=True)
    p.add_argument("--data-dir", required=True, help="the data set's folder")
    field_option(p, "--task", choices=("12", "35"), owner=DATA, help="Speech Commands task")
    field_option(p, "--fold", type=int, owner=DATA, help="ESC-50 test fold (1-5)")
    field_option(p, "--split", choices=("official", "speaker"), owner=DATA, help="FSDD split")
    p.add_argument("--test-speaker", default=None, help="FSDD held-out speaker")
    p.add_argument("--group-pattern", default=None,
                   help="folder data sets: regex whose group 1 is the speaker in a file name")
    p.add_argument("--noise-dir", default=None, help="extra background-noise WAVs")


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a classifier: a log-mel CNN, or with --encoder a "
                       "head on a frozen Whisper encoder")
    _add_dataset_args(p)
    p.add_argument("--out", required=True, help="run folder (checkpoints, metrics, plots)")
    field_option(p, "--epochs", type=int, owner=TRAIN, help="most epochs to run")
    field_option(p, "--batch-size", type=int, owner=TRAIN, help="clips per step")
    field_option(p, "--lr", type=float, owner=TRAIN, help="peak learning rate (one-cycle)")
    field_option(p, "--patience", type=int, owner=TRAIN,
                 help="stop after this many epochs without a better validation accuracy")
    field_option(p, "--channels", type=int, owner=MODEL, help="CNN: channels of the first block")
    field_option(p, "--depth", type=int, owner=MODEL, help="CNN: convolution blocks")
    field_option(p, "--dropout", type=float, owner={"the CNN": MODEL, "an encoder head": HEAD},
                 help="dropout before the classifier")
    field_option(p, "--members", type=int, owner=MODEL,
                 help="networks trained side by side and averaged (an ensemble in one model)")
    field_option(p, "--select", choices=("val", "last"), owner=TRAIN,
                 help="keep the epoch with the best validation accuracy, or the final one "
                      "(when the validation split is too small to choose by)")
    field_option(p, "--ema", type=float, owner=TRAIN, name="ema_decay",
                 help="keep and save an exponential moving average of the weights with "
                      "this decay per step, e.g. 0.995 (0 = off)")
    field_option(p, "--mixup", type=float, owner=AUGMENT, name="mixup_alpha",
                 help="mixup alpha (0 = off)")
    field_option(p, "--speed", type=float, owner=AUGMENT,
                 help="speed perturbation: time stretched by up to this fraction (0 = off)")
    field_option(p, "--vtlp", type=float, owner=AUGMENT,
                 help="vocal-tract-length perturbation: mel axis scaled by up to this "
                      "fraction (0 = off)")
    p.add_argument("--encoder", default=None, metavar="WHISPER_MODEL",
                   help="train a head on this frozen Whisper encoder (tiny.en and base are "
                        "bundled) instead of a CNN; the CNN flags above do not apply")
    field_option(p, "--copies", type=int, owner=TRAIN_HEAD,
                 help="--encoder: randomised copies of the training split (speed, shift, "
                      "noise) encoded once and added to it")
    field_option(p, "--hidden", type=int, owner=HEAD, help="--encoder: head width")
    field_option(p, "--clip-seconds", type=float,
                 owner={"the CNN": FEATURES, "an encoder head": ENCODER},
                 help="clips are cut or padded to this length")
    field_option(p, "--seed", type=int, owner=TRAIN,
                 help="seed for weights, batching and augmentation")
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
