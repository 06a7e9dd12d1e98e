"""Batching across requests: throughput and WER, one at a time against the request batcher.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/asr_batching.py [--repeats 2]
Held out: ... asr_batching.py --corpus read_speech --threads 0 --rounds 2
                                --name asr_batching_heldout

On the LibriSpeech test-other subset (30 utterances, 222 s; the window-sharing constants of
earful.asr.packing were chosen on it) or, held out, the 141 read sentences (another speaker
and text, never used for choosing anything), for each CTranslate2 thread
setting: (a) ``transcribe()`` on every utterance in turn, and (b) a ``RequestBatcher`` fed
by N client threads (N = 1, 4, 16), each submitting its next utterance as soon as the
previous one returns, as N concurrent service clients would; clips of 5 s or less are either
batched with the others or sent through ``transcribe()`` (``short_clips``). The batcher runs
two decoders, each on a replica of the model with half the threads; so that this part of
its gain is not credited to batching, (c) runs ``transcribe()`` from two clients at once on
the same two-replica model: the stronger one-at-a-time baseline. Throughput is
audio seconds per wall second over ``repeats`` passes of the corpus, best of ``rounds``
interleaved rounds; WER is the corpus WER of the first pass with the English normaliser,
per round and, in the summary, its mean and range over the rounds: which requests share a
Whisper window depends on when each arrives, so the batcher's transcripts (unlike one at a
time) can differ a little from round to round, and one round is a sample of that. The
speed ratio that matters is measured within one run (the machine is shared, so absolute
figures drift between runs).
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from _common import data_dir, save, table
from earful.asr.batcher import RequestBatcher
from earful.asr.engines import get_model, transcribe_faster_whisper
from earful.asr.evaluate import get_normaliser, read_manifest, score
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Transcript
from earful.asr.transcribe import transcribe
from earful.audio.io import load_audio

OPTS = TranscribeOptions(language="en")
SEQUENTIAL = "one at a time (transcribe)"
TWO_AT_A_TIME = "two at a time (transcribe, 2 clients, a replica each)"
#: (max_batch, concurrent clients, share_windows) run against the batcher.
CONFIGS = ((8, 1, True), (8, 4, True), (8, 16, True), (8, 16, False))
#: --corpus: folder under speech/ and how the table names it.
CORPORA = {"librispeech": ("librispeech_test_other", "LibriSpeech test-other subset"),
           "read_speech": ("read_speech", "read sentences, held out")}
NOTES = {"librispeech": "The window-sharing constants (earful.asr.packing) were chosen on "
                        "these same utterances, so the shared-window WER here is not a "
                        "held-out figure: see the held-out table.",
         "read_speech": "Held out: nothing in earful.asr.packing or the batcher was chosen "
                        "on these sentences."}


def run_clients(work: list[np.ndarray], clients: int,
                call: Callable[[np.ndarray], Transcript]) -> tuple[list[str], float]:
    """Transcribe ``work`` with ``clients`` threads taking the next item when free."""
    texts = [""] * len(work)
    lock = threading.Lock()
    next_index = iter(range(len(work)))

    def client() -> None:
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            texts[i] = call(work[i]).text

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for f in [pool.submit(client) for _ in range(clients)]:
            f.result()
    return texts, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1,
                        help="passes over the corpus in one run")
    parser.add_argument("--rounds", type=int, default=2,
                        help="interleaved rounds of all settings; each keeps its best")
    parser.add_argument("--threads", type=int, nargs="+", default=[0, 2],
                        help="ModelSpec.cpu_threads settings to try (0 = CTranslate2's)")
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="librispeech",
                        help="librispeech: the subset the sharing constants were chosen on; "
                             "read_speech: held out")
    parser.add_argument("--name", default="asr_batching",
                        help="results file name in benchmarks/results/")
    args = parser.parse_args()
    folder, title = CORPORA[args.corpus]
    rows_in = read_manifest(data_dir() / "speech" / folder / "transcripts.tsv")
    audios = [load_audio(path) for path, _ in rows_in]
    refs = [text for _, text in rows_in]
    norm = get_normaliser("english")
    n = len(audios)
    work = audios * args.repeats
    seconds = sum(len(a) for a in work) / 16000

    rows: list[list[object]] = []
    runs: list[dict[str, object]] = []
    raw: dict[str, object] = {"utterances": n, "repeats": args.repeats, "runs": runs,
                              "audio_seconds_per_pass": round(seconds / args.repeats, 1)}
    summary: list[str] = []

    def record(threads: int, how: str, texts: list[str], wall: float,
               extra: dict[str, object]) -> tuple[float, float]:
        wer = score(refs, texts[:n], norm).wer
        speed = seconds / wall
        rows.append([threads or "default", how, f"{100 * wer:.2f}%", f"{speed:.2f}",
                     f"{wall:.1f}", extra.get("batches", "-"), extra.get("largest_batch", "-")])
        runs.append({"cpu_threads": threads, "how": how, "wer": wer,
                     "audio_s_per_wall_s": round(speed, 3), "wall_s": round(wall, 2), **extra})
        print(rows[-1], flush=True)
        return speed, wer

    for threads in args.threads:
        spec = ModelSpec(cpu_threads=threads)
        get_model(spec)
        transcribe(audios[0], OPTS, spec)  # load and warm up
        best: dict[str, float] = {}  # label -> best speed
        wers: dict[str, list[float]] = {}  # label -> WER of each round

        def keep(label: str, speed: float, wer: float,
                 best: dict[str, float] = best, wers: dict[str, list[float]] = wers) -> None:
            best[label] = max(best.get(label, 0.0), speed)
            wers.setdefault(label, []).append(wer)

        # Rounds interleave every setting, and each keeps its best round's speed: the
        # machine is shared and its load drifts, which a single pass per setting would
        # mistake for a difference between settings. WER is averaged over the rounds.
        for _ in range(args.rounds):
            texts, wall = run_clients(work, 1, lambda a, s=spec: transcribe(a, OPTS, s))
            keep(SEQUENTIAL, *record(threads, SEQUENTIAL, texts, wall, {}))
            replicas = get_model(spec, replicas=2)
            texts, wall = run_clients(
                work, 2,
                lambda a, s=spec, m=replicas: transcribe_faster_whisper(a, OPTS, s, model=m))
            keep(TWO_AT_A_TIME, *record(threads, TWO_AT_A_TIME, texts, wall, {}))
            for max_batch, clients, share in CONFIGS:
                with RequestBatcher(spec, max_batch=max_batch, share_windows=share) as batcher:
                    texts, wall = run_clients(work, clients, batcher.transcribe)
                    stats = batcher.stats
                label = (f"batcher: max_batch={max_batch}, {clients} clients, "
                         + ("shared windows" if share else "own windows"))
                keep(label, *record(threads, label, texts, wall, dict(stats.__dict__)))
        base_speed, base_wer = best[SEQUENTIAL], float(np.mean(wers[SEQUENTIAL]))
        two_speed = best[TWO_AT_A_TIME]
        for label, speed in best.items():
            if label != SEQUENTIAL:
                against_two = ("" if label == TWO_AT_A_TIME
                               else f", {speed / two_speed:.2f}x two at a time")
                mean = float(np.mean(wers[label]))
                summary.append(f"cpu_threads={threads or 'default'}, {label}: "
                               f"{speed / base_speed:.2f}x the one-at-a-time throughput"
                               f"{against_two} (best of {args.rounds} rounds each); WER "
                               f"{100 * mean:.2f}% on average over the rounds "
                               f"({100 * min(wers[label]):.2f}-{100 * max(wers[label]):.2f}%), "
                               f"{100 * (mean - base_wer):+.2f} points")

    md = ("### Batching across requests (tiny.en int8, beam 5, VAD on, "
          f"{title}: {n} utterances x {args.repeats} passes, {args.rounds} "
          "interleaved rounds)\n\n"
          + table(["cpu_threads", "how", "WER", "audio s / wall s", "wall s", "batches",
                   "largest batch"], rows)
          + "\n\n" + "\n".join(f"- {line}" for line in summary)
          + "\n\nAbsolute speeds drift between runs on these shared 2-core machines; compare "
          "ratios within one run. " + NOTES[args.corpus])
    raw["summary"] = summary
    raw["rounds"] = args.rounds
    raw["corpus"] = args.corpus
    save(args.name, md, raw)


if __name__ == "__main__":
    main()
