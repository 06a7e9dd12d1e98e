"""Training, checkpoints, evaluation and inference on a small learnable tree."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from earful.classify import data
from earful.classify.checkpoint import load_checkpoint
from earful.classify.download import download_dataset
from earful.classify.evaluate import evaluate_checkpoint
from earful.classify.inference import load_classifier
from earful.classify.train import TrainConfig, train
from earful.cli import main
from earful.errors import CheckpointError, DatasetError
from tests.classify.conftest import FREQS, tone_clip

FAST = TrainConfig(epochs=8, batch_size=16, lr=5e-3, patience=10, seed=0)


@pytest.fixture(scope="module")
def run(tone_tree: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ex = data.folder_tree(tone_tree, r"^(spk\d+)_")
    out = tmp_path_factory.mktemp("run")
    return train(ex, out, dataset={"name": "tones"}, cfg=FAST, model_cfg={"channels": 8},
                 cache_dir=out / "cache")


def test_training_learns_and_writes_everything(run) -> None:  # type: ignore[no-untyped-def]
    assert run.test["accuracy"] >= 0.9
    for name in ("best.pt", "last.pt", "metrics.json", "confusion.png", "history.json"):
        assert (run.run_dir / name).is_file()
    assert len(json.loads((run.run_dir / "history.json").read_text())) == 8
    assert not list(run.run_dir.glob("*.part"))


def test_checkpoint_describes_itself(run) -> None:  # type: ignore[no-untyped-def]
    _, meta = load_checkpoint(run.run_dir / "best.pt")
    assert meta["labels"] == ["high", "low", "mid"]
    assert meta["feature_config"]["n_mels"] == 40
    assert meta["model_config"]["channels"] == 8
    assert meta["dataset"]["name"] == "tones" and meta["train_config"]["seed"] == 0
    assert meta["metrics"]["test_accuracy"] == run.test["accuracy"]
    assert {"train", "val", "test"} == set(meta["split_sizes"])
    assert meta["earful_version"] and meta["epoch"] == run.best_epoch


def test_training_is_reproducible(tone_tree: Path, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    ex = data.folder_tree(tone_tree, r"^(spk\d+)_")
    again = train(ex, tmp_path, dataset={"name": "tones"}, cfg=FAST, model_cfg={"channels": 8},
                  cache_dir=run.run_dir / "cache")
    assert again.history == run.history


def test_interrupted_then_resumed_equals_uninterrupted(tone_tree: Path, tmp_path: Path,
                                                        run) -> None:  # type: ignore[no-untyped-def]
    ex = data.folder_tree(tone_tree, r"^(spk\d+)_")
    kwargs = {"dataset": {"name": "tones"}, "cfg": FAST, "model_cfg": {"channels": 8}}
    part = train(ex, tmp_path, stop_after=2, **kwargs)  # type: ignore[arg-type]
    assert [h["epoch"] for h in part.history] == [1, 2] and part.test is None
    resumed = train(ex, tmp_path, resume=True, **kwargs)  # type: ignore[arg-type]
    assert resumed.history == run.history  # bit-for-bit the same run
    with pytest.raises(ValueError, match="settings of the interrupted run"):
        train(ex, tmp_path, resume=True, dataset={"name": "tones"}, model_cfg={"channels": 8},
              cfg=TrainConfig(epochs=9, batch_size=16, lr=5e-3))


def test_ensemble_with_weight_average_learns_saves_and_resumes(tone_tree: Path,
                                                               tmp_path: Path) -> None:
    ex = data.folder_tree(tone_tree, r"^(spk\d+)_")
    cfg = TrainConfig(epochs=6, batch_size=16, lr=5e-3, patience=10, seed=0, ema_decay=0.9)
    kwargs = {"dataset": {"name": "tones"}, "cfg": cfg,
              "model_cfg": {"channels": 8, "members": 2}, "cache_dir": tmp_path / "cache"}
    full = train(ex, tmp_path / "full", **kwargs)  # type: ignore[arg-type]
    assert full.test is not None and full.test["accuracy"] >= 0.9
    clf = load_classifier(str(full.run_dir / "best.pt"))
    assert clf.model.cfg.members == 2 and clf.meta["train_config"]["ema_decay"] == 0.9
    state = torch.load(full.run_dir / "last.pt", weights_only=False)
    averaged = state["ema"]["module.head.1.weight"]
    assert not torch.equal(averaged, state["model"]["head.1.weight"])
    part = train(ex, tmp_path / "resumed", stop_after=3, **kwargs)  # type: ignore[arg-type]
    assert len(part.history) == 3
    resumed = train(ex, tmp_path / "resumed", resume=True, **kwargs)  # type: ignore[arg-type]
    assert resumed.history == full.history  # the average is carried across the interruption


def test_select_last_keeps_the_final_epoch(tone_tree: Path, tmp_path: Path) -> None:
    ex = data.folder_tree(tone_tree, r"^(spk\d+)_")
    cfg = TrainConfig(epochs=4, batch_size=16, lr=5e-3, patience=1, seed=0, select="last")
    r = train(ex, tmp_path, dataset={"name": "tones"}, cfg=cfg, model_cfg={"channels": 8},
              cache_dir=tmp_path / "cache")
    assert r.best_epoch == 4 and len(r.history) == 4  # patience 1 did not stop it
    kept, meta = load_checkpoint(tmp_path / "best.pt")
    final = torch.load(tmp_path / "last.pt", weights_only=False)["model"]
    assert meta["epoch"] == 4
    assert all(torch.equal(v, final[k]) for k, v in kept.state_dict().items())
    with pytest.raises(ValueError, match="select"):
        TrainConfig(select="first")


def test_evaluate_any_checkpoint(run, tone_tree: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ex = data.folder_tree(tone_tree, r"^(spk\d+)_")
    report = evaluate_checkpoint(run.run_dir / "best.pt", ex, "all", tmp_path)
    assert report["n"] == len(ex) and report["accuracy"] >= 0.9
    assert set(report["per_class"]) == {"high", "low", "mid"}
    assert set(report["per_group"]) == {e.group for e in ex}
    assert sum(g["n"] for g in report["per_group"].values()) == len(ex)
    assert (tmp_path / "confusion.png").is_file()
    with pytest.raises(DatasetError, match="not in the checkpoint"):
        evaluate_checkpoint(run.run_dir / "best.pt",
                            [data.Example(ex[0].path, "other", "test")], "test", tmp_path)


def test_long_audio_is_scored_in_windows(run) -> None:  # type: ignore[no-untyped-def]
    clf = load_classifier(str(run.run_dir / "best.pt"))
    single = clf.classify(tone_clip(FREQS["mid"], 1))
    assert single.label == "mid" and single.windows == 1
    long = np.concatenate([tone_clip(FREQS["high"], i) for i in range(4)])
    pred = clf.classify(long, top_k=2)
    assert pred.label == "high" and pred.windows == 7 and len(pred.window_labels) == 7
    assert pred.top_k[0][0] == "high" and len(pred.top_k) == 2
    # Longer than one batch of windows: every window is scored, in order.
    longer = np.concatenate([tone_clip(FREQS["low"], i) for i in range(40)]
                            + [tone_clip(FREQS["high"], 99)])
    many = clf.classify(longer)
    assert many.windows == 81 and len(many.window_labels) == 81
    assert [w["start"] for w in many.window_labels] == [0.5 * i for i in range(81)]
    assert many.window_labels[-1]["label"] == "high" and many.window_labels[0]["label"] == "low"


def test_classify_cli_json(run, tone_tree: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                           capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    f = str(tone_tree / "low" / "spk0_0.wav")
    code = main(["classify", f, str(bad), "--model", str(run.run_dir / "best.pt"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and len(out) == 1
    assert out[0]["file"] == f and out[0]["label"] == "low"
    assert {"score", "top_k"} <= out[0].keys()


def test_corrupt_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an earful"):
        load_checkpoint(tmp_path / "other.pt")


def test_esc50_fold_training_via_cli(esc50_tree: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture) -> None:
    code = main(["train", "--dataset", "esc50", "--data-dir", str(esc50_tree), "--fold", "2",
                 "--out", str(tmp_path), "--epochs", "3", "--batch-size", "8", "--channels",
                 "8", "--clip-seconds", "2"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["test_accuracy"] is not None
    _, meta = load_checkpoint(tmp_path / "best.pt")
    assert meta["dataset"]["split"] == "official folds, test fold 2"
    assert meta["feature_config"]["clip_seconds"] == 2.0


def test_download_from_local_archive(tmp_path: Path, esc50_tree: Path) -> None:
    archive = tmp_path / "esc.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(esc50_tree, arcname="ESC-50-master")
    root = download_dataset("esc50", tmp_path / "dest", archive.as_uri())
    assert (root / "meta" / "esc50.csv").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".esc50-")]


def test_download_refuses_escaping_archive(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar"
    (tmp_path / "payload").write_text("x")
    with tarfile.open(evil, "w") as tf:
        tf.add(tmp_path / "payload", arcname="../escaped")
    with pytest.raises(Exception, match=r"outside|escape|\.\./"):
        download_dataset("speech_commands", tmp_path / "sc", evil.as_uri())
    assert not (tmp_path / "escaped").exists()
