"""The shipped models (the default one inside the package, the others under models/) load,
describe themselves and classify real clips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from earful.classify.checkpoint import load_checkpoint
from earful.cli import main

MODELS = Path(__file__).resolve().parents[2] / "models"


def model_dir(name: str) -> Path:
    """Where a shipped model's folder is: package data for the default, models/ else."""
    from earful.classify.inference import DEFAULT_MODEL

    return DEFAULT_MODEL.parent if name == DEFAULT_MODEL.parent.name else MODELS / name


@pytest.mark.parametrize("name", ["kws12-whisper", "kws12", "fsdd"])
def test_model_card_and_metadata(name: str) -> None:
    _, meta = load_checkpoint(model_dir(name) / "model.pt")
    assert (model_dir(name) / "MODEL_CARD.md").is_file()
    assert meta["metrics"]["test_accuracy"] > 0.85
    assert meta["dataset"]["name"] in ("speech_commands", "fsdd")
    assert (model_dir(name) / "model.pt").stat().st_size < 3_000_000


def test_default_model_is_package_data() -> None:
    from importlib import resources

    from earful.classify.inference import DEFAULT_MODEL

    packaged = resources.files("earful.classify") / "shipped" / "kws12-whisper" / "model.pt"
    assert packaged.is_file() and Path(str(packaged)) == DEFAULT_MODEL


def test_default_model_hears_yes(test_data: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["classify", str(test_data / "yes.wav"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)[0]
    assert out["label"] == "yes" and out["windows"] == 1


@pytest.mark.parametrize("name", [None, "kws12"])
def test_keyword_found_inside_a_longer_recording(test_data: Path, name: str | None) -> None:
    import numpy as np

    from earful.audio.io import load_audio
    from earful.classify.inference import get_classifier

    clf = get_classifier(MODELS / name / "model.pt" if name else None)
    noise = load_audio(test_data / "background_noise.wav")
    audio = np.concatenate([noise, load_audio(test_data / "yes.wav"), noise])
    pred = clf.classify(audio)
    assert pred.windows > 1 and pred.label == "yes"


def test_fsdd_model_hears_seven(test_data: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["classify", str(test_data / "digit_7.wav"), "--model",
                 str(MODELS / "fsdd" / "model.pt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["label"] == "7"


@pytest.mark.parametrize("name", ["kws12-whisper", "kws12", "fsdd"])
def test_shipped_model_scores_what_its_card_says(name: str, shared_data: Path,
                                                 tmp_path: Path) -> None:
    from earful.classify import data
    from earful.classify.evaluate import evaluate_checkpoint

    examples = (data.speech_commands(shared_data / "speech_commands") if name.startswith("kws12")
                else data.fsdd(shared_data / "fsdd"))
    report = evaluate_checkpoint(model_dir(name) / "model.pt", examples, "test", tmp_path)
    _, meta = load_checkpoint(model_dir(name) / "model.pt")
    # The same clips and weights give the recorded figure, up to float summation order and
    # CTranslate2's int8 kernels for the encoder, which vary with threads and with the CPU:
    # kws12-whisper recorded 0.9706 and scored 0.9758 on an AMD EPYC with AVX-512 VNNI
    # (0.9775 with CT2_FORCE_CPU_ISA set), so one point is allowed, not half a point.
    assert report["accuracy"] == pytest.approx(meta["metrics"]["test_accuracy"], abs=0.01)
    # Floors a retrained model must keep; the project's target on unseen speakers is 92%,
    # which the log-mel CNN trained from scratch on this little data does not reach.
    assert report["accuracy"] >= {"kws12-whisper": 0.95, "kws12": 0.90, "fsdd": 0.99}[name]
