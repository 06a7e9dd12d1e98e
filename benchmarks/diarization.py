"""Speaker diarization on simulated conversations: DER, JER, speaker-count accuracy, speed,
peak memory, and the share of transcript words given the right speaker.

Conversations are built by :mod:`earful.diarize.simulate` (seeded) from the shared speech
data, split by speaker: a development set, on which the clustering threshold is chosen,
and a test set, which is reported. DER and JER come from pyannote.metrics with a 0.25 s
collar on each side of each reference boundary, overlapped speech scored.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/diarization.py
     [--per-size N] [--no-words] [--hour] [--hour-only]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from _common import data_dir, run_isolated, save, table
from earful.audio.constants import SAMPLE_RATE
from earful.diarize.metrics import Report, score, speaker_mapping
from earful.diarize.options import DEFAULT_MIN_CLUSTER, DEFAULT_THRESHOLD, DiarizeOptions
from earful.diarize.pipeline import Embedded, extract, finish, speaker_encoder
from earful.diarize.result import Diarization, Turn
from earful.diarize.simulate import Piece, load_pieces, simulate, speech_corpus

SIZES = (2, 3, 4)
THRESHOLDS = [round(x, 2) for x in np.arange(0.20, 0.52, 0.02)]
MIN_CLUSTER = (1.0, 2.0, 3.0, 4.0, 6.0)

ISOLATED = """
import json, sys, time
from _common import peak_rss_mb
from earful.diarize.options import DiarizeOptions
from earful.diarize.pipeline import diarize_file
t0, c0 = time.perf_counter(), time.process_time()
d = diarize_file(sys.argv[1], DiarizeOptions(threshold=float(sys.argv[2])))
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"duration_s": d.duration, "wall_s": wall, "cpu_s": cpu,
                  "peak_rss_mb": peak_rss_mb(),
                  "turns": [[t.speaker, t.start, t.end] for t in d.turns]}))
