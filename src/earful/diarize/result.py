"""Diarization results: speaker turns, RTTM and JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from earful.errors import InvalidOptionError
from earful.fsutil import atomic_write


@dataclass(frozen=True)
class Turn:
    """One stretch of one speaker's speech."""

    speaker: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class Overlap:
    """A stretch where two speakers were heard at once."""

    start: float
    end: float
    speakers: tuple[str, str]
    """The speaker before the change and the one after it."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``start``, ``end``, ``speakers``."""
        return {"start": round(self.start, 3), "end": round(self.end, 3),
                "speakers": list(self.speakers)}


@dataclass(frozen=True)
class Diarization:
    """Who spoke when in one recording."""

    turns: list[Turn]
    """Speaker turns in time order; turns of different speakers may overlap."""
    duration: float
    """Seconds of audio."""
    overlaps: list[Overlap] = field(default_factory=list)
    """Stretches where two speakers were heard at once, in time order (both speakers
    also have a turn there when the overlaps were assigned)."""
    embeddings: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    """Each speaker's mean speaker embedding (for naming speakers; not serialised)."""

    @property
    def speakers(self) -> list[str]:
        """Speaker labels in order of first appearance."""
        return list(dict.fromkeys(t.speaker for t in self.turns))

    def speaker_at(self, start: float, end: float) -> str | None:
        """The speaker with the most speech inside ``[start, end]``; for a span that
        touches no turn, the speaker of the nearest turn (``None`` without turns)."""
        best: dict[str, float] = {}
        for t in self.turns:
            o = min(end, t.end) - max(start, t.start)
            if o > 0:
                best[t.speaker] = best.get(t.speaker, 0.0) + o
        if best:
            return max(best, key=lambda s: best[s])
        if not self.turns:
            return None
        mid = (start + end) / 2
        return min(self.turns, key=lambda t: max(t.start - mid, mid - t.end)).speaker

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"duration": round(self.duration, 3), "speakers": self.speakers,
                "turns": [{**asdict(t), "start": round(t.start, 3), "end": round(t.end, 3)}
                          for t in self.turns],
                "overlaps": [o.to_dict() for o in self.overlaps]}

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_rttm(self, uri: str = "audio") -> str:
        """Standard RTTM: one ``SPEAKER`` line per turn (turns of two speakers overlap
        where overlapped speech was assigned to both)."""
        return to_rttm(self.turns, uri)


def to_rttm(turns: list[Turn], uri: str = "audio") -> str:
    """RTTM lines (``SPEAKER uri 1 start duration <NA> <NA> speaker <NA> <NA>``)."""
    uri = "_".join(uri.split()) or "audio"
    return "".join(f"SPEAKER {uri} 1 {t.start:.3f} {t.duration:.3f} <NA> <NA> "
                   f"{'_'.join(t.speaker.split())} <NA> <NA>\n" for t in turns)


def read_rttm(path: str | os.PathLike[str]) -> dict[str, list[Turn]]:
    """The ``SPEAKER`` lines of an RTTM file, as turns per recording (uri).

    Raises:
        InvalidOptionError: A ``SPEAKER`` line is malformed.
    """
    out: dict[str, list[Turn]] = {}
    for n, line in enumerate(Path(path).read_text().splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        try:
            start, dur = float(parts[3]), float(parts[4])
            turn = Turn(parts[7], start, start + dur)
        except (IndexError, ValueError) as e:
            raise InvalidOptionError(f"{path}:{n}: not an RTTM SPEAKER line") from e
        out.setdefault(parts[1], []).append(turn)
    return out


def write_diarization(d: Diarization, path: str | os.PathLike[str], fmt: str) -> Path:
    """Write ``d`` as ``rttm`` or ``json`` atomically."""
    dest = Path(path)
    if fmt not in FORMATS:
        raise InvalidOptionError(f"format must be one of {', '.join(FORMATS)}")
    with atomic_write(dest) as fh:
        fh.write(d.to_rttm(dest.stem) if fmt == "rttm" else d.to_json())
    return dest


#: The file formats of :func:`write_diarization`.
FORMATS = ("rttm", "json")
