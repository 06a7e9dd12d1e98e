"""``earful speak``, ``earful clone``, ``earful voices`` and ``earful eval-clone``."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earful.cli import field_option, given, show_progress

if TYPE_CHECKING:
    from earful.config import Settings
    from earful.tts.clone import CloneOptions
    from earful.tts.kokoro_engine import KokoroOptions
    from earful.tts.piper_engine import SpeakOptions

logger = logging.getLogger("earful")

SPEAK = "earful.tts.piper_engine:SpeakOptions"
KOKORO = "earful.tts.kokoro_engine:KokoroOptions"
SPEAK_ENGINES = ("piper", "kokoro")
CLONE = "earful.tts.clone:CloneOptions"
CLONE_ENGINES = ("kokoro", "offline", "xtts")  # earful.tts.clone.ENGINES, unimported


def speak_options(args: argparse.Namespace) -> SpeakOptions | KokoroOptions:
    """The options the user gave, over the engine's defaults (:class:`SpeakOptions` for
    Piper, :class:`KokoroOptions` for Kokoro)."""
    if getattr(args, "engine", None) == "kokoro":
        from earful.tts.kokoro_engine import KokoroOptions

        return KokoroOptions(**given(args, "speed", language="accent"))
    from earful.tts.piper_engine import SpeakOptions

    return SpeakOptions(**given(args, "speed"))


def clone_options(args: argparse.Namespace, settings: Settings) -> CloneOptions:
    """``earful clone``'s options: the user's choices over the settings (engine, base
    voice) over :class:`CloneOptions`' defaults."""
    from earful.tts.clone import CloneOptions

    return CloneOptions(**{"engine": settings.clone_engine, "base_voice": settings.tts_voice,
                           **given(args, "engine", "language", "speed", "strength")})


def eval_clone_options(args: argparse.Namespace, settings: Settings) -> CloneOptions:
    """``earful eval-clone``'s options: the settings' base voice, and the engine the user
    gave or else :class:`CloneOptions`' own (the clone-engine setting does not apply)."""
    from earful.tts.clone import CloneOptions

    return CloneOptions(base_voice=settings.tts_voice, **given(args, "engine"))


def _write(speech: object, out: str) -> None:
    from earful.audio.io import save_audio
    from earful.tts.result import Speech

    assert isinstance(speech, Speech)
    path = save_audio(out, speech.samples, speech.sample_rate)
    meta = speech.metadata()
    logger.info("wrote %s (%.2f s, %s, real-time factor %s)", path, speech.duration,
                speech.engine, meta["real_time_factor"])
    print(json.dumps({"output": str(path), **meta}, ensure_ascii=False))


def _cmd_speak(args: argparse.Namespace) -> int:
    from earful.config import get_settings
    from earful.tts.synth import speak_text

    engine = args.engine or "piper"
    _write(speak_text(args.text, get_settings().tts_config(), args.voice, speak_options(args),
                      engine=engine), args.output)
    return 0


def _cmd_clone(args: argparse.Namespace) -> int:
    from earful.config import get_settings
    from earful.tts.reference import load_reference
    from earful.tts.synth import clone

    settings = get_settings()
    opts = clone_options(args, settings)
    if args.reference:
        speech = clone(args.text, settings.tts_config(), opts,
                       reference=load_reference(args.reference))
    else:
        speech = clone(args.text, settings.tts_config(), opts, voice_id=args.voice)
    _write(speech, args.output)
    return 0


def _cmd_voices(args: argparse.Namespace) -> int:
    from earful.config import get_settings
    from earful.tts.reference import load_reference
    from earful.tts.store import VoiceStore
    from earful.tts.synth import list_voices, save_voice

    settings = get_settings()
    if args.action == "add":
        if not args.name or not args.reference:
            raise SystemExit("usage: earful voices add NAME REF_AUDIO")
        from tqdm import tqdm

        reference = load_reference(args.reference)
        with tqdm(desc="enrolling", unit="try", disable=not show_progress(args)) as bar:
            def progress(done: int, planned: int) -> None:
                bar.total = planned
                bar.update(done - bar.n)

            saved = save_voice(args.name, reference, settings.tts_config(), progress)
        print(json.dumps(saved))
    elif args.action == "remove":
        if not args.name:
            raise SystemExit("usage: earful voices remove NAME")
        print(json.dumps(VoiceStore(settings.voice_store).remove(args.name).to_dict()))
    else:
        print(json.dumps(list_voices(settings.tts_config()), indent=2))
    return 0


def _judge_speakers(args: argparse.Namespace, config: Any, opts: Any,
                    sentences: tuple[str, ...]) -> int:
    """``eval-clone --speakers``: each reference judged by the speaker's other recordings."""
    from tqdm import tqdm

    from earful.tts.clone_eval import judge_clones, speaker_cases
    from earful.tts.reference import check_reference
    from earful.tts.similarity import embed, load_speaker_encoder
    from earful.tts.synth import clone, enrol_kokoro, profile_reference

    cases = speaker_cases(Path(args.speakers))
    if args.limit:
        cases = cases[:args.limit]
    encoder = load_speaker_encoder()

    def enrol(samples: Any, rate: int) -> Any:
        ref = check_reference(samples, rate)
        if opts.engine == "kokoro":
            enrol_kokoro(ref, config)  # cached: the clones below start at once
        elif opts.engine == "offline":
            profile_reference(ref, config, opts.base_voice)
        return ref

    bar = tqdm(total=len(cases), unit="reference", disable=args.json or not show_progress(args))
    report = judge_clones(cases, enrol, lambda t, ref: clone(t, config, opts, reference=ref),
                          lambda x, r: embed(encoder, x, r), opts.engine, sentences,
                          progress=lambda _: bar.update(1))
    bar.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"{'reference':<24} {'sim':>6} {'noisy':>6} {'ceil':>6} {'WER':>6} "
              f"{'DNSMOS':>7} {'enrol s':>8}")
        for c in report.cases:
            print(f"{c.speaker + '/' + c.reference:<24} {c.similarity:6.3f} "
                  f"{c.degraded_similarity:6.3f} {c.ceiling:6.3f} {c.wer:6.3f} "
                  f"{c.dnsmos:7.2f} {c.enrol_seconds:8.1f}")
        print(json.dumps({"summary": report.summary()}))
    return 0