"""

Conversation = tuple[str, np.ndarray, list[Turn]]


def pools(root: Path) -> tuple[dict[str, list[Piece]], dict[str, list[Piece]]]:
    """Development and test speakers' pieces. Speakers with fewer than 3 pieces or 6 s of
    speech are left out; the LibriSpeech train-clean speakers are split in half at random
    (seed 7), test-other speaker 1688 goes to development, 1998, 2033 and the read-speech
    speaker to test."""
    corpus = speech_corpus(root / "speech")
    pieces = {s: load_pieces(files, s) for s, files in corpus.items()}
    usable = {s: p for s, p in pieces.items()
              if len(p) >= 3 and sum(b - a for q in p for a, b in q.speech) >= 6.0}
    ls = sorted(s for s in usable if s.startswith("ls"))
    order = np.random.default_rng(7).permutation(len(ls))
    dev_names = {ls[i] for i in order[: len(ls) // 2]} | {"lo1688"}
    dev = {s: p for s, p in usable.items() if s in dev_names}
    test = {s: p for s, p in usable.items() if s not in dev_names}
    return dev, test


def conversations(pool: dict[str, list[Piece]], per_size: int, seed: int) -> list[Conversation]:
    """``per_size`` conversations of each size in :data:`SIZES`."""
    rng = np.random.default_rng(seed)
    names = sorted(pool)
    out = []
    for n in SIZES:
        for i in range(per_size):
            chosen = rng.choice(names, size=n, replace=False)
            audio, ref = simulate({s: pool[s] for s in chosen}, rng)
            out.append((f"{n}spk_{i:02d}", audio, ref))
    return out


def embed_all(convs: list[Conversation]) -> tuple[list[tuple[Embedded, float]], float]:
    """Each conversation's embeddings and the wall seconds extraction took; and the CPU
    seconds all of it took (the machine may be shared: CPU time does not depend on that)."""
    out = []
    opts = DiarizeOptions()
    c0 = time.process_time()
    for _, audio, _ in convs:
        t0 = time.perf_counter()
        out.append((extract([(0.0, audio)], opts), time.perf_counter() - t0))
    return out, time.process_time() - c0


def run(convs: list[Conversation], embedded: list[tuple[Embedded, float]], threshold: float,
        given: bool, min_cluster: float = DEFAULT_MIN_CLUSTER,
        ) -> tuple[Report, list[Diarization], float]:
    """Score one setting; returns the report, the hypotheses and the wall seconds taken."""
    hyps, pairs, seconds = [], [], 0.0
    for (uri, _, ref), (emb, took) in zip(convs, embedded, strict=True):
        n = len({t.speaker for t in ref})
        opts = DiarizeOptions(threshold=threshold, num_speakers=n if given else None,
                              min_cluster_seconds=min_cluster)
        t0 = time.perf_counter()
        hyp = finish(emb, opts)
        seconds += took + time.perf_counter() - t0
        hyps.append(hyp)
        pairs.append((uri, ref, hyp.turns))
    return score(pairs), hyps, seconds


def by_size(report: Report) -> dict[int, Report]:
    """The files of ``report`` grouped by conversation size, pooled again."""
    out = {}
    for n in SIZES:
        files = [f for f in report.files if f.uri.startswith(f"{n}spk")]
        miss = sum(f.missed + f.false_alarm + f.confusion for f in files)
        total = sum(f.total for f in files)
        out[n] = Report(files, round(miss / total, 4) if total else 0.0,
                        round(float(np.mean([f.jer for f in files])), 4),
                        round(float(np.mean([f.count_right for f in files])), 4))
    return out


def word_accuracy(convs: list[Conversation], hyps: list[Diarization]) -> dict[str, float]:
    """Transcribe each conversation (tiny.en, word timestamps), give words speakers, and
    count the words whose speaker (mapped to the reference's) is the reference speaker
    with the most speech during the word."""
    from earful.asr.options import TranscribeOptions
    from earful.asr.transcribe import transcribe
    from earful.diarize.attribute import attribute_speakers

    right = total = 0
    for (_, audio, ref), hyp in zip(convs, hyps, strict=True):
        t = attribute_speakers(transcribe(audio, TranscribeOptions(
            language="en", word_timestamps=True, beam_size=1)), hyp)
        mapping = speaker_mapping(ref, hyp.turns)
        truth = Diarization(ref, hyp.duration)
        for seg in t.segments:
            for w in seg.words or []:
                expected = truth.speaker_at(w.start, w.end)
                total += 1
                right += int(mapping.get(w.speaker or "") == expected)
    return {"words": total, "accuracy": round(right / total, 4) if total else 0.0}


def hour(test: dict[str, list[Piece]], threshold: float) -> dict[str, object]:
    """One hour of conversation among four test speakers (pieces reused, so this measures
    speed and memory first; its DER is reported with that caveat)."""
    rng = np.random.default_rng(11)
    names = sorted(test, key=lambda s: -len(test[s]))[:4]
    ref: list[Turn] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.flac"
        written = 0.0
        with sf.SoundFile(path, "w", SAMPLE_RATE, 1, "PCM_16") as out:
            while written < 3600.0:
                audio, turns = simulate({s: test[s] for s in names}, rng)
                out.write(audio)
                ref += [Turn(t.speaker, t.start + written, t.end + written) for t in turns]
                written += audio.size / SAMPLE_RATE
        result = run_isolated(ISOLATED, str(path), str(threshold))
    hyp = [Turn(s, a, b) for s, a, b in result.pop("turns")]
    rep = score([("hour", ref, hyp)])
    return {**result, "speakers": names, "der": rep.der, "jer": rep.jer,
            "hyp_speakers": rep.files[0].hyp_speakers,
            "speed_x": round(result["duration_s"] / result["wall_s"], 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-size", type=int, default=8, help="conversations per size and split")
    ap.add_argument("--no-words", action="store_true", help="skip the transcript check")
    ap.add_argument("--hour", action="store_true", help="also the one-hour conversation")
    args = ap.parse_args()
    dev_pool, test_pool = pools(data_dir())
    dev = conversations(dev_pool, args.per_size, seed=1)
    test = conversations(test_pool, args.per_size, seed=2)
    with speaker_encoder():  # load once, outside the timings
        pass
    (dev_emb, dev_cpu), (test_emb, test_cpu) = embed_all(dev), embed_all(test)
    sweep = {(t, m): run(dev, dev_emb, t, False, m)[0] for t in THRESHOLDS for m in MIN_CLUSTER}
    best = min(sweep, key=lambda k: (sweep[k].der, -sweep[k].count_accuracy))
    best = (float(best[0]), float(best[1]))
    results: dict[str, object] = {
        "threshold_default": DEFAULT_THRESHOLD, "min_cluster_default": DEFAULT_MIN_CLUSTER,
        "dev_best": best,
        "dev_sweep": {f"{t} {m}": [r.der, r.jer, r.count_accuracy]
                      for (t, m), r in sweep.items()},
        "dev_speakers": sorted(dev_pool), "test_speakers": sorted(test_pool)}
    rows = []
    audio_s = {name: sum(a.size for _, a, _ in convs) / SAMPLE_RATE
               for name, convs in (("dev", dev), ("test", test))}
    results["cpu_speed_x"] = {"dev": round(audio_s["dev"] / dev_cpu, 1),
                              "test": round(audio_s["test"] / test_cpu, 1)}
    hyps_auto: list[Diarization] = []
    for split, convs, emb in (("dev", dev, dev_emb), ("test", test, test_emb)):
        for given in (False, True):
            rep, hyps, secs = run(convs, emb, DEFAULT_THRESHOLD, given)
            if split == "test" and not given:
                hyps_auto = hyps
            results[f"{split}_{'given' if given else 'auto'}"] = rep.to_dict()
            sizes = by_size(rep)
            for n in SIZES:
                rows.append([split, "given" if given else "found", n, len(sizes[n].files),
                             f"{100 * sizes[n].der:.1f}%", f"{100 * sizes[n].jer:.1f}%",
                             f"{100 * sizes[n].count_accuracy:.0f}%", ""])
            rows.append([split, "given" if given else "found", "all", len(rep.files),
                         f"**{100 * rep.der:.1f}%**", f"{100 * rep.jer:.1f}%",
                         f"**{100 * rep.count_accuracy:.0f}%**",
                         f"{audio_s[split] / secs:.0f}x"])
    md = (f"### Speaker diarization (simulated conversations, Resemblyzer + Silero VAD, "
          f"threshold {DEFAULT_THRESHOLD}, smallest speaker {DEFAULT_MIN_CLUSTER} s)\n\n"
          + table(["split", "speaker count", "speakers", "files", "DER", "JER",
                   "count right", "speed"], rows)
          + f"\n\nDev: {len(dev)} conversations, {audio_s['dev'] / 60:.1f} min; test: "
            f"{len(test)} conversations, {audio_s['test'] / 60:.1f} min, disjoint speakers. "
            f"The (threshold, smallest speaker in seconds) with the lowest dev DER in the "
            f"sweep was {best} (dev DER "
            f"{100 * sweep[best].der:.1f}%); DER and JER use a 0.25 s collar on each side, "
            "overlap scored. Speed: wall time of VAD, embedding, clustering and turns "
            f"({audio_s['test'] / test_cpu:.0f}x real time per CPU second on test, which "
            "does not depend on what else the machine runs); JER per size is the mean over "
            "files.")
    if not args.no_words:
        words = word_accuracy(test, hyps_auto)
        results["test_words"] = words
        md += (f"\n\nSpeaker-attributed transcripts (tiny.en, test, count found): "
               f"{100 * words['accuracy']:.1f}% of {words['words']} words given the right "
               "speaker.")
    if args.hour:
        h = hour(test_pool, DEFAULT_THRESHOLD)
        results["hour"] = h
        md += ("\n\n" + table(["audio", "wall time", "CPU time", "speed", "peak RSS", "DER",
                               "speakers"],
                              [[f"{h['duration_s'] / 60:.0f} min", f"{h['wall_s']:.0f} s",
                                f"{h['cpu_s']:.0f} s",
                                f"{h['speed_x']}x real time", f"{h['peak_rss_mb']:.0f} MB",
                                f"{100 * h['der']:.1f}%", f"{h['hyp_speakers']} of 4"]])
               + "\n\nOne hour of conversation among four test speakers (their pieces "
                 "reused), diarized with `diarize_file` in a fresh process.")
    save("diarization", md, results)


if __name__ == "__main__":
    main()
