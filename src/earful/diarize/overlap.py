"""Turn boundaries moved into pauses, and overlapped speech at speaker changes, from the
loudness around each change.

Where one speaker hands over to another inside one stretch of speech (the turns touch),
either there is a pause between them, however short, or the next speaker started before
the last one finished. So the loudness around the change tells the two apart: a pause
stays near the noise floor (within ``pause_db`` for ``pause_min`` seconds; the floor is
measured on each chunk the pipeline reads, about a minute),
overlapping voices do not. The embeddings place a change only to within about half a
second, so a change with a pause near it (``snap_search``) is moved into that pause
(:func:`snap_to_pauses`). A change with no pause within ``overlap_search`` is reported as
overlapped speech (:func:`find_overlaps`), over a stretch of fixed length around the
change (nothing here places its ends finer), with the speakers before and after it;
optionally both speakers get a turn there.

The loudness is kept as one byte-sized number per 10 ms (:func:`frame_levels`), so this
works on streamed audio of any length: the audio itself is gone by the time the speakers
are known. Only overlaps at speaker changes are found: a listener's "mm-hm" inside
another's turn, which leaves no change, is not.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from earful.audio.constants import SAMPLE_RATE
from earful.diarize.options import DiarizeOptions
from earful.diarize.result import Overlap, Turn

#: Seconds per loudness frame.
FRAME = 0.01
#: Frames (10 ms each) averaged when measuring loudness: 50 ms.
SMOOTH = 5
#: The floor when less than a second lies outside speech: this percentile of the frames.
FLOOR_PERCENTILE = 5.0
#: Quietest level measured, dBFS (digital silence counts as this).
MIN_DB = -100.0


def frame_levels(audio: np.ndarray, regions: list[tuple[float, float]]) -> np.ndarray:
    """Loudness of each 10 ms frame of 16 kHz ``audio`` in dB above its noise floor
    (``uint8``, 0 to 255): power averaged over 50 ms, the floor being the median level of
    the frames outside speech ``regions`` (seconds, relative to ``audio``), or the 5th
    percentile of all frames when less than a second is outside them."""
    hop = int(FRAME * SAMPLE_RATE)
    n = audio.size // hop
    if n == 0:
        return np.zeros(0, np.uint8)
    power = np.mean(np.square(audio[: n * hop].reshape(n, hop), dtype=np.float64), axis=1)
    kernel = np.ones(SMOOTH) / SMOOTH
    smooth = np.convolve(power, kernel, mode="same")
    db = np.maximum(10 * np.log10(smooth + 1e-12), MIN_DB)
    speech = np.zeros(n, bool)
    for a, b in regions:
        speech[int(a / FRAME):int(np.ceil(b / FRAME))] = True
    quiet = db[~speech]
    floor = float(np.median(quiet)) if quiet.size >= 1 / FRAME \
        else float(np.percentile(db, FLOOR_PERCENTILE))
    out: np.ndarray = np.clip(np.round(db - floor), 0, 255).astype(np.uint8)
    return out


def _span(levels: np.ndarray, start: float, end: float) -> np.ndarray:
    a = max(0, round(start / FRAME))
    b = min(levels.size, round(end / FRAME))
    return levels[a:b]


def _pause_runs(levels: np.ndarray, opts: DiarizeOptions) -> list[tuple[int, int]]:
    """``(first, end)`` frames of each pause in ``levels``: at most ``opts.pause_db`` above
    the floor for at least ``opts.pause_min`` seconds."""
    quiet = np.concatenate([[0], (levels <= opts.pause_db).astype(np.int8), [0]])
    edges = np.diff(quiet)
    firsts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    least = opts.pause_min / FRAME - 1e-6
    return [(int(a), int(b)) for a, b in zip(firsts, ends, strict=True) if b - a >= least]


def _changes(turns: list[Turn]) -> list[int]:
    """Indices ``i`` where turn ``i`` hands over to a different speaker without a gap."""
    return [i for i in range(len(turns) - 1)
            if turns[i].speaker != turns[i + 1].speaker
            and turns[i + 1].start - turns[i].end < 1e-6]


def snap_to_pauses(turns: list[Turn], levels: np.ndarray,
                   opts: DiarizeOptions) -> list[Turn]:
    """``turns`` with each change between touching turns of two speakers moved to the
    middle of the nearest pause within ``opts.snap_search`` seconds (kept inside both
    turns); changes with no pause near are left where the embeddings put them."""
    if opts.snap_search <= 0 or levels.size == 0:
        return turns
    out = list(turns)
    for i in _changes(out):
        t1, t2 = out[i], out[i + 1]
        lo = max(round((t1.end - opts.snap_search) / FRAME), round(t1.start / FRAME) + 1)
        hi = min(round((t1.end + opts.snap_search) / FRAME), round(t2.end / FRAME) - 1,
                 levels.size)
        runs = _pause_runs(levels[lo:hi], opts) if hi > lo else []
        if not runs:
            continue
        a, b = min(runs, key=lambda r: abs((lo + (r[0] + r[1]) / 2) * FRAME - t1.end))
        change = round((lo + (a + b) / 2) * FRAME, 3)
        out[i], out[i + 1] = replace(t1, end=change), replace(t2, start=change)
    return out


def find_overlaps(turns: list[Turn], levels: np.ndarray,
                  opts: DiarizeOptions) -> tuple[list[Turn], list[Overlap]]:
    """Overlapped speech at the speaker changes of ``turns`` (time order, one speaker at a
    time), and the turns again: unchanged, or with both speakers covering each overlap
    when ``opts.overlap == "assign"``.

    Args:
        turns: Speaker turns that do not overlap.
        levels: :func:`frame_levels` of the whole recording.
        opts: ``overlap`` (``off`` finds nothing), the pause (``pause_db``,
            ``pause_min``), ``overlap_search``, ``overlap_before`` and ``overlap_after``.
    """
    if opts.overlap == "off" or levels.size == 0:
        return turns, []
    found: list[Overlap] = []
    out = list(turns)
    for i in _changes(turns):
        t1, t2 = turns[i], turns[i + 1]
        change = t1.end
        around = _span(levels, change - opts.overlap_search, change + opts.overlap_search)
        if around.size == 0 or _pause_runs(around, opts):
            continue  # a pause: the two did not talk at once
        start = round(max(t1.start, change - opts.overlap_before), 3)
        end = round(min(t2.end, change + opts.overlap_after), 3)
        found.append(Overlap(start, end, (t1.speaker, t2.speaker)))
        if opts.overlap == "assign":
            out[i] = replace(out[i], end=max(out[i].end, end))
            out[i + 1] = replace(out[i + 1], start=min(out[i + 1].start, start))
    return out, found
