"""Training a head on the frozen Whisper encoder, on real Speech Commands clips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earful.audio.io import load_audio
from earful.classify import data
from earful.classify.checkpoint import load_checkpoint
from earful.classify.encoder import EncoderConfig
from earful.classify.evaluate import evaluate_checkpoint
from earful.classify.head_train import train_head
from earful.classify.inference import load_classifier
from earful.classify.train import TrainConfig
from earful.cli import main

WORDS = ("yes", "no", "_silence_")
FAST = TrainConfig(epochs=4, batch_size=32, lr=3e-3, patience=4, seed=0)


@pytest.fixture(scope="module")
def small_tree(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """yes, no and _silence_ from the shared Speech Commands subset, linked, not copied."""
    root = tmp_path_factory.mktemp("sc3")
    for word in WORDS:
        (root / word).mkdir()
        for f in sorted((shared_data / "speech_commands" / word).glob("*.wav")):
            (root / word / f.name).symlink_to(f)
    return root


@pytest.fixture(scope="module")
def run_dir(small_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("head-run")
    code = main(["train", "--dataset", "speech_commands", "--data-dir", str(small_tree),
                 "--out", str(out), "--encoder", "tiny.en", "--copies", "1", "--epochs", "4",
                 "--patience", "4", "--batch-size", "32", "--lr", "3e-3"])
    assert code == 0
    return out


def test_head_learns_unseen_speakers_and_writes_everything(run_dir: Path) -> None:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # Three classes, speakers never seen in training: chance is 33%.
    assert metrics["test"]["accuracy"] >= 0.9
    for name in ("best.pt", "last.pt", "metrics.json", "confusion.png", "history.json"):
        assert (run_dir / name).is_file()
    assert not list(run_dir.glob("*.part"))


def test_head_checkpoint_describes_itself(run_dir: Path) -> None:
    model, meta = load_checkpoint(run_dir / "best.pt")
    assert meta["model_type"] == "encoder-head"
    assert EncoderConfig(**meta["encoder_config"]) == EncoderConfig(model="tiny.en")
    assert meta["model_config"]["dim"] == 384 and meta["copies"] == 1
    assert meta["labels"] == sorted(WORDS) and meta["background_labels"] == ["_silence_"]
    assert meta["dataset"]["split"] == "speaker hash"
    assert meta["metrics"]["test_accuracy"] >= 0.9
    assert sum(p.numel() for p in model.parameters()) < 200_000


def test_evaluate_and_classify_with_a_head(run_dir: Path, small_tree: Path,
                                           tmp_path: Path) -> None:
    examples = data.speech_commands(small_tree)
    report = evaluate_checkpoint(run_dir / "best.pt", examples, "test", tmp_path)
    _, meta = load_checkpoint(run_dir / "best.pt")
    assert abs(report["accuracy"] - meta["metrics"]["test_accuracy"]) < 0.01
    clf = load_classifier(str(run_dir / "best.pt"))
    test_yes = [e for e in examples if e.split == "test" and e.label == "yes"]
    hits = [clf.classify(load_audio(e.path)).label == "yes" for e in test_yes[:10]]
    assert sum(hits) >= 8
    # A word inside 3 s of silence is found by the sliding windows.
    audio = np.concatenate([np.zeros(16000, np.float32), load_audio(test_yes[0].path),
                            np.zeros(16000, np.float32)])
    pred = clf.classify(audio)
    assert pred.windows > 1 and pred.label == "yes"


def test_interrupted_head_training_resumes_to_the_same_result(small_tree: Path,
                                                              tmp_path: Path) -> None:
    examples = data.speech_commands(small_tree)
    kw = {"dataset": {"name": "sc3"}, "cfg": FAST, "copies": 0,
          "cache_dir": tmp_path / "cache"}
    whole = train_head(examples, tmp_path / "whole", **kw)
    part = train_head(examples, tmp_path / "split", stop_after=2, **kw)
    assert len(part.history) == 2 and not (tmp_path / "split" / "metrics.json").exists()
    resumed = train_head(examples, tmp_path / "split", resume=True, **kw)
    assert resumed.history == whole.history
    assert resumed.test is not None and whole.test is not None
    assert resumed.test["accuracy"] == whole.test["accuracy"]


def test_encoder_head_on_longer_clips_without_shared_data(esc50_tree: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    """The ESC-50 layout with 2 s clips: 200 mel frames in, 100 encoder frames out."""
    code = main(["train", "--dataset", "esc50", "--data-dir", str(esc50_tree), "--fold", "2",
                 "--out", str(tmp_path), "--encoder", "tiny.en", "--clip-seconds", "2",
                 "--copies", "0", "--epochs", "6", "--batch-size", "8", "--lr", "3e-3"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    # Three tones (300, 1200, 3500 Hz): chance is a third.
    assert result["test_accuracy"] >= 0.9
    clf = load_classifier(str(tmp_path / "best.pt"))
    assert clf.encoder == EncoderConfig(model="tiny.en", clip_seconds=2.0)
    assert clf.features.samples == 32000
    silence = np.zeros((1, 32000), np.float32)
    assert clf.probabilities(silence).shape == (1, 3)
