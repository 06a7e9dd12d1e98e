"""``earful speak``, ``earful clone``, ``earful voices`` and ``earful eval-clone``."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

logger = logging.getLogger("earful")


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
    from earful.tts.piper_engine import SpeakOptions
    from earful.tts.synth import speak_text

    speech = speak_text(args.text, get_settings(), args.voice, SpeakOptions(speed=args.speed))
    _write(speech, args.output)
    return 0


def _cmd_clone(args: argparse.Namespace) -> int:
    from earful.config import get_settings
    from earful.tts.clone import CloneOptions
    from earful.tts.reference import load_reference
    from earful.tts.synth import clone

    settings = get_settings()
    opts = CloneOptions(engine=args.engine or settings.clone_engine, language=args.language,
                        speed=args.speed, base_voice=settings.tts_voice,
                        strength=args.strength)
    if args.reference:
        speech = clone(args.text, settings, opts, reference=load_reference(args.reference))
    else:
        speech = clone(args.text, settings, opts, voice_id=args.voice)
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
        print(json.dumps(save_voice(args.name, load_reference(args.reference), settings)))
    elif args.action == "remove":
        if not args.name:
            raise SystemExit("usage: earful voices remove NAME")
        print(json.dumps(VoiceStore(settings.voice_store).remove(args.name).to_dict()))
    else:
        print(json.dumps(list_voices(settings), indent=2))
    return 0


def _cmd_eval_clone(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from earful.config import get_settings
    from earful.tts.clone import CloneOptions
    from earful.tts.evaluate import SENTENCES, evaluate_clones, reference_files
    from earful.tts.similarity import load_speaker_encoder
    from earful.tts.synth import clone, offline_cloner, speak_text

    settings = get_settings()
    sentences: tuple[str, ...] = SENTENCES
    if args.sentences:
        sentences = tuple(line.strip() for line in
                          Path(args.sentences).read_text(encoding="utf-8").splitlines()
                          if line.strip())
    refs = [p for folder in args.references for p in reference_files(Path(folder))]
    if args.limit:
        refs = refs[:args.limit]
    opts = CloneOptions(engine=args.engine, base_voice=settings.tts_voice)
    bar = tqdm(total=len(refs), unit="voice", disable=args.json)
    report = evaluate_clones(
        refs, lambda t: speak_text(t, settings),
        lambda t, ref: clone(t, settings, opts, reference=ref), load_speaker_encoder(),
        sentences, args.engine, progress=lambda _: bar.update(1),
        prepare=(offline_cloner(settings, settings.tts_voice).profile
                 if args.engine == "offline" else None))
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


def _add_tts(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("speak", help="text to speech with a Piper voice")
    p.add_argument("text")
    p.add_argument("--voice", default=None, help="Piper voice (default: joe)")
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("-o", "--output", required=True, help="audio file (format from suffix)")
    p.set_defaults(handler=_cmd_speak)

    p = sub.add_parser("clone", help="speak text in the voice of a reference recording")
    p.add_argument("text")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--reference", help="3 to 30 s of the voice to clone")
    src.add_argument("--voice", help="a saved voice (name or id)")
    p.add_argument("--engine", choices=("offline", "xtts"), default=None)
    p.add_argument("--language", default="en")
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("--strength", type=float, default=1.0,
                   help="offline engine: 0 = base voice, 1 = full conversion")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(handler=_cmd_clone)

    p = sub.add_parser("voices", help="list, add or remove saved voices")
    p.add_argument("action", choices=("list", "add", "remove"), nargs="?", default="list")
    p.add_argument("name", nargs="?")
    p.add_argument("reference", nargs="?")
    p.set_defaults(handler=_cmd_voices)

    p = sub.add_parser("eval-clone", help="score cloning: similarity, WER, DNSMOS, speed")
    p.add_argument("--references", nargs="+", required=True, help="folder(s) of references")
    p.add_argument("--sentences", help="text file, one sentence per line")
    p.add_argument("--engine", choices=("offline", "xtts"), default="offline")
    p.add_argument("--limit", type=int, default=0, help="first N references only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_eval_clone)


REGISTRARS = [_add_tts]
