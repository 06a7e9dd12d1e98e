"""``earful transcribe`` and ``earful eval-asr``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earful.asr.options import ENGINES, ModelSpec, TranscribeOptions
from earful.asr.writers import WRITERS
from earful.cli import field_option, given, report_failures, show_progress

if TYPE_CHECKING:
    from earful.asr.batch import Job
    from earful.asr.cluster import ClusterOptions
    from earful.asr.result import Transcript

logger = logging.getLogger("earful")

OPTIONS = "earful.asr.options:TranscribeOptions"
CLUSTER = "earful.asr.cluster:ClusterOptions"


def _add_decode_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="tiny.en (default), base, a hub name or a folder")
    p.add_argument("--engine", choices=ENGINES, default=None, help="ASR engine")
    p.add_argument("--language", default=None, help="language code; default: detect")
    field_option(p, "--beam-size", type=int, owner=OPTIONS, help="beam width; 1 is greedy")
    field_option(p, "--batch-size", type=int, owner=OPTIONS,
                 help="windows decoded together (faster-whisper batched pipeline when > 1)")
    p.add_argument("--no-vad", dest="vad", action="store_false", default=None,
                   help="do not skip non-speech with Silero VAD")
    p.add_argument("--prompt", default=None, help="initial prompt (vocabulary, style)")
    field_option(p, "--condition-on-previous-text", action=argparse.BooleanOptionalAction,
                 owner=OPTIONS, help="prompt each 30 s window with the text before it")
    field_option(p, "--repetition-penalty", type=float, owner=OPTIONS,
                 help="above 1 discourages repeated tokens (loops on short clips)")
    p.add_argument("--device", default=None, help="cpu, cuda or auto")
    p.add_argument("--compute-type", default=None, help="int8 (default), float32, float16...")


def model_choices(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`ModelSpec` fields the user gave; the ``EARFUL_ASR_*`` settings fill in
    the rest."""
    return given(args, "engine", "device", "compute_type", name="model")


def decode_choices(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`TranscribeOptions` decoding fields the user gave (a language may be a
    code or an English name)."""
    from earful.asr.languages import language_code

    chosen = given(args, "language", "beam_size", "batch_size", "vad", "repetition_penalty",
                   "word_timestamps", "condition_on_previous_text", initial_prompt="prompt")
    if "language" in chosen:
        chosen["language"] = language_code(chosen["language"])
    return chosen


def options_from_args(args: argparse.Namespace) -> tuple[TranscribeOptions, ModelSpec]:
    """The decoding options and the model: the user's choices over the settings over the
    defaults, checked together before any file is read.

    The one place this module turns settings into library arguments.
    """
    from earful.config import get_settings

    spec = get_settings().asr_spec().with_(**model_choices(args))
    opts = TranscribeOptions(**decode_choices(args))
    opts.check_for(spec)
    return opts, spec


def cluster_from_args(args: argparse.Namespace) -> ClusterOptions:
    """The Ray cluster options the user gave, over :class:`ClusterOptions`' defaults."""
    from earful.asr.cluster import ClusterOptions

    return ClusterOptions(**given(args, "workers", "cpus_per_worker", "gpus_per_worker",
                                  address="ray_address"))


def _cmd_transcribe_ray(args: argparse.Namespace, opts: TranscribeOptions,
                        spec: ModelSpec) -> int:
    from earful.asr.cluster import MANIFEST, transcribe_on_ray

    if not args.output_dir:
        raise SystemExit("--ray writes files: give --output-dir (shared storage on a cluster)")
    out = Path(args.output_dir)
    summary = transcribe_on_ray(args.paths, opts, out, spec=spec, fmt=args.format,
                                cluster=cluster_from_args(args), progress=show_progress(args))
    logger.info("%s; manifest: %s", summary.line(), out / MANIFEST)
    return report_failures(summary.failed)


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from earful.asr.batch import expand_inputs, run_batch
    from earful.asr.writers import render

    opts, spec = options_from_args(args)
    postprocess = None
    if args.diarize:
        from earful.cli.diarize import diarize_options, transcript_speakers

        if args.ray:
            raise SystemExit("--diarize is not supported with --ray")
        opts = opts.with_(word_timestamps=True)  # segments are split at words
        postprocess = transcript_speakers(diarize_options(args))
    elif args.num_speakers is not None:
        raise SystemExit("--num-speakers needs --diarize")
    if args.ray:
        return _cmd_transcribe_ray(args, opts, spec)
    out_dir = Path(args.output_dir) if args.output_dir else None

    def show(job: Job, result: Transcript) -> None:
        if out_dir is None:
            sys.stdout.write(render(result, args.format))
            sys.stdout.flush()

    summary = run_batch(expand_inputs(args.paths), opts, spec, fmt=args.format,
                        output_dir=out_dir,
                        skip_existing=args.skip_existing, on_result=show,
                        progress=show_progress(args), postprocess=postprocess)
    logger.info("%s", summary.line())
    return report_failures(summary.failed)


def _cmd_eval(args: argparse.Namespace) -> int:
    from earful.asr.evaluate import evaluate, plot_wer_curve, read_manifest
    from earful.audio.plots import save_figure

    opts, spec = options_from_args(args)
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
        reports = [evaluate_on_ray(rows, opts, spec=spec, normaliser=args.normaliser,
                                   cluster=cluster_from_args(args),
                                   progress=show_progress(args))]
    else:
        reports = [evaluate(rows, opts, snr, spec=spec, normaliser=args.normaliser,
                            progress=show_progress(args)) for snr in conditions]
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
        save_figure(plot_wer_curve(reports, f"WER against SNR ({spec.name})"), args.plot)
        logger.info("wrote %s", args.plot)
    return 1 if any(r.failed for r in reports) else 0


def _add_ray_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Ray (distributed)")
    g.add_argument("--ray", action="store_true", help="run on Ray (a local one unless "
                                                     "--ray-address is given)")
    g.add_argument("--ray-address", default=None, help="join a cluster: auto, HOST:6379 or "
                                                      "ray://HOST:10001")
    field_option(g, "--workers", type=int, owner=CLUSTER,
                 help="model-holding workers; 0 is one per --cpus-per-worker CPUs of the "
                      "cluster")
    field_option(g, "--cpus-per-worker", type=float, owner=CLUSTER,
                 help="CPUs each worker reserves (and its decoding threads)")
    field_option(g, "--gpus-per-worker", type=float, owner=CLUSTER,
                 help="GPUs each worker reserves (with --device cuda)")


def _add_transcribe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe", help="transcribe files, folders or globs")
    p.add_argument("paths", nargs="+", help="audio files, folders (recursive) or glob patterns")
    p.add_argument("--format", choices=sorted(WRITERS), default="txt")
    p.add_argument("--output-dir", default=None, help="write <stem>.<format> files here")
    p.add_argument("--word-timestamps", action="store_true", default=None,
                   help="start and end time of every word")
    p.add_argument("--skip-existing", action="store_true",
                   help="leave inputs whose output file already exists (always on with --ray)")
    p.add_argument("--diarize", action="store_true",
                   help="label every segment and word with its speaker (splits segments at "
                        "speaker changes; needs the diarize extra)")
    p.add_argument("--num-speakers", type=int, default=None,
                   help="with --diarize: the number of speakers, when known")
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
