"""The CLI is a thin layer: arguments in, library call, exit code out."""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from earful.cli import (
    FieldHelp,
    build_parser,
    field_default,
    given,
    main,
    report_failures,
    show_progress,
)

ROOT = Path(__file__).resolve().parents[2]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


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


@pytest.mark.parametrize(("command", "expected"), [
    (["-m", "earful", "--help"], "eval-clone"),
    (["-m", "earful.cli", "--help"], "eval-clone"),
    ([str(ROOT / "transcribe.py"), "--help"], "usage: earful transcribe"),
])
def test_other_ways_in_run(command: list[str], expected: str) -> None:
    out = subprocess.run([sys.executable, *command], capture_output=True, text=True,
                         check=True, timeout=120)
    assert expected in out.stdout


def test_every_subcommand_is_there() -> None:
    assert set(subcommands()) == {
        "analyze", "transcribe", "eval-asr", "diarize", "eval-diarization", "train",
        "evaluate", "classify", "download", "serve", "demo", "speak", "clone", "voices",
        "eval-clone", "listen"}


def test_library_field_options_default_to_none_and_name_real_fields() -> None:
    """A renamed or moved field fails here, not when a user asks for help."""
    checked = 0
    for name, parser in subcommands().items():
        for action in parser._actions:
            if isinstance(action.help, FieldHelp):
                assert action.default is None, (name, action.dest)
                assert action.help.describe_default(), (name, action.dest)
                checked += 1
    assert checked >= 30


def test_help_shows_the_library_default(capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("torch", reason="the classify extra holds these defaults")
    from earful.classify.train import TrainConfig

    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # undo the line wrapping
    assert f"most epochs to run (default: {TrainConfig().epochs})" in text
    assert f"peak learning rate (one-cycle) (default: {TrainConfig().lr})" in text
    assert "(default: 0.2 for the CNN, 0.3 for an encoder head)" in text


def test_field_default_reads_dataclasses_and_functions() -> None:
    pytest.importorskip("torch", reason="the classify extra holds these defaults")
    from earful.classify.head_train import train_head
    from earful.classify.train import TrainConfig

    assert field_default("earful.classify.train:TrainConfig", "patience") == \
        TrainConfig().patience
    assert field_default("earful.classify.head_train:train_head", "copies") == \
        inspect.signature(train_head).parameters["copies"].default
    with pytest.raises(LookupError):
        field_default("earful.classify.train:TrainConfig", "no_such_field")
    with pytest.raises(LookupError):
        field_default("earful.classify.model:ModelConfig", "n_classes")  # required: no default


def test_given_keeps_only_what_was_given() -> None:
    args = argparse.Namespace(a=1, b=None, c=0, flag=False)
    # 0 and False were given (a value, not None): they must reach the dataclass.
    assert given(args, "a", "b", "flag", renamed="c") == {"a": 1, "flag": False, "renamed": 0}
    assert given(args, "missing") == {}


def test_unset_flags_parse_to_none() -> None:
    args = build_parser().parse_args(["transcribe", "x.wav"])
    assert args.vad is None and args.word_timestamps is None and args.beam_size is None
    args = build_parser().parse_args(["transcribe", "x.wav", "--no-vad", "--word-timestamps"])
    assert args.vad is False and args.word_timestamps is True


def test_quiet_before_or_after_the_subcommand() -> None:
    parse = build_parser().parse_args
    assert parse(["-q", "analyze", "f.wav", "--out", "o"]).quiet
    assert parse(["analyze", "f.wav", "--out", "o", "-q"]).quiet
    loud = parse(["analyze", "f.wav", "--out", "o"])
    assert not loud.quiet and show_progress(loud)
    assert not show_progress(parse(["analyze", "f.wav", "--out", "o", "--quiet"]))


def test_report_failures(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    assert report_failures([]) == 0
    assert caplog.text == ""
    assert report_failures([("a.wav", "cannot decode"), ("b.mp3", "empty")]) == 1
    assert "2 file(s) failed" in caplog.text
    assert "a.wav: cannot decode" in caplog.text and "b.mp3: empty" in caplog.text
