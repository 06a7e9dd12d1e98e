"""`earful speak`, `voices` and `clone` as a user runs them (a subprocess per command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from earful.audio.io import decode

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'earful[tts]')")


def earful(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EARFUL_VOICE_STORE": str(tmp / "voices")}
    return subprocess.run([sys.executable, "-m", "earful", *args, "-q"], env=env,
                          capture_output=True, text=True, timeout=300)


def test_speak_voices_and_clone(tmp_path: Path, test_data: Path) -> None:
    done = earful(tmp_path, "speak", "Hello from the command line.", "-o",
                  str(tmp_path / "hello.mp3"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["engine"] == "piper"
    assert 1.0 < decode(tmp_path / "hello.mp3", None).duration < 4.0

    added = earful(tmp_path, "voices", "add", "kennedy", str(test_data / "jfk.flac"))
    assert added.returncode == 0, added.stderr
    voice_id = json.loads(added.stdout)["id"]
    listed = json.loads(earful(tmp_path, "voices", "list").stdout)
    assert [v["name"] for v in listed["saved"]] == ["kennedy"]

    cloned = earful(tmp_path, "clone", "Ask not.", "--voice", "kennedy", "-o",
                    str(tmp_path / "ask.wav"))
    assert cloned.returncode == 0, cloned.stderr
    assert json.loads(cloned.stdout)["voice"] == voice_id
    assert decode(tmp_path / "ask.wav", None).duration > 0.3

    assert earful(tmp_path, "voices", "remove", "kennedy").returncode == 0
    short = earful(tmp_path, "clone", "x", "--reference", str(test_data / "yes.wav"), "-o",
                   str(tmp_path / "x.wav"))
    assert short.returncode == 2 and "1.00 s long" in short.stderr
    assert not (tmp_path / "x.wav").exists()
