"""Batch runs: inputs, outputs, failures and atomicity, through the real CLI."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from earful.asr import batch as batch_mod
from earful.asr.batch import expand_inputs, run_batch
from earful.asr.options import TranscribeOptions
from earful.asr.result import Segment, Transcript, Word
from earful.asr.writers import render
from earful.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def corpus(test_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(test_data / "jfk.mp3", folder / "speech.mp3")
    shutil.copy(test_data / "digit_7.wav", folder / "sub" / "digit.wav")
    (folder / "broken.wav").write_bytes(b"definitely not audio" * 10)
    (folder / "empty.flac").write_bytes(b"")
    (folder / "notes.txt").write_text("ignored: not an audio extension")
    return folder


def test_folder_with_bad_files(corpus: Path, tmp_path: Path,
                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    out = tmp_path / "out"
    code = main(["transcribe", str(corpus), "--format", "json", "--output-dir", str(out),
                 "--word-timestamps"])
    assert code == 1
    produced = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert produced == ["speech.json", "sub/digit.json"]
    data = json.loads((out / "speech.json").read_text())
    assert {"text", "language", "duration", "segments"} <= data.keys()
    assert "ask not what your country" in data["text"].lower()
    assert data["segments"][0]["words"][0]["start"] >= 0
    assert "2 transcribed, 2 failed" in caplog.text
    assert "broken.wav" in caplog.text and "empty.flac" in caplog.text


def test_expand_inputs_dedupes_and_globs(corpus: Path) -> None:
    jobs = list(expand_inputs([str(corpus / "*.mp3"), str(corpus / "speech.mp3"),
                               str(corpus / "missing.wav")]))
    assert [j.path.name for j in jobs] == ["speech.mp3", "missing.wav"]


def test_failed_write_leaves_no_partial_file(corpus: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def exploding(result: Transcript, fmt: str) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr("earful.asr.writers.render", exploding)
    out = tmp_path / "out"
    jobs = list(expand_inputs([str(corpus / "sub")]))
    summary = run_batch(jobs, TranscribeOptions(), fmt="json", output_dir=out, progress=False)
    assert summary.succeeded == 0 and len(summary.failed) == 1
    assert "disk full" in summary.failed[0][1]
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_skip_existing(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    jobs = list(expand_inputs([str(corpus / "sub")]))
    assert run_batch(jobs, TranscribeOptions(), fmt="txt", output_dir=out,
                     progress=False).succeeded == 1
    again = run_batch(jobs, TranscribeOptions(), fmt="txt", output_dir=out, progress=False,
                      skip_existing=True)
    assert again.skipped == 1 and again.succeeded == 0


def test_same_stem_inputs_do_not_overwrite(test_data: Path, tmp_path: Path) -> None:
    jobs = list(expand_inputs([str(test_data / "jfk.wav"), str(test_data / "jfk.ogg")]))
    dests = batch_mod.assign_outputs(jobs, tmp_path, "txt")
    assert [d.name for d in dests] == ["jfk.wav.txt", "jfk.ogg.txt"]


def _sample() -> Transcript:
    return Transcript("Hello there. General Kenobi.", "en", 0.99, 3725.5, [
        Segment(0, 0.0, 1.5, "Hello there.", words=[Word(0.0, 0.5, " Hello", 0.9)]),
        Segment(1, 3723.25, 3725.5, "General Kenobi."),
    ], "tiny.en", "faster-whisper")


def test_subtitle_formats() -> None:
    t = _sample()
    assert render(t, "srt").startswith("1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n"
                                       "01:02:03,250 --> 01:02:05,500\nGeneral Kenobi.\n")
    assert render(t, "vtt").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n")
    assert render(t, "tsv").splitlines()[2] == "3723250\t3725500\tGeneral Kenobi."
    assert render(t, "txt") == "Hello there.\nGeneral Kenobi.\n"
    assert Transcript.from_dict(json.loads(render(t, "json"))) == t


def test_transcribe_py_at_repository_root(test_data: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "transcribe.py"),
                          str(test_data / "jfk.flac")], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert "ask not what your country can do for you" in out.stdout
    assert "INFO" not in out.stdout
