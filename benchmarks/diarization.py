"""Speaker diarization on simulated conversations: DER, JER, speaker-count accuracy,
overlapped-speech detection, speed (wall and CPU time), peak memory, and the share of
transcript words given the right speaker.

Conversations are built by :mod:`earful.diarize.simulate` (seeded) from the shared speech
data, split by speaker: a development set, on which every threshold is chosen, and a test
set, which is reported. Each is also scored with pink noise added at 20 dB SNR, so that
the pause and overlap thresholds are not chosen on the simulator's digital silence
alone. DER and JER come from pyannote.metrics with a 0.25 s collar on each side of each
reference boundary, overlapped speech scored.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/diarization.py
     [--per-size N] [--no-words] [--hour]
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

from _common import data_dir, run_isolated, save, table
from earful.audio.constants import SAMPLE_RATE
from earful.audio.transforms import add_noise
from earful.diarize.metrics import OverlapReport, Report, overlap_scores, score, speaker_mapping
from earful.diarize.options import DiarizeOptions
from earful.diarize.overlap import find_overlaps
from earful.diarize.pipeline import Embedded, extract, finish, speaker_encoder
from earful.diarize.result import Diarization, Turn
from earful.diarize.simulate import Piece, load_pieces, simulate, speech_corpus

SIZES = (2, 3, 4)
THRESHOLDS = [round(x, 2) for x in np.arange(0.20, 0.52, 0.02)]
MIN_CLUSTER = (1.0, 2.0, 3.0, 4.0, 6.0)
#: How far changes may move to a pause (0: not at all).
SNAP_GRID = (0.0, 0.5, 0.75, 1.0)
#: Pauses: (pause_db, pause_min).
PAUSE_GRID = list(itertools.product((2.0, 3.0, 6.0), (0.03, 0.05, 0.1)))
#: Overlap stretches: (overlap_search, overlap_before, overlap_after).
OVERLAP_GRID = list(itertools.product((0.4, 0.6, 0.8, 1.0), (0.2, 0.3, 0.4, 0.5),
                                      (0.1, 0.2, 0.3, 0.4)))
NOISE_SNR = 20.0

ISOLATED = """
import json, sys, time
from _common import peak_rss_mb
from earful.diarize.options import DiarizeOptions
from earful.diarize.pipeline import diarize_file
t0, c0 = time.perf_counter(), time.process_time()
d = diarize_file(sys.argv[1], DiarizeOptions(threshold=float(sys.argv[2])))
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"duration_s": d.duration, "wall_s": wall, "cpu_s": cpu,
                  "peak_rss_mb": peak_rss_mb(), "overlaps": len(d.overlaps),
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


def noisy(convs: list[Conversation], seed: int) -> list[Conversation]:
    """``convs`` with pink noise added at :data:`NOISE_SNR` dB (seeded)."""
    rng = np.random.default_rng(seed)
    return [(uri, add_noise(audio, NOISE_SNR, "pink", seed=rng), ref)
            for uri, audio, ref in convs]


#: A conversation's embeddings, and the wall and CPU seconds their extraction took.
Extracted = tuple[Embedded, float, float]


def embed_all(convs: list[Conversation]) -> list[Extracted]:
    """Each conversation's embeddings, with the wall and CPU seconds extraction took (the
    machine may be shared: CPU time hardly depends on that, wall time does)."""
    out = []
    opts = DiarizeOptions()
    for _, audio, _ in convs:
        t0, c0 = time.perf_counter(), time.process_time()
        emb = extract([(0.0, audio)], opts)
        out.append((emb, time.perf_counter() - t0, time.process_time() - c0))
    return out


def run(convs: list[Conversation], embedded: list[Extracted], given: bool = False,
        opts: DiarizeOptions | None = None) -> tuple[Report, list[Diarization], float, float]:
    """Score one setting; returns the report, the hypotheses, and the wall and CPU seconds
    of extraction and clustering."""
    hyps, pairs, wall, cpu = [], [], 0.0, 0.0
    for (uri, _, ref), (emb, took, took_cpu) in zip(convs, embedded, strict=True):
        n = len({t.speaker for t in ref})
        o = replace(opts or DiarizeOptions(), num_speakers=n if given else None)
        t0, c0 = time.perf_counter(), time.process_time()
        hyp = finish(emb, o)
        wall += took + time.perf_counter() - t0
        cpu += took_cpu + time.process_time() - c0
        hyps.append(hyp)
        pairs.append((uri, ref, hyp.turns))
    return score(pairs), hyps, wall, cpu


def overlaps_found(convs: list[Conversation], hyps: list[Diarization]) -> OverlapReport:
    """How well the reported overlaps of ``hyps`` match the references."""
    return overlap_scores((ref, [(o.start, o.end) for o in hyp.overlaps])
                          for (_, _, ref), hyp in zip(convs, hyps, strict=True))


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
            "speed_x": round(result["duration_s"] / result["wall_s"], 1),
            "cpu_speed_x": round(result["duration_s"] / result["cpu_s"], 1),
            "load_average": round(os.getloadavg()[0], 1)}


