"""A seeded conversation simulator: multi-speaker recordings with reference turns, built
from single-speaker utterances.

Each utterance is cut at its pauses into pieces (:func:`split_at_pauses`); a conversation
takes a few pieces from each of its speakers and lays them end to end as turns, the
speaker changing at every turn, with a pause between turns (or, now and then, an overlap:
the next speaker starts before the last one has finished) and a random loudness per turn.
The reference of each turn is where its piece has speech (energy above the piece's floor,
pauses shorter than ``SimOptions.min_pause`` counted as speech), so silences are not
labelled as speech.

Everything random comes from one ``numpy`` generator seeded by the caller: the same seed
and the same inputs give the same recording, sample for sample.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from earful.audio.constants import SAMPLE_RATE
from earful.diarize.result import Turn
from earful.errors import DatasetError, InvalidOptionError

_FRAME = 0.02  # seconds per energy frame


@dataclass(frozen=True)
class SimOptions:
    """How conversations are laid out."""

    pause_mean: float = 0.5
    """Mean pause between turns in seconds (exponentially distributed, at least 0.1 s)."""
    overlap_prob: float = 0.1
    """Chance that a turn starts before the previous one ends."""
    max_overlap: float = 1.0
    """Longest overlap in seconds (never more than half of either turn)."""
    gain_db: float = 6.0
    """Each turn's loudness is changed by a uniform draw in ``[-gain_db, +gain_db]``."""
    min_pause: float = 0.3
    """Silences at least this long split an utterance into pieces."""
    min_piece: float = 1.0
    """Pieces shorter than this are joined to the following one."""
    pieces_per_speaker: tuple[int, int] = (3, 6)
    """Each speaker gets between these many turns (inclusive), as material allows."""

    def __post_init__(self) -> None:
        lo, hi = self.pieces_per_speaker
        if not (self.pause_mean >= 0 and 0 <= self.overlap_prob <= 1 and self.max_overlap >= 0
                and self.gain_db >= 0 and self.min_pause > 0 and self.min_piece > 0
                and 1 <= lo <= hi):
            raise InvalidOptionError("invalid simulator options")


@dataclass(frozen=True)
class Piece:
    """A stretch of one speaker's speech, with its speech spans relative to its start."""

    speaker: str
    audio: np.ndarray
    speech: tuple[tuple[float, float], ...]


def _speech_spans(audio: np.ndarray, min_pause: float) -> list[tuple[float, float]]:
    """Energy-based speech spans: 20 ms frames within 35 dB of the loudest one, 10 dB
    above the quietest 5% (but at most 20 dB under the loudest) and above -70 dBFS;
    pauses shorter than ``min_pause`` are bridged."""
    hop = int(_FRAME * SAMPLE_RATE)
    n = audio.size // hop
    if n == 0:
        return []
    frames = audio[: n * hop].reshape(n, hop).astype(np.float64)
    db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    floor = max(db.max() - 35.0, np.percentile(db, 5) + 10.0, -70.0)
    voiced = db > min(floor, db.max() - 20.0)
    spans: list[list[float]] = []
    for i in np.flatnonzero(voiced):
        t0 = i * _FRAME
        if spans and t0 - spans[-1][1] < min_pause:
            spans[-1][1] = t0 + _FRAME
        else:
            spans.append([t0, t0 + _FRAME])
    return [(a, b) for a, b in spans if b - a >= 0.1]


def split_at_pauses(audio: np.ndarray, speaker: str, opts: SimOptions) -> list[Piece]:
    """Cut one utterance at its pauses into pieces of at least ``opts.min_piece`` seconds
    of speech, each trimmed to its speech."""
    spans = _speech_spans(audio, opts.min_pause)
    groups: list[list[tuple[float, float]]] = []
    for span in spans:
        if groups and groups[-1][-1][1] - groups[-1][0][0] < opts.min_piece:
            groups[-1].append(span)
        else:
            groups.append([span])
    if len(groups) > 1 and groups[-1][-1][1] - groups[-1][0][0] < opts.min_piece:
        tail = groups.pop()
        groups[-1] += tail
    pieces = []
    for g in groups:
        a, b = g[0][0], g[-1][1]
        clip = audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]
        pieces.append(Piece(speaker, clip, tuple((s - a, e - a) for s, e in g)))
    return pieces


