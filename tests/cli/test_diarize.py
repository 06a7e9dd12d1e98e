"""``earful diarize``, ``earful eval-diarization`` and ``earful transcribe --diarize``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from earful.cli import build_parser, main
from earful.cli.diarize import diarize_options
from earful.diarize.options import DiarizeOptions
from earful.diarize.result import read_rttm, to_rttm
from earful.errors import InvalidOptionError


def test_count_flags_reach_the_options() -> None:
    parse = build_parser().parse_args
    assert diarize_options(parse(["diarize", "a.wav"])) == DiarizeOptions()
    assert diarize_options(parse(["diarize", "a.wav", "--num-speakers", "3"])).num_speakers == 3
    opts = diarize_options(parse(["diarize", "a.wav", "--min-speakers", "2",
                                  "--max-speakers", "5"]))
    assert opts.speaker_range() == (2, 5)
    assert diarize_options(parse(["diarize", "a.wav", "--overlap", "assign"])).overlap == "assign"
    with pytest.raises(InvalidOptionError):
        diarize_options(parse(["diarize", "a.wav", "--num-speakers", "2",
                               "--max-speakers", "5"]))


@pytest.fixture(scope="module")
def talk(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A two-speaker conversation file and a folder with its reference RTTM."""
    from earful.diarize.simulate import load_pieces, simulate, speech_corpus

    corpus = speech_corpus(shared_data / "speech")
    pieces = {s: load_pieces(corpus[s][:3], s) for s in ("lo1998", "read")}
    audio, ref = simulate(pieces, np.random.default_rng(4))
    folder = tmp_path_factory.mktemp("talk")
    sf.write(folder / "talk.flac", audio, 16000)
    (folder / "ref").mkdir()
    (folder / "ref" / "talk.rttm").write_text(to_rttm(ref, "talk"))
    return folder / "talk.flac", folder / "ref"


@pytest.mark.slow
def test_diarize_writes_rttm_skips_bad_files_and_scores(
        talk: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audio, ref = talk
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    out = tmp_path / "out"
    code = main(["-q", "diarize", str(audio), str(bad), "--output-dir", str(out),
                 "--num-speakers", "2", "--reference", str(ref)])
    assert code == 1  # the bad file failed; the good one was written
    turns = read_rttm(out / "talk.rttm")["talk"]
    assert {t.speaker for t in turns} == {"SPEAKER_1", "SPEAKER_2"}
    assert not (out / "bad.rttm").exists()
    printed = capsys.readouterr().out
    overall = next(line for line in printed.splitlines() if line.startswith("overall"))
    assert float(overall.split()[1].rstrip("%")) < 10.0
    assert main(["-q", "eval-diarization", str(ref), str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"][0]["uri"] == "talk" and report["der"] < 0.10
    assert report["count_accuracy"] == 1.0
    assert main(["-q", "diarize", str(audio), "--format", "json", "--num-speakers", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["speakers"] == ["SPEAKER_1", "SPEAKER_2"]


@pytest.mark.slow
def test_transcribe_diarize_labels_segments(talk: tuple[Path, Path], tmp_path: Path) -> None:
    audio, _ = talk
    assert main(["-q", "transcribe", str(audio), "--diarize", "--num-speakers", "2",
                 "--format", "srt", "--output-dir", str(tmp_path)]) == 0
    srt = (tmp_path / "talk.srt").read_text()
    assert "[SPEAKER_1] " in srt and "[SPEAKER_2] " in srt
    assert main(["-q", "transcribe", str(audio), "--diarize", "--num-speakers", "2",
                 "--format", "vtt", "--output-dir", str(tmp_path)]) == 0
    vtt = (tmp_path / "talk.vtt").read_text()
    assert "<v Speaker 1>" in vtt and "<v Speaker 2>" in vtt
    with pytest.raises(SystemExit, match="needs --diarize"):
        main(["-q", "transcribe", str(audio), "--num-speakers", "2"])
