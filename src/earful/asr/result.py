"""Transcription results as plain dataclasses, convertible to JSON-ready dicts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Word:
    """One word with its timing."""

    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of speech and its text."""

    id: int
    start: float
    end: float
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    words: list[Word] | None = None


@dataclass(frozen=True)
class Transcript:
    """The result of transcribing one recording."""

    text: str
    language: str | None
    language_probability: float | None
    duration: float
    segments: list[Segment] = field(default_factory=list)
    model: str = ""
    engine: str = ""
    dropped_segments: int = 0
    """Segments removed by the hallucination guard."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``words`` appear only when word timestamps were asked for."""
        out = asdict(self)
        for seg in out["segments"]:
            if seg["words"] is None:
                del seg["words"]
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Transcript:
        """Rebuild a transcript from :meth:`to_dict` output."""
        segments = [
            Segment(**{**s, "words": [Word(**w) for w in s["words"]] if s.get("words") else
                       None})
            for s in data.get("segments", [])
        ]
        return Transcript(**{**data, "segments": segments})
