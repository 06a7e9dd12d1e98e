"""The CLI is a thin layer: arguments in, library call, exit code out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from earful.cli import main


def test_analyze_command(test_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["analyze", str(test_data / "jfk.mp3"), "--out", str(tmp_path)]) == 0
    written = json.loads(capsys.readouterr().out)
    assert {Path(p).name for p in written.values()} == {
        "waveform.png", "spectrogram.png", "mel.png", "mfcc.png", "summary.json"}
    assert json.loads((tmp_path / "summary.json").read_text())["duration"] == pytest.approx(11.0)


def test_bad_file_gives_clear_error_and_exit_code(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    assert main(["analyze", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "cannot decode audio from" in caplog.text and "notes.wav" in caplog.text


def test_entry_point_runs() -> None:
    exe = Path(sys.executable).with_name("earful")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "analyze" in out.stdout
