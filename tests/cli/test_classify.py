"""``earful train`` / ``evaluate``: unset flags leave the library's defaults alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from earful.classify import data
from earful.classify.augment import AugmentConfig
from earful.classify.encoder import EncoderConfig
from earful.classify.features import FeatureConfig
from earful.classify.train import TrainConfig
from earful.cli import build_parser
from earful.cli.classify import (
    DATASETS,
    cnn_configs,
    dataset_from_args,
    head_configs,
    train_config,
)


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_dataset_choices_are_the_library_ones() -> None:
    assert DATASETS == data.DATASETS


def test_train_without_flags_uses_the_dataclass_defaults(tmp_path: Path) -> None:
    args = parse("train", "--dataset", "esc50", "--data-dir", str(tmp_path), "--out", "run")
    assert dataset_from_args(args) == data.DatasetSpec("esc50", tmp_path)
    assert train_config(args) == TrainConfig()
    assert cnn_configs(args) == (FeatureConfig(), {}, AugmentConfig())
    encoder = parse("train", "--dataset", "esc50", "--data-dir", str(tmp_path), "--out", "run",
                    "--encoder", "base")
    assert head_configs(encoder) == (EncoderConfig(model="base"), {}, {})


def test_train_flags_reach_their_fields(tmp_path: Path) -> None:
    args = parse("train", "--dataset", "fsdd", "--data-dir", str(tmp_path), "--out", "run",
                 "--split", "speaker", "--test-speaker", "theo", "--epochs", "3",
                 "--batch-size", "8", "--lr", "0.01", "--patience", "2", "--seed", "7",
                 "--select", "last", "--ema", "0.99", "--channels", "8", "--depth", "2",
                 "--members", "2", "--dropout", "0", "--mixup", "0.2", "--speed", "0",
                 "--vtlp", "0.05", "--clip-seconds", "2", "--hidden", "64", "--copies", "0",
                 "--encoder", "tiny.en")
    assert dataset_from_args(args) == data.DatasetSpec("fsdd", tmp_path, split="speaker",
                                                       test_speaker="theo")
    assert train_config(args) == TrainConfig(epochs=3, batch_size=8, lr=0.01, patience=2,
                                             seed=7, select="last", ema_decay=0.99)
    features, model_cfg, augment = cnn_configs(args)
    assert features == FeatureConfig(clip_seconds=2.0)
    # 0 is a value the user gave (no dropout, no speed perturbation), not "unset".
    assert model_cfg == {"channels": 8, "depth": 2, "members": 2, "dropout": 0.0}
    assert augment == AugmentConfig(mixup_alpha=0.2, speed=0.0, vtlp=0.05)
    assert head_configs(args) == (EncoderConfig(model="tiny.en", clip_seconds=2.0),
                                  {"hidden": 64, "dropout": 0.0}, {"copies": 0})


def test_evaluate_takes_the_same_dataset_flags(tmp_path: Path) -> None:
    args = parse("evaluate", "best.pt", "--dataset", "folder", "--data-dir", str(tmp_path),
                 "--group-pattern", "^([^_]+)_", "--out", "o")
    assert dataset_from_args(args) == data.DatasetSpec("folder", tmp_path,
                                                       group_pattern="^([^_]+)_")
    args = parse("evaluate", "best.pt", "--dataset", "speech_commands", "--data-dir",
                 str(tmp_path), "--task", "35", "--out", "o")
    assert dataset_from_args(args) == data.DatasetSpec("speech_commands", tmp_path, task="35")
