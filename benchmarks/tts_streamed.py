"""Streamed speech against whole speech on read sentences: what the short first piece costs
and what it buys, for Kokoro (jm_kumo) and Piper (joe).

For each text (the read_speech sentences `tts_kokoro.py` uses: every 7th row of
`speech/read_speech`), the engine speaks it whole (as `earful speak` and a non-streamed
request do) and in the pieces a streamed request sends (:mod:`earful.tts.stream`), and:

* **first audio**: seconds from the call until the first piece is ready, streamed, against
  until the whole first sentence is ready, not streamed;
* **WER**: Whisper tiny.en's transcripts of the whole speech and of the streamed pieces
  played back to back (with their pauses), scored against the text;
* **waits**: how long, in all, a player that starts on the first piece as soon as it is
  ready would wait for pieces not yet made;
* **pause at the cut**: where the first piece ends at a clause mark, the quiet at the join
  (the end of the first piece plus the start of the next) against the quiet the whole
  sentence has there; likewise for cuts between words.

Run: ``EARFUL_DATA=../shared/data .venv/bin/python benchmarks/tts_streamed.py [--sentences N]``
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable

import numpy as np

from _common import data_dir, peak_rss_mb, player_waits, save, table
from earful.asr.evaluate import read_manifest
from earful.config import Settings
from earful.models import manager
from earful.tts.evaluate import intelligibility
from earful.tts.kokoro_engine import KokoroOptions, speak_kokoro
from earful.tts.piper_engine import speak
from earful.tts.result import Speech
from earful.tts.stream import leading_quiet, quiet_runs, speak_pieces, stream_pieces, trailing_quiet
from earful.tts.synth import TtsConfig, use_kokoro
from earful.tts.text import clean_text, split_sentences

logger = logging.getLogger("tts_streamed")
THREADS = 2
VOICE = "jm_kumo"


def pause_in_whole(whole: Speech, at: float) -> float:
    """The quiet run of the whole speech nearest to ``at`` seconds (0 if none within 0.4 s)."""
    runs = [(abs(s - at), d) for s, d in quiet_runs(whole.samples, whole.sample_rate)
            if s > 0 and abs(s - at) < 0.4]
    return min(runs)[1] if runs else 0.0


def run(name: str, say: Callable[[str], Speech],
        say_whole: Callable[[str], tuple[Speech, float]], texts: list[str]) -> dict:
    """``say`` speaks a piece; ``say_whole`` a whole text, with the seconds until its first
    sentence was ready."""
    wholes, streams, firsts_whole, firsts_piece, cuts, waits = [], [], [], [], [], []
    for text in texts:
        text = clean_text(text)
        whole, first_sentence = say_whole(text)
        firsts_whole.append(first_sentence)
        start = time.perf_counter()
        pieces = stream_pieces(text)
        spoken, ready = [], []
        for speech in speak_pieces(pieces, say):
            ready.append(time.perf_counter() - start)
            spoken.append(speech)
        firsts_piece.append(ready[0])
        waits.append(player_waits(ready, [s.duration for s in spoken]))
        wholes.append(whole)
        streams.append(Speech(np.concatenate([s.samples for s in spoken]), whole.sample_rate,
                              text, whole.voice, whole.engine))
        if len(pieces) > 1 and pieces[0].end != "sentence":
            first = spoken[0]
            tail = trailing_quiet(first.samples, first.sample_rate)
            lead = leading_quiet(spoken[1].samples, spoken[1].sample_rate)
            cuts.append({"kind": pieces[0].end, "piece": pieces[0].text,
                         "join_s": round(tail + lead, 3),
                         "whole_s": pause_in_whole(whole, first.duration - tail)})
    wer_whole, heard_whole = intelligibility(wholes)
    wer_streamed, heard_streamed = intelligibility(streams)
    result = {"wer_whole": round(wer_whole, 4), "wer_streamed": round(wer_streamed, 4),
              "heard_whole": heard_whole, "heard_streamed": heard_streamed,
              "first_sentence_s": [round(x, 3) for x in firsts_whole],
              "first_piece_s": [round(x, 3) for x in firsts_piece], "cuts": cuts,
              "waits_s": [round(x, 3) for x in waits],
              "audio_whole_s": round(sum(s.duration for s in wholes), 2),
              "audio_streamed_s": round(sum(s.duration for s in streams), 2)}
    logger.info("%s: WER whole %.1f%%, streamed %.1f%%", name, 100 * wer_whole,
                100 * wer_streamed)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20)
    parser.add_argument("--engines", nargs="*", default=["kokoro", "piper"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = read_manifest(data_dir() / "speech" / "read_speech" / "transcripts.tsv")
    texts = [t for _, t in rows[::7][:args.sentences]]
    config = TtsConfig(cache_dir=Settings().cache_dir, kokoro_threads=THREADS)
    results = {}
    if "kokoro" in args.engines:
        with use_kokoro(config) as model:

            def kokoro_whole(text: str) -> tuple[Speech, float]:
                marks: list[float] = []
                start = time.perf_counter()
                speech = speak_kokoro(model, text, VOICE, KokoroOptions(),
                                      lambda _a: marks.append(time.perf_counter()))
                return speech, marks[0] - start

            results[f"kokoro {VOICE}"] = run(
                "kokoro", lambda t: speak_kokoro(model, t, VOICE), kokoro_whole, texts)
    if "piper" in args.engines:
        with manager.use("tts.piper", label="en_US-joe-medium", name="en_US-joe-medium",
                         voices_dir=None) as voice:

            def piper_whole(text: str) -> tuple[Speech, float]:
                start = time.perf_counter()
                speak(voice, split_sentences(text)[0])  # Piper has no per-sentence callback
                first = time.perf_counter() - start
                return speak(voice, text), first

            results["piper joe"] = run("piper", lambda t: speak(voice, t), piper_whole, texts)

    lines = []
    for name, r in results.items():
        clause = [c for c in r["cuts"] if c["kind"] == "clause"]
        phrase = [c for c in r["cuts"] if c["kind"] == "phrase"]

        def pauses(cuts: list[dict]) -> str:
            if not cuts:
                return "-"
            return (f"{statistics.median(c['join_s'] for c in cuts):.2f} / "
                    f"{statistics.median(c['whole_s'] for c in cuts):.2f} ({len(cuts)})")

        lines.append([name, f"{statistics.median(r['first_piece_s']):.2f} / "
                            f"{max(r['first_piece_s']):.2f}",
                      f"{statistics.median(r['first_sentence_s']):.2f} / "
                      f"{max(r['first_sentence_s']):.2f}",
                      f"{statistics.median(r['waits_s']):.2f} / {max(r['waits_s']):.2f}",
                      f"{r['wer_streamed']:.1%}", f"{r['wer_whole']:.1%}",
                      pauses(clause), pauses(phrase)])
    md = (f"### Streamed speech against whole speech ({len(texts)} read_speech sentences, "
          f"{THREADS} threads)\n\n"
          + table(["engine", "first piece ready, streamed: median / worst (s)",
                   "whole first sentence ready, not streamed (s)",
                   "waits for late pieces, streamed: median / worst (s)", "WER streamed",
                   "WER whole", "pause at a comma cut: join / whole sentence, median (cuts)",
                   "pause at a cut between words: join / whole (cuts)"], lines)
          + "\n\nThe same texts spoken whole and in the pieces a streamed request sends (a "
            "short first piece cut at a clause mark or before a phrase, then pieces growing "
            "to whole sentences, joined by their pauses). Times from the call until the "
            "audio is ready (cutting, spoken forms, phonemes, inference). Waits: what a "
            "player starting on the first piece would wait, in all, for pieces not yet made. "
            "Pauses: seconds of "
            "quiet (40 dB under the loudest 10 ms) at the first cut, streamed, against the "
            "whole sentence's at the same place. WER: Whisper tiny.en after English "
            f"normalisation. Peak memory {peak_rss_mb():.0f} MB.")
    save("tts_streamed", md, {"sentences": texts, "threads": THREADS, "results": results})


if __name__ == "__main__":
    main()
