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
    speaker: str | None = None
    """Who said it, when the transcript was diarized."""


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
    speaker: str | None = None
    """Who said it, when the transcript was diarized (segments are split where the
    speaker changes)."""


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
        """A JSON-ready dict; ``words`` appear only when word timestamps were asked for,
        ``speaker`` only when the transcript was diarized."""
        out = asdict(self)
        for seg in out["segments"]:
            if seg["words"] is None:
                del seg["words"]
            if seg["speaker"] is None:
                del seg["speaker"]
            for word in seg.get("words") or []:
                if word["speaker"] is None:
                    del word["speaker"]
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
