"""``earful transcribe`` and ``earful eval-asr``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from earful.asr.options import ENGINES, TranscribeOptions
from earful.asr.writers import WRITERS

if TYPE_CHECKING:
    from earful.asr.batch import Job
    from earful.asr.cluster import ClusterOptions
    from earful.asr.result import Transcript

logger = logging.getLogger("earful")


def _add_decode_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="tiny.en (default), base, a hub name or a folder")
    p.add_argument("--engine", choices=ENGINES, default=None, help="ASR engine")
    p.add_argument("--language", default=None, help="language code; default: detect")
    p.add_argument("--beam-size", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=1,
                   help="windows decoded together (faster-whisper batched pipeline when > 1)")
    p.add_argument("--no-vad", action="store_true", help="do not skip non-speech with Silero VAD")
    p.add_argument("--prompt", default=None, help="initial prompt (vocabulary, style)")
    p.add_argument("--repetition-penalty", type=float, default=1.0,
                   help="above 1 discourages repeated tokens (loops on short clips)")
    p.add_argument("--device", default=None, help="cpu, cuda or auto")
    p.add_argument("--compute-type", default=None, help="int8 (default), float32, float16...")


def options_from_args(args: argparse.Namespace, **extra: object) -> TranscribeOptions:
    """Build options from CLI arguments, falling back to the settings' defaults."""
    from earful.config import get_settings

    return TranscribeOptions.from_settings(
        get_settings(), model=args.model or None, engine=args.engine or None,
        device=args.device or None, compute_type=args.compute_type or None,
        language=args.language, beam_size=args.beam_size, batch_size=args.batch_size,
        vad=not args.no_vad, initial_prompt=args.prompt,
        repetition_penalty=args.repetition_penalty, **extra)


def _cluster(args: argparse.Namespace) -> ClusterOptions:
    from earful.asr.cluster import ClusterOptions

    return ClusterOptions(address=args.ray_address, workers=args.workers,
                          cpus_per_worker=args.cpus_per_worker,
                          gpus_per_worker=args.gpus_per_worker)


def _cmd_transcribe_ray(args: argparse.Namespace, opts: TranscribeOptions) -> int:
    from earful.asr.batch import describe_failures
    from earful.asr.cluster import MANIFEST, transcribe_on_ray

    if not args.output_dir:
        raise SystemExit("--ray writes files: give --output-dir (shared storage on a cluster)")
    out = Path(args.output_dir)
    summary = transcribe_on_ray(args.paths, opts, out, fmt=args.format, cluster=_cluster(args),
                                progress=not args.quiet)
    logger.info("%s; manifest: %s", summary.line(), out / MANIFEST)
    if summary.failed:
        logger.error("%d file(s) failed:\n%s", len(summary.failed), describe_failures(summary))
        return 1
    return 0


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from earful.asr.batch import describe_failures, expand_inputs, run_batch
    from earful.asr.writers import render

    opts = options_from_args(args, word_timestamps=args.word_timestamps)
    if args.ray:
        return _cmd_transcribe_ray(args, opts)
    out_dir = Path(args.output_dir) if args.output_dir else None

    def show(job: Job, result: Transcript) -> None:
        if out_dir is None:
            sys.stdout.write(render(result, args.format))
            sys.stdout.flush()

    summary = run_batch(expand_inputs(args.paths), opts, fmt=args.format, output_dir=out_dir,
                        skip_existing=args.skip_existing, on_result=show,
                        progress=not args.quiet)
    logger.info("%s", summary.line())
    if summary.failed:
        logger.error("%d file(s) failed:\n%s", len(summary.failed), describe_failures(summary))
        return 1
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from earful.asr.evaluate import evaluate, plot_wer_curve, read_manifest
    from earful.audio.plots import save_figure

    opts = options_from_args(args)
    rows = read_manifest(args.manifest)
    if args.limit:
        rows = rows[: args.limit]
    conditions: list[float | None] = [None]
    if args.snr:
        conditions += [float(x) for x in args.snr.split(",")]
    if args.ray:
        from earful.asr.cluster import evaluate_on_ray

        if args.snr:
            raise SystemExit("--snr is not supported with --ray")
        reports = [evaluate_on_ray(rows, opts, normaliser=args.normaliser, cluster=_cluster(args),
                                   progress=not args.quiet)]
    else:
        reports = [evaluate(rows, opts, snr, normaliser=args.normaliser,
                            progress=not args.quiet) for snr in conditions]
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        clean = reports[0]
        for u in clean.utterances:
            print(f"{100 * u.wer:6.1f}%  {Path(u.file).name}\n    REF: {u.reference}\n"
                  f"    HYP: {u.hypothesis}")
        print(f"\n{'condition':>10}  {'WER':>7}  {'CER':>7}  files  RTF")
        for r in reports:
            cond = "clean" if r.snr_db is None else f"{r.snr_db:g} dB"
            d = r.to_dict()
            print(f"{cond:>10}  {100 * r.scores.wer:6.2f}%  {100 * r.scores.cer:6.2f}%  "
                  f"{len(r.utterances):5d}  {d['real_time_factor']}")
    if args.snr and args.plot:
        save_figure(plot_wer_curve(reports, f"WER against SNR ({opts.model})"), args.plot)
        logger.info("wrote %s", args.plot)
    return 1 if any(r.failed for r in reports) else 0


def _add_ray_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Ray (distributed)")
    g.add_argument("--ray", action="store_true", help="run on Ray (a local one unless "
                                                     "--ray-address is given)")
    g.add_argument("--ray-address", default=None, help="join a cluster: auto, HOST:6379 or "
                                                      "ray://HOST:10001")
    g.add_argument("--workers", type=int, default=0,
                   help="model-holding workers (default: one per CPU of the cluster)")
    g.add_argument("--cpus-per-worker", type=float, default=1.0)
    g.add_argument("--gpus-per-worker", type=float, default=0.0)


def _add_transcribe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe", help="transcribe files, folders or globs")
    p.add_argument("paths", nargs="+", help="audio files, folders (recursive) or glob patterns")
    p.add_argument("--format", choices=sorted(WRITERS), default="txt")
    p.add_argument("--output-dir", default=None, help="write <stem>.<format> files here")
    p.add_argument("--word-timestamps", action="store_true")
    p.add_argument("--skip-existing", action="store_true",
                   help="leave inputs whose output file already exists (always on with --ray)")
    _add_decode_options(p)
    _add_ray_options(p)
    p.set_defaults(handler=_cmd_transcribe)


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-asr", help="WER/CER against a TSV manifest (file, text)")
    p.add_argument("manifest", help="TSV with 'file' and 'text' columns")
    p.add_argument("--snr", default=None, help="also evaluate at these SNRs, e.g. 20,10,5,0")
    p.add_argument("--plot", default="wer_vs_snr.png", help="PNG for the WER-vs-SNR curve")
    p.add_argument("--normaliser", choices=("english", "basic", "none"), default="english")
    p.add_argument("--limit", type=int, default=0, help="only the first N rows")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    _add_decode_options(p)
    _add_ray_options(p)
    p.set_defaults(handler=_cmd_eval)


REGISTRARS = [_add_transcribe, _add_eval]
