"""Kokoro cloning judged by the person: similarity to the speaker's *other* recordings.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/tts_kokoro_clone.py
     [--split dev|test|both] [--steps N] [--neighbours K] [--engines kokoro,lookup,...]

Development split (settings were chosen here): LibriSpeech train-clean-100 speakers from
``speech/voices_librispeech`` whose one utterance lasts 9 s or more, cut in two: the first
60% is the reference, the rest is "another recording". Test split (reported, never tuned
on): the three LibriSpeech test-other speakers in ``speech/librispeech_test_other``, two 6-15 s
references each, judged against the speaker's other nine utterances.

Engines: ``kokoro`` (earful's default enrolment: voice-bank look-up, then --steps of search
scored against pieces of the reference, and the channel equaliser), ``lookup`` (look-up and
equaliser, no search), ``bank`` (the look-up alone), ``plain`` (the nearest of the five
bundled voices), ``offline`` (Piper + WORLD conversion). Clones
say the five Harvard sentences of :data:`earful.tts.evaluate.SENTENCES`, none of which any
engine hears while enrolling. Enrolment and synthesis use 2 ONNX threads.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from _common import data_dir, peak_rss_mb, save, table
from earful.audio.io import decode
from earful.tts.clone_eval import SpeakerCase, judge_clones, speaker_cases
from earful.tts.kokoro_clone import EnrolOptions, KokoroCloner
from earful.tts.kokoro_engine import load_kokoro
from earful.tts.kokoro_style import StyleParams, VoiceBank
from earful.tts.reference import check_reference
from earful.tts.similarity import embed, load_speaker_encoder

log = logging.getLogger("tts_kokoro_clone")


def dev_cases(folder: Path, count: int) -> list[SpeakerCase]:
    """Development cases: one utterance per speaker, split 60/40."""
    cases = []
    for path in sorted(folder.glob("*.flac")):
        audio = decode(path, 16000)
        if audio.duration < 9.0:
            continue
        cut = int(0.6 * audio.samples.size)
        cases.append(SpeakerCase(path.stem.split("-")[0], (audio.samples[:cut], 16000),
                                 ((audio.samples[cut:], 16000),), name=path.stem))
        if len(cases) == count:
            break
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--dev-count", type=int, default=10)
    parser.add_argument("--engines", default="kokoro,lookup,bank,plain,offline")
    parser.add_argument("--steps", type=int, default=EnrolOptions.steps)
    parser.add_argument("--neighbours", type=int, default=EnrolOptions.neighbours)
    parser.add_argument("--temperature", type=float, default=EnrolOptions.temperature)
    parser.add_argument("--bank", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--name", default="tts_kokoro_clone")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", force=True)
    data = data_dir() / "speech"
    encoder = load_speaker_encoder()
    model = load_kokoro(threads=args.threads)
    bank = VoiceBank.load(args.bank)
    cloner = KokoroCloner(model, encoder, bank)
    opts = EnrolOptions(steps=args.steps, neighbours=args.neighbours,
                        temperature=args.temperature)

    def judge_embed(samples: np.ndarray, rate: int) -> np.ndarray:
        return embed(encoder, samples, rate)

    def kokoro_enrol(**changes: Any) -> Any:
        def run(samples: np.ndarray, rate: int) -> tuple[StyleParams, Any]:
            e = cloner.enrol(check_reference(samples, rate), replace(opts, **changes))
            log.info("enrolled: %.3f -> %.3f in %d tries, %.1f s", e.start_score, e.score,
                     e.tried, e.seconds)
            return e.params, e.gain_db
        return run

    def plain_enrol(samples: np.ndarray, rate: int) -> tuple[StyleParams, None]:
        target = judge_embed(samples, rate)
        n = len(bank.pack_names)
        best = int(np.argmax(bank.embeddings[:n] @ target))  # the first n are the packs
        return StyleParams.plain(best, n), None

    def kokoro_speak(text: str, voice: tuple[StyleParams, Any]) -> Any:
        return cloner.speak(text, voice[0], voice[1], "clone")

    engines: dict[str, tuple[Any, Any]] = {
        "plain": (plain_enrol, kokoro_speak),
        "bank": (kokoro_enrol(steps=0, match_channel=False), kokoro_speak),
        "lookup": (kokoro_enrol(steps=0), kokoro_speak),
        "kokoro": (kokoro_enrol(), kokoro_speak),
    }
    if "offline" in args.engines:
        from earful.tts.clone import CloneOptions, load_offline_cloner

        offline = load_offline_cloner()
        engines["offline"] = (lambda s, r: offline.profile(check_reference(s, r)),
                              lambda t, p: offline.clone(t, p, CloneOptions(engine="offline")))
    splits = {"dev": lambda: dev_cases(data / "voices_librispeech", args.dev_count),
              "test": lambda: speaker_cases(data / "librispeech_test_other")}
    chosen = ["dev", "test"] if args.split == "both" else [args.split]
    rows, raw = [], {"options": vars(opts) | {"threads": args.threads}}
    for split in chosen:
        cases = splits[split]()
        for name in args.engines.split(","):
            start = time.perf_counter()
            enrol_fn, speak_fn = engines[name]
            report = judge_clones(cases, enrol_fn, speak_fn, judge_embed, name,
                                  progress=lambda c, s=split, n=name: log.info("%s %s %s", s, n, c))
            s = report.summary()
            raw[f"{split}/{name}"] = {**report.to_dict(),
                                      "seconds": round(time.perf_counter() - start)}
            rows.append([split, name, len(report.cases), f"{s['similarity']:.3f}",
                         f"{s['degraded_similarity']:.3f}", f"{s['drop']:+.3f}",
                         f"{s['reference_similarity']:.3f}", f"{s['ceiling']:.3f}",
                         f"{100 * s['wer']:.1f}%", f"{s['dnsmos']:.2f}",
                         f"{s['enrol_seconds']:.1f}", f"{1 / s['real_time_factor']:.2f}x"])
    raw["peak_rss_mb"] = round(peak_rss_mb())
    md = "### Voice cloning judged against the speaker's other recordings\n\n"
    md += table(["split", "engine", "references", "similarity (other recordings)",
                 "after MP3 + 20 dB noise", "drop", "to the reference clip", "human ceiling",
                 "WER", "DNSMOS", "enrolment s", "speed"], rows)
    md += ("\n\nSimilarity: mean cosine of Resemblyzer embeddings between each clone (5 "
           "Harvard sentences) and the speaker's *other* recordings; human ceiling: the "
           "reference clip against those same recordings. dev: LibriSpeech train-clean-100 "
           "(settings chosen here); test: LibriSpeech test-other speakers (never tuned on). "
           f"Peak memory {raw['peak_rss_mb']} MB.")
    save(args.name, md, raw)


if __name__ == "__main__":
    main()
