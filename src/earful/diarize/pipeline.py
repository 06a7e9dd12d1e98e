"""Diarization entry points: :func:`diarize` takes 16 kHz samples, :func:`diarize_file`
streams a file of any length through the same steps in bounded memory.

Steps: speech regions (Silero VAD) -> overlapping windows -> speaker embeddings
(Resemblyzer) -> clustering -> each 10 ms frame of speech to the speaker whose windows
weigh most on it -> turns, with turns shorter than ``min_turn`` given to a neighbour ->
changes moved into nearby pauses, and overlapped speech at changes without one
(:mod:`earful.diarize.overlap`).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from earful.audio.constants import SAMPLE_RATE
from earful.diarize.cluster import cluster_windows
from earful.diarize.embed import Windows, embed_windows, speech_regions
from earful.diarize.options import DiarizeOptions
from earful.diarize.overlap import FRAME as LEVEL_FRAME
from earful.diarize.overlap import find_overlaps, frame_levels, snap_to_pauses
from earful.diarize.result import Diarization, Turn

logger = logging.getLogger(__name__)

FRAME = 0.01  # seconds per frame when placing turn boundaries


def speaker_encoder() -> AbstractContextManager[Any]:
    """Hold Resemblyzer's encoder (the model manager's ``speaker-encoder:resemblyzer``)."""
    from earful.models import manager

    return manager.use("speaker-encoder", label="resemblyzer", device="cpu")


@dataclass
class Embedded:
    """What the audio leaves behind: speech regions and window embeddings (the clustering
    can be run again on it with other counts or thresholds, without the audio)."""

    regions: list[tuple[float, float]]
    windows: Windows
    duration: float
    levels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    """Loudness above the noise floor per 10 ms (:func:`~earful.diarize.overlap.frame_levels`;
    360 KB an hour), for placing changes and finding overlapped speech."""


def extract(pieces: Iterable[tuple[float, np.ndarray]], opts: DiarizeOptions,
            progress: Callable[[float], None] | None = None) -> Embedded:
    """Speech regions and window embeddings of ``(offset, samples)`` pieces."""
    regions: list[tuple[float, float]] = []
    parts: list[Windows] = []
    levels: list[tuple[int, np.ndarray]] = []
    total = 0.0
    with speaker_encoder() as encoder:
        for offset, chunk in pieces:
            local = speech_regions(chunk, opts)
            parts.append(embed_windows(encoder, chunk, local, opts, offset))
            regions += [(offset + a, offset + b) for a, b in local]
            levels.append((round(offset / LEVEL_FRAME), frame_levels(chunk, local)))
            total = offset + chunk.size / SAMPLE_RATE
            if progress is not None:
                progress(total)
    return Embedded(regions, Windows.concat(parts), round(total, 3), _join(levels))


def _join(parts: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """Per-chunk frame arrays laid at their first frames, in one array."""
    if not parts:
        return np.zeros(0, np.uint8)
    out = np.zeros(max(at + p.size for at, p in parts), np.uint8)
    for at, p in parts:
        out[at:at + p.size] = p
    return out


def finish(emb: Embedded, opts: DiarizeOptions) -> Diarization:
    """Cluster the windows of ``emb`` and lay out the turns."""
    w = emb.windows
    labels = cluster_windows(w.embeddings, w.ends - w.starts, opts)
    turns, names = _name_speakers(assign_turns(emb.regions, w, labels, opts.min_turn))
    turns, overlaps = find_overlaps(snap_to_pauses(turns, emb.levels, opts), emb.levels, opts)
    centroids = {}
    for label, name in names.items():
        mean = w.embeddings[labels == int(label)].mean(axis=0)
        centroids[name] = mean / (np.linalg.norm(mean) + 1e-9)
    return Diarization(turns=turns, duration=emb.duration, overlaps=overlaps,
                       embeddings=centroids)


def _run(pieces: Iterable[tuple[float, np.ndarray]], opts: DiarizeOptions,
         progress: Callable[[float], None] | None) -> Diarization:
    return finish(extract(pieces, opts, progress), opts)


def diarize(audio: np.ndarray, opts: DiarizeOptions | None = None) -> Diarization:
    """Who spoke when in mono float32 ``audio`` at 16 kHz."""
    from earful.audio.stream import quiet_chunks

    opts = opts or DiarizeOptions()
    audio = np.asarray(audio, dtype=np.float32)
    return _run(quiet_chunks([audio], SAMPLE_RATE, opts.chunk_seconds), opts, None)


def diarize_file(path: str | os.PathLike[str], opts: DiarizeOptions | None = None,
                 progress: Callable[[float], None] | None = None) -> Diarization:
    """Who spoke when in a file of any supported format and length.

    The file is decoded as a stream and handled ``opts.chunk_seconds`` at a time; only
    window embeddings (1 KB per 0.75 s of speech) outlive a chunk.

    Args:
        path: The audio file.
        opts: Counts and tuning (default :class:`DiarizeOptions`).
        progress: Called with the seconds of audio processed so far after each chunk.

    Raises:
        AudioDecodeError: The file is not readable audio.
    """
    from earful.audio.stream import quiet_chunks, stream_audio

    opts = opts or DiarizeOptions()
    start = time.perf_counter()
    result = _run(quiet_chunks(stream_audio(path, SAMPLE_RATE), SAMPLE_RATE,
                               opts.chunk_seconds), opts, progress)
    logger.debug("diarized %s (%.1f s, %d speakers) in %.2f s", path, result.duration,
                 len(result.speakers), time.perf_counter() - start)
    return result


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """``(label, first, end)`` runs of equal labels."""
    cuts = np.flatnonzero(np.diff(labels)) + 1
    bounds = [0, *cuts.tolist(), labels.size]
    return [(int(labels[a]), a, b) for a, b in itertools.pairwise(bounds)]


def _smooth(labels: np.ndarray, min_frames: int) -> np.ndarray:
    """Give runs shorter than ``min_frames`` (shortest first) to the longer neighbour."""
    labels = labels.copy()
    while True:
        runs = _runs(labels)
        if len(runs) < 2:
            return labels
        lengths = [b - a for _, a, b in runs]
        i = int(np.argmin(lengths))
        if lengths[i] >= min_frames:
            return labels
        left = lengths[i - 1] if i > 0 else -1
        right = lengths[i + 1] if i + 1 < len(runs) else -1
        donor = runs[i - 1] if left >= right else runs[i + 1]
        labels[runs[i][1]:runs[i][2]] = donor[0]


def assign_turns(regions: list[tuple[float, float]], windows: Windows, labels: np.ndarray,
                 min_turn: float) -> list[Turn]:
    """Turns from labelled windows: each frame of a speech region goes to the speaker
    whose windows (Hann-weighted, heaviest at their centre) cover it most."""
    turns: list[Turn] = []
    if len(windows) == 0:
        return turns
    k = int(labels.max()) + 1
    order = np.argsort(windows.starts, kind="stable")
    starts, ends, labs = windows.starts[order], windows.ends[order], labels[order]
    for r0, r1 in regions:
        n = max(1, round((r1 - r0) / FRAME))
        lo = int(np.searchsorted(ends, r0 + 1e-6))
        hi = int(np.searchsorted(starts, r1 - 1e-6))
        if hi <= lo:  # a region too short to embed: its nearest window's speaker
            near = int(np.argmin(np.abs((starts + ends) / 2 - (r0 + r1) / 2)))
            turns.append(Turn(str(labs[near]), r0, r1))
            continue
        score = np.zeros((n, k))
        for w in range(lo, hi):
            a = max(0, round((starts[w] - r0) / FRAME))
            b = min(n, round((ends[w] - r0) / FRAME))
            if b > a:
                score[a:b, labs[w]] += np.hanning(b - a + 2)[1:-1]
        frame_labels = _smooth(np.argmax(score, axis=1), round(min_turn / FRAME))
        for lab, a, b in _runs(frame_labels):
            turns.append(Turn(str(lab), round(r0 + a * FRAME, 3),
                              round(min(r1, r0 + b * FRAME), 3)))
    return turns


def _name_speakers(turns: list[Turn]) -> tuple[list[Turn], dict[str, str]]:
    """Rename cluster indices ``SPEAKER_1``, ``SPEAKER_2``... by first appearance, and
    join consecutive turns of one speaker that touch; returns the turns and the names."""
    names: dict[str, str] = {}
    out: list[Turn] = []
    for t in sorted(turns, key=lambda t: t.start):
        name = names.setdefault(t.speaker, f"SPEAKER_{len(names) + 1}")
        if out and out[-1].speaker == name and t.start - out[-1].end < 1e-6:
            out[-1] = Turn(name, out[-1].start, max(out[-1].end, t.end))
        else:
            out.append(Turn(name, t.start, t.end))
    return out, names
