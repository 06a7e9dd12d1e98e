"""WER/CER scoring and the eval-asr command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from earful.asr.evaluate import get_normaliser, read_manifest, score
from earful.cli import main
from earful.errors import DatasetError, InvalidOptionError


def test_normalised_scoring() -> None:
    norm = get_normaliser("english")
    assert score(["Hello, World! It's 7 o'clock."], ["hello world it is seven o'clock"],
                 norm).wer == 0.0
    s = score(["the cat sat on the mat", "a b"], ["the cat sat on mat", "a b c"], norm)
    # one deletion + one insertion over 8 reference words
    assert (s.deletions, s.insertions, s.reference_words) == (1, 1, 8)
    assert s.wer == pytest.approx(2 / 8)
    assert get_normaliser("none")("A  b") == "A b"
    with pytest.raises(InvalidOptionError):
        score([""], ["anything"], norm)


def test_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        read_manifest(tmp_path / "missing.tsv")
    (tmp_path / "bad.tsv").write_text("path\tsentence\nx.wav\thi\n")
    with pytest.raises(DatasetError, match="'file' and 'text'"):
        read_manifest(tmp_path / "bad.tsv")


@pytest.fixture
def manifest(test_data: Path, tmp_path: Path) -> Path:
    shutil.copy(test_data / "jfk.flac", tmp_path / "jfk.flac")
    shutil.copy(test_data / "digit_7.wav", tmp_path / "seven.wav")
    ref = (test_data / "jfk.txt").read_text().strip()
    path = tmp_path / "manifest.tsv"
    path.write_text(f"file\ttext\njfk.flac\t{ref}\nseven.wav\tseven\n")
    return path


def test_eval_asr_json_and_snr_curve(manifest: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture) -> None:
    plot = tmp_path / "curve.png"
    assert main(["eval-asr", str(manifest), "--json", "--snr", "10,0", "--plot", str(plot)]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["snr_db"] for r in reports] == [None, 10.0, 0.0]
    clean = reports[0]
    assert clean["wer"] <= 0.05 and clean["utterances"] == 2
    assert clean["reference_words"] == 23
    assert reports[2]["wer"] >= clean["wer"]  # noise never helps on average
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_eval_asr_table(manifest: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["eval-asr", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert "REF: seven" in out and "clean" in out


def test_librispeech_subset(shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    manifest = shared_data / "speech" / "librispeech_test_other" / "transcripts.tsv"
    assert main(["eval-asr", str(manifest), "--limit", "4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[0]
    # tiny.en's published test-other WER is ~15%; four utterances vary, so bound loosely.
    assert report["wer"] < 0.35 and report["utterances"] == 4
