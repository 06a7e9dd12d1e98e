"""Response models (they document the API in /docs)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WordOut(BaseModel):
    """A word with timing."""

    start: float
    end: float
    word: str
    probability: float
    speaker: str | None = Field(default=None, description="Who said it (diarized requests).")


class SegmentOut(BaseModel):
    """A transcribed segment."""

    id: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: list[WordOut] | None = None
    speaker: str | None = Field(default=None, description="Who said it (diarized requests).")


class TranscriptionOut(BaseModel):
    """The result of ``POST /transcribe``."""

    text: str
    language: str | None
    language_probability: float | None
    duration: float = Field(description="Seconds of audio.")
    segments: list[SegmentOut]
    model: str
    engine: str
    dropped_segments: int = Field(description="Segments removed by the hallucination guard.")
    truncated: bool = Field(description="The file's header claimed more audio than it holds; "
                                        "what is there was transcribed.")
    processing_seconds: float
    request_id: str


class LabelScore(BaseModel):
    """One label and its probability."""

    label: str
    score: float


class ClassificationOut(BaseModel):
    """The result of ``POST /classify``."""

    label: str
    score: float
    top_k: list[LabelScore]
    windows: int = Field(description="1 if the clip fit the model's window, else how many "
                                     "sliding windows were scored.")
    duration: float
    model: str
    truncated: bool = Field(description="The file's header claimed more audio than it holds.")
    processing_seconds: float
    request_id: str


class ErrorBody(BaseModel):
    """The shape of every error."""

    type: str
    message: str
    request_id: str | None


class ErrorOut(BaseModel):
    """Error envelope."""

    error: ErrorBody