def _cmd_eval_clone(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from earful.config import get_settings
    from earful.tts.evaluate import SENTENCES, evaluate_clones, reference_files
    from earful.tts.similarity import load_speaker_encoder
    from earful.tts.synth import clone, enrol_kokoro, profile_reference, speak_text

    settings = get_settings()
    config = settings.tts_config()
    sentences: tuple[str, ...] = SENTENCES
    if args.sentences:
        sentences = tuple(line.strip() for line in
                          Path(args.sentences).read_text(encoding="utf-8").splitlines()
                          if line.strip())
    if args.speakers:
        return _judge_speakers(args, config, eval_clone_options(args, settings), sentences)
    if not args.references:
        raise SystemExit("give --references (judged against the clip) or --speakers "
                         "(judged against each speaker's other recordings)")
    refs = [p for folder in args.references for p in reference_files(Path(folder))]
    if args.limit:
        refs = refs[:args.limit]
    opts = eval_clone_options(args, settings)
    bar = tqdm(total=len(refs), unit="voice", disable=args.json or not show_progress(args))
    report = evaluate_clones(
        refs, lambda t: speak_text(t, config),
        lambda t, ref: clone(t, config, opts, reference=ref), load_speaker_encoder(),
        sentences, opts.engine, progress=lambda _: bar.update(1),
        prepare=((lambda ref: profile_reference(ref, config, opts.base_voice))
                 if opts.engine == "offline"
                 else (lambda ref: enrol_kokoro(ref, config)) if opts.engine == "kokoro"
                 else None))
    bar.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"{'voice':<26} {'sim':>6} {'base':>6} {'WER':>6} {'DNSMOS':>7} {'RTF':>6}")
        for v in report.voices:
            print(f"{v.voice:<26} {v.similarity:6.3f} {v.baseline_similarity:6.3f} "
                  f"{v.wer:6.3f} {v.dnsmos:7.2f} {v.real_time_factor:6.3f}")
        print(json.dumps({"summary": report.summary(), "piper": report.piper,
                          "skipped": report.skipped}, indent=2))
    return 0


def _add_speak(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("speak", help="text to speech with a Piper or Kokoro voice")
    p.add_argument("text")
    p.add_argument("--engine", choices=SPEAK_ENGINES, default=None,
                   help="speech engine (default: piper)")
    p.add_argument("--voice", default=None,
                   help="Piper voice (default: EARFUL_TTS_VOICE), or Kokoro voice or mix such "
                        "as jf_alpha:0.6,jm_kumo:0.4 (default: EARFUL_KOKORO_VOICE); "
                        "`earful voices` lists them")
    field_option(p, "--speed", type=float, owner={"Piper": SPEAK, "Kokoro": KOKORO},
                 help="speaking rate (2 = twice as fast)")
    field_option(p, "--accent", choices=("en-us", "en-gb"), owner=KOKORO, name="language",
                 help="Kokoro: American or British phonemes")
    p.add_argument("-o", "--output", required=True, help="audio file (format from suffix)")
    p.set_defaults(handler=_cmd_speak)


def _add_clone(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("clone", help="speak text in the voice of a reference recording")
    p.add_argument("text")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--reference", help="3 to 30 s of the voice to clone")
    src.add_argument("--voice", help="a saved voice (name or id)")
    p.add_argument("--engine", choices=CLONE_ENGINES, default=None,
                   help="default: the EARFUL_CLONE_ENGINE setting")
    field_option(p, "--language", owner=CLONE, help="language of the text")
    field_option(p, "--speed", type=float, owner=CLONE, help="speaking rate")
    field_option(p, "--strength", type=float, owner=CLONE,
                 help="offline engine: 0 = base voice, 1 = full conversion")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(handler=_cmd_clone)


def _add_voices(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("voices", help="list, add or remove saved voices")
    p.add_argument("action", choices=("list", "add", "remove"), nargs="?", default="list")
    p.add_argument("name", nargs="?")
    p.add_argument("reference", nargs="?")
    p.set_defaults(handler=_cmd_voices)


def _add_eval_clone(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-clone", help="score cloning: similarity, WER, DNSMOS, speed")
    p.add_argument("--references", nargs="+", help="folder(s) of references (each clone "
                   "judged against its own reference clip)")
    p.add_argument("--speakers", help="folder of speaker folders: each 6-15 s recording "
                   "(two per speaker) is a reference, and its clones are judged against the "
                   "speaker's other recordings, also after MP3 and 20 dB noise")
    p.add_argument("--sentences", help="text file, one sentence per line")
    field_option(p, "--engine", choices=CLONE_ENGINES, owner=CLONE, help="cloning engine")
    p.add_argument("--limit", type=int, default=0, help="first N references only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_eval_clone)


REGISTRARS = [_add_speak, _add_clone, _add_voices, _add_eval_clone]
