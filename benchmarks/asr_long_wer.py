"""WER on long recordings: whole corpora laid end to end and transcribed as one file.

Short-clip benchmarks never show what happens between Whisper's 30 s windows. Here each
corpus's utterances, in manifest order with 0.5 s of silence between them, become one
recording, transcribed whole; its WER is taken against the references joined in the same
order (English normaliser). Compared, with tiny.en and the default beam of 5:

* the one-at-a-time path (``earful.asr.transcribe``) with VAD on (earful's default), with
  each window prompted by the text before it (``condition_on_previous_text``, faster-
  whisper's default) and without (earful's default since this benchmark);
* the same without VAD, not conditioned and conditioned (faster-whisper's own defaults);
* the service's batched path (``RequestBatcher``), which never conditions.

The default was chosen on the LibriSpeech subset (dev, ``--corpus librispeech``); the read
sentences (``--corpus read_speech``) were not looked at before it was chosen.
``--corpus test_clips`` is the long-audio test's recording (three sentences, three times
over, 1 s apart), where conditioning went wrong first.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/asr_long_wer.py --corpus NAME
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from _common import data_dir, save, table
from earful.asr.batcher import RequestBatcher
from earful.asr.evaluate import get_normaliser, read_manifest, score
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe
from earful.audio.io import load_audio

#: --corpus: folder under speech/ and how the table names it.
CORPORA = {"librispeech": ("librispeech_test_other", "LibriSpeech test-other subset (dev)"),
           "read_speech": ("read_speech", "141 read sentences (held out)"),
           "test_clips": ("", "tests/data's three sentences (JFK, printer, prison) three "
                              "times over")}
GAP_SECONDS = 0.5
TEST_DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def corpus(name: str) -> list[tuple[Path, str]]:
    """(audio file, reference) in order."""
    if name == "test_clips":
        return [(TEST_DATA / f"{clip}.flac", (TEST_DATA / f"{clip}.txt").read_text().strip())
                for _ in range(3) for clip in ("jfk", "printer", "prison")]
    return read_manifest(data_dir() / "speech" / CORPORA[name][0] / "transcripts.tsv")
SETTINGS = {
    "one at a time, VAD, not conditioned (default)": TranscribeOptions(language="en"),
    "one at a time, VAD, conditioned": TranscribeOptions(
        language="en", condition_on_previous_text=True),
    "no VAD, not conditioned": TranscribeOptions(language="en", vad=False),
    "faster-whisper defaults: no VAD, conditioned": TranscribeOptions(
        language="en", vad=False, condition_on_previous_text=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=CORPORA, default="librispeech")
    parser.add_argument("--gap", type=float, default=None,
                        help="seconds of silence between utterances (default: 1 for "
                             "test_clips, as the long-audio test lays them; 0.5 otherwise)")
    parser.add_argument("--name", default=None, help="results file name")
    args = parser.parse_args()
    label = CORPORA[args.corpus][1]
    rows = corpus(args.corpus)
    gap_s = args.gap if args.gap is not None else (
        1.0 if args.corpus == "test_clips" else GAP_SECONDS)
    gap = np.zeros(round(gap_s * 16000), np.float32)
    audio = np.concatenate([part for path, _ in rows for part in (load_audio(path), gap)])
    reference = " ".join(text for _, text in rows)
    norm = get_normaliser("english")
    minutes = len(audio) / 16000 / 60
    results: dict[str, dict[str, float]] = {}

    def record(name: str, text: str, wall: float) -> None:
        s = score([reference], [text], norm)
        results[name] = {"wer": s.wer, "substitutions": s.substitutions,
                         "deletions": s.deletions, "insertions": s.insertions,
                         "speed": len(audio) / 16000 / wall}
        print(f"{name}: WER {s.wer:.2%} ({wall:.0f} s)", flush=True)

    for name, opts in SETTINGS.items():
        t0 = time.perf_counter()
        text = transcribe(audio, opts, ModelSpec()).text
        record(name, text, time.perf_counter() - t0)
    with RequestBatcher(ModelSpec(), alone="batched") as batcher:
        t0 = time.perf_counter()
        text = batcher.transcribe(audio, TranscribeOptions(language="en")).text
        record("service batched path (never conditioned)", text, time.perf_counter() - t0)

    md = (f"### WER on one long recording: {label}, {len(rows)} utterances end to end "
          f"{gap_s:g} s apart ({minutes:.1f} min), tiny.en, beam 5\n\n"
          + table(["path", "WER", "sub / del / ins", "speed"], [
              [name, f"{r['wer']:.2%}",
               f"{r['substitutions']:.0f} / {r['deletions']:.0f} / {r['insertions']:.0f}",
               f"{r['speed']:.1f}x"] for name, r in results.items()]))
    save(args.name or f"asr_long_wer_{args.corpus}", md,
         {"corpus": args.corpus, "gap_seconds": gap_s, "minutes": minutes,
          "results": results})


if __name__ == "__main__":
    main()
