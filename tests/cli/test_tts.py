"""`earful speak`, `voices` and `clone` as a user runs them (a subprocess per command), and
the options their flags build."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from earful.audio.io import decode
from earful.cli import build_parser
from earful.cli.tts import clone_options, eval_clone_options, speak_options
from earful.config import Settings

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'earful[tts]')")


def earful(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EARFUL_VOICE_STORE": str(tmp / "voices"),
           "EARFUL_CLONE_ENROL_STEPS": "2"}  # a short Kokoro enrolment
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


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_speak_without_flags_uses_the_speak_options_defaults() -> None:
    from earful.tts.piper_engine import SpeakOptions

    assert speak_options(parse("speak", "Hi.", "-o", "x.wav")) == SpeakOptions()
    fast = speak_options(parse("speak", "Hi.", "-o", "x.wav", "--speed", "1.5"))
    assert fast == SpeakOptions(speed=1.5)


def test_speak_with_kokoro_builds_kokoro_options() -> None:
    from earful.tts.kokoro_engine import KokoroOptions

    args = parse("speak", "Hi.", "-o", "x.wav", "--engine", "kokoro", "--voice", "jm_kumo")
    assert speak_options(args) == KokoroOptions() and args.voice == "jm_kumo"
    british = speak_options(parse("speak", "Hi.", "-o", "x.wav", "--engine", "kokoro",
                                  "--speed", "1.5", "--accent", "en-gb"))
    assert british == KokoroOptions(speed=1.5, language="en-gb")
    assert parse("speak", "Hi.", "-o", "x.wav").engine is None


def test_clone_flags_over_settings_over_defaults() -> None:
    from earful.tts.clone import CloneOptions

    settings = Settings(clone_engine="xtts", tts_voice="amy")
    plain = parse("clone", "Hi.", "--voice", "kennedy", "-o", "x.wav")
    assert clone_options(plain, settings) == CloneOptions(engine="xtts", base_voice="amy")
    full = parse("clone", "Hi.", "--voice", "kennedy", "-o", "x.wav", "--engine", "offline",
                 "--language", "en-us", "--speed", "1.2", "--strength", "0")
    assert clone_options(full, settings) == CloneOptions(
        engine="offline", language="en-us", speed=1.2, base_voice="amy", strength=0.0)


def test_eval_clone_engine_is_the_dataclass_default_not_the_setting() -> None:
    from earful.tts.clone import CloneOptions

    settings = Settings(clone_engine="xtts", tts_voice="amy")
    args = parse("eval-clone", "--references", "refs")
    assert eval_clone_options(args, settings) == CloneOptions(base_voice="amy")
    args = parse("eval-clone", "--references", "refs", "--engine", "xtts")
    assert eval_clone_options(args, settings) == CloneOptions(engine="xtts", base_voice="amy")