def simulate(pieces: Mapping[str, list[Piece]], rng: np.random.Generator,
             opts: SimOptions | None = None) -> tuple[np.ndarray, list[Turn]]:
    """One conversation among the speakers of ``pieces``.

    Args:
        pieces: Each speaker's pieces (from :func:`split_at_pauses`); each speaker gets
            ``opts.pieces_per_speaker`` of them at random, without repeats.
        rng: The source of every random choice.
        opts: Layout (default :class:`SimOptions`).

    Returns:
        The 16 kHz mono recording (peak at most 0.95) and its reference turns.
    """
    opts = opts or SimOptions()
    lo, hi = opts.pieces_per_speaker
    queues: dict[str, list[Piece]] = {}
    for spk, items in pieces.items():
        count = min(len(items), int(rng.integers(lo, hi + 1)))
        chosen = rng.choice(len(items), size=count, replace=False)
        queues[spk] = [items[i] for i in chosen]
    placed: list[tuple[float, Piece, float]] = []  # start, piece, gain
    previous: str | None = None
    cursor = 0.0
    while any(queues.values()):
        choices = [s for s, q in queues.items() if q and s != previous] or \
                  [s for s, q in queues.items() if q]
        # The speaker with the most turns left is likelier, so nobody runs dry early.
        weights = np.array([len(queues[s]) for s in choices], dtype=float)
        spk = choices[int(rng.choice(len(choices), p=weights / weights.sum()))]
        piece = queues[spk].pop()
        length = piece.audio.size / SAMPLE_RATE
        if placed and rng.random() < opts.overlap_prob:
            last_len = placed[-1][1].audio.size / SAMPLE_RATE
            overlap = rng.uniform(0.2, max(0.2, min(opts.max_overlap, last_len / 2,
                                                    length / 2)))
            start = max(0.0, cursor - overlap)
        else:
            start = cursor + (max(0.1, rng.exponential(opts.pause_mean)) if placed else 0.3)
        gain = 10 ** (rng.uniform(-opts.gain_db, opts.gain_db) / 20)
        placed.append((start, piece, gain))
        cursor = max(cursor, start + length)
        previous = spk
    total = int((cursor + 0.5) * SAMPLE_RATE)
    mix = np.zeros(total, np.float32)
    turns: list[Turn] = []
    for start, piece, gain in placed:
        a = int(start * SAMPLE_RATE)
        mix[a:a + piece.audio.size] += gain * piece.audio
        turns += [Turn(piece.speaker, round(start + s, 3), round(start + e, 3))
                  for s, e in piece.speech]
    peak = float(np.max(np.abs(mix))) or 1.0
    if peak > 0.95:
        mix *= 0.95 / peak
    return mix, sorted(turns, key=lambda t: t.start)


def speech_corpus(root: Path) -> dict[str, list[Path]]:
    """The utterances of each speaker in the shared speech data (``<data>/speech``):
    ``voices_librispeech`` (speaker from speakers.csv), ``librispeech_test_other/<spk>/``
    and ``read_speech`` (one speaker, ``read``).

    Raises:
        DatasetError: None of the three folders is there.
    """
    out: dict[str, list[Path]] = {}
    voices = root / "voices_librispeech"
    if (voices / "speakers.csv").is_file():
        with open(voices / "speakers.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                out.setdefault(f"ls{row['speaker']}", []).append(voices / row["file"])
    other = root / "librispeech_test_other"
    if other.is_dir():
        for d in sorted(p for p in other.iterdir() if p.is_dir()):
            out[f"lo{d.name}"] = sorted(d.glob("*.flac"))
    read = root / "read_speech"
    if read.is_dir():
        out["read"] = sorted(read.glob("*.flac"))
    if not out:
        raise DatasetError(f"no speech data under {root}")
    return out


def load_pieces(files: list[Path], speaker: str, opts: SimOptions | None = None) -> list[Piece]:
    """Every piece of every utterance in ``files`` of one speaker."""
    from earful.audio.io import load_audio

    opts = opts or SimOptions()
    out: list[Piece] = []
    for f in files:
        out += split_at_pauses(load_audio(f, SAMPLE_RATE), speaker, opts)
    return out