def sweep_clustering(dev: list[Conversation], emb: list[Extracted]) -> dict[str, object]:
    """Dev DER over thresholds and smallest-speaker sizes (the rest at their defaults)."""
    sweep = {(t, m): run(dev, emb, opts=DiarizeOptions(threshold=t, min_cluster_seconds=m,
                                                       overlap="off"))[0]
             for t in THRESHOLDS for m in MIN_CLUSTER}
    best = min(sweep, key=lambda k: (sweep[k].der, -sweep[k].count_accuracy))
    return {"best": [float(best[0]), float(best[1])], "best_der": sweep[best].der,
            "table": {f"{t} {m}": [r.der, r.jer, r.count_accuracy]
                      for (t, m), r in sweep.items()}}


def sweep_snapping(sets: list[tuple[list[Conversation], list[Extracted]]]) -> dict[str, object]:
    """Mean dev DER (clean and noisy) over the distances changes may move to a pause."""
    table = {snap: float(np.mean([run(c, e, opts=DiarizeOptions(snap_search=snap))[0].der
                                  for c, e in sets])) for snap in SNAP_GRID}
    best = min(table, key=lambda k: (round(table[k], 4), -k))
    return {"best": best, "best_der": round(table[best], 4),
            "table": {str(k): round(v, 4) for k, v in table.items()}}


def sweep_overlaps(sets: list[tuple[list[Conversation], list[Extracted]]],
                   snap: float) -> dict[str, object]:
    """Mean dev F1 of overlap detection (clean and noisy) over the pause definition and
    the reported stretch, changes snapped within ``snap`` seconds."""
    table = {}
    for db, least in PAUSE_GRID:
        base = DiarizeOptions(pause_db=db, pause_min=least, snap_search=snap, overlap="off")
        turns = [[finish(emb, base).turns for emb, _, _ in e] for _, e in sets]
        for search, before, after in OVERLAP_GRID:
            o = replace(base, overlap="detect", overlap_search=search, overlap_before=before,
                        overlap_after=after)
            f1 = []
            for (c, e), hyp_turns in zip(sets, turns, strict=True):
                found = [find_overlaps(t, emb.levels, o)[1]
                         for t, (emb, _, _) in zip(hyp_turns, e, strict=True)]
                f1.append(overlap_scores(
                    (ref, [(x.start, x.end) for x in f])
                    for (_, _, ref), f in zip(c, found, strict=True)).f1)
            table[(db, least, search, before, after)] = float(np.mean(f1))
    best = max(table, key=lambda k: round(table[k], 4))
    return {"best": list(best), "best_f1": round(table[best], 4),
            "table": {" ".join(map(str, k)): round(v, 4) for k, v in table.items()}}


