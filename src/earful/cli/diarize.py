"""``earful diarize`` and ``earful eval-diarization``; the ``--diarize`` step of
``earful transcribe`` lives here too (:func:`transcript_speakers`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earful.cli import field_option, given, report_failures, show_progress

if TYPE_CHECKING:
    from earful.asr.batch import Job
    from earful.asr.result import Transcript
    from earful.diarize.metrics import Report
    from earful.diarize.options import DiarizeOptions

logger = logging.getLogger("earful")

OPTIONS = "earful.diarize.options:DiarizeOptions"


def add_count_options(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--num-speakers``, ``--min-speakers``, ``--max-speakers``."""
    p.add_argument("--num-speakers", type=int, default=None,
                   help="the number of speakers, when known (default: found)")
    field_option(p, "--min-speakers", type=int, owner=OPTIONS,
                 help="fewest speakers to find")
    field_option(p, "--max-speakers", type=int, owner=OPTIONS,
                 help="most speakers to find")


def diarize_options(args: argparse.Namespace) -> DiarizeOptions:
    """The :class:`DiarizeOptions` the user asked for (checked before any file is read)."""
    from earful.diarize.options import DiarizeOptions, speaker_counts

    return DiarizeOptions(**speaker_counts(**given(args, "num_speakers", "min_speakers",
                                                   "max_speakers")),
                          **given(args, "overlap"))


def transcript_speakers(opts: DiarizeOptions) -> Callable[[Job, Transcript], Transcript]:
    """A ``run_batch`` step that diarizes each file and gives its transcript speakers."""
    from earful.diarize.attribute import attribute_speakers
    from earful.diarize.pipeline import diarize_file

    def step(job: Job, transcript: Transcript) -> Transcript:
        return attribute_speakers(transcript, diarize_file(job.path, opts))

    return step


def _report(report: Report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
        return
    print(f"{'file':<32} {'DER':>7} {'JER':>7} {'miss':>6} {'FA':>6} {'conf':>6} speakers")
    for f in report.files:
        print(f"{f.uri[:32]:<32} {100 * f.der:6.2f}% {100 * f.jer:6.2f}% {f.missed:6.1f} "
              f"{f.false_alarm:6.1f} {f.confusion:6.1f} {f.hyp_speakers}/{f.ref_speakers}")
    print(f"{'overall':<32} {100 * report.der:6.2f}% {100 * report.jer:6.2f}%  speaker count "
          f"right in {100 * report.count_accuracy:.0f}% of {len(report.files)} files")


def _load_rttm_dir(folder: Path) -> dict[str, list[Any]]:
    from earful.diarize.result import read_rttm

    if not folder.is_dir():
        raise SystemExit(f"{folder} is not a folder of .rttm files")
    out = {}
    for path in sorted(folder.rglob("*.rttm")):
        out[str(path.relative_to(folder).with_suffix(""))] = [
            t for turns in read_rttm(path).values() for t in turns]
    return out


def evaluate_dirs(ref_dir: Path, hyp: dict[str, list[Any]], collar: float) -> Report:
    """Score hypotheses (by relative stem) against ``ref_dir/<stem>.rttm``; a reference
    without a hypothesis scores as all missed, a hypothesis without a reference is
    reported and left out."""
    from earful.diarize.metrics import score

    refs = _load_rttm_dir(ref_dir)
    for stem in sorted(set(hyp) - set(refs)):
        logger.warning("no reference for %s", stem)
    return score([(stem, refs[stem], hyp.get(stem, [])) for stem in sorted(refs)], collar)


def _cmd_diarize(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from earful.asr.batch import assign_outputs, expand_inputs
    from earful.diarize.pipeline import diarize_file
    from earful.diarize.result import write_diarization
    from earful.errors import EarfulError

    opts = diarize_options(args)
    jobs = list(expand_inputs(args.paths))
    out_dir = Path(args.output_dir) if args.output_dir else None
    dests = assign_outputs(jobs, out_dir, args.format) if out_dir else [None] * len(jobs)
    failed: list[tuple[str, str]] = []
    hyps: dict[str, list[Any]] = {}
    audio = 0.0
    start = time.perf_counter()
    bar = tqdm(zip(jobs, dests, strict=True), total=len(jobs), unit="file",
               disable=not show_progress(args) or len(jobs) < 2, leave=False)
    for job, dest in bar:
        bar.set_postfix_str(job.path.name[:30], refresh=False)
        try:
            result = diarize_file(job.path, opts)
            if dest is not None:
                write_diarization(result, dest, args.format)
        except EarfulError as e:
            failed.append((str(job.path), str(e)))
            logger.error("skipped %s: %s", job.path, e)
            continue
        audio += result.duration
        hyps[str(job.relative.with_suffix(""))] = result.turns
        if dest is None:
            sys.stdout.write(result.to_rttm(job.path.stem) if args.format == "rttm"
                             else result.to_json())
            sys.stdout.flush()
    wall = time.perf_counter() - start
    logger.info("%d diarized, %d failed; %.1f s of audio in %.1f s (%.0fx real time)",
                len(hyps), len(failed), audio, wall, audio / wall if wall else 0.0)
    if args.reference:
        _report(evaluate_dirs(Path(args.reference), hyps, args.collar), False)
    return report_failures(failed)


def _cmd_eval(args: argparse.Namespace) -> int:
    _report(evaluate_dirs(Path(args.ref_dir), _load_rttm_dir(Path(args.hyp_dir)), args.collar),
            args.json)
    return 0


def _add_diarize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diarize", help="who spoke when: speaker turns as RTTM or JSON")
    p.add_argument("paths", nargs="+", help="audio files, folders (recursive) or glob patterns")
    add_count_options(p)
    field_option(p, "--overlap", choices=("off", "detect", "assign"), owner=OPTIONS,
                 help="overlapped speech at speaker changes: detect lists it in the JSON's "
                      "overlaps; assign also gives both speakers a turn there (RTTM lines "
                      "overlap)")
    p.add_argument("--format", choices=("rttm", "json"), default="rttm")
    p.add_argument("--output-dir", default=None, help="write <stem>.<format> files here "
                                                      "(default: print)")
    p.add_argument("--reference", default=None,
                   help="folder of reference <stem>.rttm files: also print DER and JER")
    p.add_argument("--collar", type=float, default=0.25,
                   help="seconds forgiven each side of reference boundaries (with --reference)")
    p.set_defaults(handler=_cmd_diarize)


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-diarization",
                       help="DER and JER of a folder of RTTM files against references")
    p.add_argument("ref_dir", help="reference <stem>.rttm files")
    p.add_argument("hyp_dir", help="hypothesis <stem>.rttm files (as `earful diarize` writes)")
    p.add_argument("--collar", type=float, default=0.25,
                   help="seconds forgiven on each side of each reference boundary")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_cmd_eval)


REGISTRARS = [_add_diarize, _add_eval]