def pct(x: float, bold: bool = False) -> str:
    """``x`` as a percentage with one decimal."""
    text = f"{100 * x:.1f}%"
    return f"**{text}**" if bold else text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-size", type=int, default=8, help="conversations per size and split")
    ap.add_argument("--no-words", action="store_true", help="skip the transcript check")
    ap.add_argument("--hour", action="store_true", help="also the one-hour conversation")
    args = ap.parse_args()
    dev_pool, test_pool = pools(data_dir())
    convs = {"dev": conversations(dev_pool, args.per_size, seed=1),
             "test": conversations(test_pool, args.per_size, seed=2)}
    convs["dev+noise"] = noisy(convs["dev"], seed=3)
    convs["test+noise"] = noisy(convs["test"], seed=4)
    with speaker_encoder():  # load once, outside the timings
        pass
    extract([(0.0, convs["dev"][0][1])], DiarizeOptions())  # and the VAD and imports
    load0 = os.getloadavg()[0]
    emb = {name: embed_all(c) for name, c in convs.items()}
    load1 = os.getloadavg()[0]
    dev_sets = [(convs[n], emb[n]) for n in ("dev", "dev+noise")]
    defaults = DiarizeOptions()
    results: dict[str, object] = {
        "defaults": {k: getattr(defaults, k) for k in (
            "threshold", "min_cluster_seconds", "pause_db", "pause_min", "snap_search",
            "overlap", "overlap_search", "overlap_before", "overlap_after", "precision")},
        "dev_clustering": sweep_clustering(convs["dev"], emb["dev"]),
        "dev_snapping": sweep_snapping(dev_sets),
        "dev_speakers": sorted(dev_pool), "test_speakers": sorted(test_pool),
        "load_average": [round(load0, 1), round(load1, 1)]}
    snap_best = results["dev_snapping"]["best"]  # type: ignore[index]
    results["dev_overlap_sweep"] = sweep_overlaps(dev_sets, snap_best)
    audio_s = {n: sum(a.size for _, a, _ in c) / SAMPLE_RATE for n, c in convs.items()}
    rows, speed_rows, ov_rows = [], [], []
    hyps_auto: list[Diarization] = []
    for split in convs:
        for given in (False, True) if "noise" not in split else (False,):
            rep, hyps, wall, cpu = run(convs[split], emb[split], given)
            mode = "given" if given else "found"
            results[f"{split}_{mode}"] = rep.to_dict()
            if split == "test" and not given:
                hyps_auto = hyps
            sizes = by_size(rep)
            for n in SIZES:
                rows.append([split, mode, n, len(sizes[n].files), pct(sizes[n].der),
                             pct(sizes[n].jer), f"{100 * sizes[n].count_accuracy:.0f}%"])
            rows.append([split, mode, "all", len(rep.files), pct(rep.der, True), pct(rep.jer),
                         f"**{100 * rep.count_accuracy:.0f}%**"])
            if given:
                continue
            speed_rows.append([split, f"{audio_s[split] / 60:.1f} min",
                               f"{audio_s[split] / wall:.0f}x", f"{audio_s[split] / cpu:.0f}x"])
            results[f"{split}_speed"] = {"wall_x": round(audio_s[split] / wall, 1),
                                         "cpu_x": round(audio_s[split] / cpu, 1)}
            ov = overlaps_found(convs[split], hyps)
            assigned = run(convs[split], emb[split], opts=DiarizeOptions(overlap="assign"))[0]
            off = run(convs[split], emb[split], opts=DiarizeOptions(snap_search=0.0))[0]
            results[f"{split}_overlaps"] = {**ov.to_dict(), "der_assign": assigned.der,
                                            "der_no_snap": off.der}
            ov_rows.append([split, ov.reference, ov.detected, pct(ov.precision),
                            pct(ov.recall), pct(ov.hit_precision), pct(ov.hit_recall),
                            pct(off.der), pct(rep.der), pct(assigned.der)])
    clus, snaps, ovs = (results["dev_clustering"], results["dev_snapping"],
                        results["dev_overlap_sweep"])
    md = (f"### Speaker diarization (simulated conversations, Resemblyzer + Silero VAD, "
          f"threshold {defaults.threshold}, smallest speaker {defaults.min_cluster_seconds} s)"
          "\n\n" + table(["split", "speaker count", "speakers", "files", "DER", "JER",
                           "count right"], rows)
          + f"\n\nDev: {len(convs['dev'])} conversations, {audio_s['dev'] / 60:.1f} min; test: "
            f"{len(convs['test'])} conversations, {audio_s['test'] / 60:.1f} min, disjoint "
            f"speakers; '+noise': the same with pink noise at {NOISE_SNR:.0f} dB SNR. DER and "
            "JER use a 0.25 s collar on each side, overlap scored; JER per size is the mean "
            "over files. Chosen on dev: (threshold, smallest speaker in seconds) "
            f"{tuple(clus['best'])} by dev DER ({pct(clus['best_der'])}); "
            f"the distance a change may move to a pause, {snaps['best']} s, by the mean DER "
            f"of dev and dev+noise ({pct(snaps['best_der'])}).\n\n"
          + table(["split", "overlaps", "reported", "time precision", "time recall",
                   "hit precision", "hit recall", "DER, changes not snapped",
                   "DER (default)", "DER, overlaps assigned"], ov_rows)
          + "\n\nOverlapped speech (detected at speaker changes with no pause near; "
            "listed in `overlaps`, turns unchanged by default). Time precision and recall "
            "count seconds (no collar); a hit is a reported stretch that touches a reference "
            "overlap. Chosen on dev: (pause dB above the floor, shortest pause, search, "
            f"before, after) {tuple(ovs['best'])} by the mean time F1 of dev and dev+noise "
            f"({pct(ovs['best_f1'])}).\n\n"
          + table(["split", "audio", "speed (wall)", "speed (CPU time)"], speed_rows)
          + "\n\nSpeed: VAD, embedding, clustering and turns, in times real time; "
            f"{defaults.precision} encoder precision. The machine (2 cores) was shared with "
            f"other jobs (load average {load0:.1f} before the extraction, {load1:.1f} after), "
            "so wall time is noisy; CPU time hardly depends on that.")
    if not args.no_words:
        words = word_accuracy(convs["test"], hyps_auto)
        results["test_words"] = words
        md += (f"\n\nSpeaker-attributed transcripts (tiny.en, test, count found): "
               f"{100 * words['accuracy']:.1f}% of {words['words']} words given the right "
               "speaker.")
    if args.hour:
        h = hour(test_pool, defaults.threshold)
        results["hour"] = h
        md += ("\n\n" + table(["audio", "wall time", "CPU time", "speed (wall)",
                               "speed (CPU time)", "peak RSS", "DER", "speakers"],
                              [[f"{h['duration_s'] / 60:.0f} min", f"{h['wall_s']:.0f} s",
                                f"{h['cpu_s']:.0f} s", f"{h['speed_x']}x",
                                f"{h['cpu_speed_x']}x", f"{h['peak_rss_mb']:.0f} MB",
                                pct(h["der"]), f"{h['hyp_speakers']} of 4"]])
               + "\n\nOne hour of conversation among four test speakers (their pieces "
                 "reused), diarized with `diarize_file` in a fresh process (imports and "
                 f"model loading included; load average {h['load_average']} after).")
    save("diarization", md, results)


if __name__ == "__main__":
    main()
