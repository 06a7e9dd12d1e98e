"""Transcription options, validated once on construction."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from earful.errors import InvalidOptionError

ENGINES = ("faster-whisper", "transformers")


@dataclass(frozen=True)
class TranscribeOptions:
    """How to transcribe. Defaults suit the bundled tiny.en model on a CPU."""

    model: str = "tiny.en"
    """Model name (``tiny.en`` and ``base`` are bundled; other names download from the
    Hugging Face hub) or a local model folder."""
    engine: str = "faster-whisper"
    """``faster-whisper`` (CTranslate2 Whisper) or ``transformers`` (Whisper or Wav2Vec2 CTC)."""
    device: str = "cpu"
    """``cpu``, ``cuda`` or ``auto``."""
    compute_type: str = "int8"
    """CTranslate2 weight type: ``int8``, ``int8_float16``, ``float16``, ``float32``..."""
    language: str | None = None
    """Spoken language code (``en``, ``fr``...), or ``None`` to detect it."""
    task: str = "transcribe"
    """``transcribe``, or ``translate`` to English (multilingual models only)."""
    beam_size: int = 5
    """Beam width; 1 is greedy decoding."""
    vad: bool = True
    """Skip non-speech with the Silero VAD bundled in faster-whisper before decoding."""
    word_timestamps: bool = False
    """Attach start/end times and a probability to every word."""
    initial_prompt: str | None = None
    """Text that conditions the first window (vocabulary, spelling, style)."""
    repetition_penalty: float = 1.0
    """Divide the scores of tokens already in the context by this (1 = off). Above 1 it
    breaks the loops Whisper falls into on short or unclear audio ("six, six, six")."""
    batch_size: int = 1
    """Windows decoded together; above 1 uses faster-whisper's batched pipeline."""
    no_speech_threshold: float = 0.6
    """A window whose no-speech probability is above this ..."""
    log_prob_threshold: float = -1.0
    """... and whose mean token log-probability is below this is treated as silence."""
    hallucination_guard: bool = True
    """Drop segments that are almost certainly invented on silence or noise (see
    ``earful.asr.guard``)."""
    min_window_seconds: float = 1.0
    """Clips shorter than this are centred in this much silence before decoding: Whisper
    was trained on long windows and hallucinates on tiny ones."""
    single_segment_seconds: float = 5.0
    """Clips up to this long are decoded as one segment without timestamp tokens: on
    isolated words this halves the errors, and so short a clip needs no segmentation."""
    chunk_seconds: float = 600.0
    """Long files are decoded and transcribed in pieces of about this length, cut at quiet
    points, so memory stays bounded whatever the file's duration."""
    cpu_threads: int = 0
    """CTranslate2 threads (0 lets the library decide)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for any out-of-range field."""
        checks = [
            (self.engine in ENGINES, f"engine must be one of {ENGINES}, got {self.engine!r}"),
            (bool(self.model), "model must not be empty"),
            (self.task in ("transcribe", "translate"), f"unknown task {self.task!r}"),
            (1 <= self.beam_size <= 20, f"beam_size must be 1..20, got {self.beam_size}"),
            (1.0 <= self.repetition_penalty <= 3.0,
             f"repetition_penalty must be in [1, 3], got {self.repetition_penalty}"),
            (1 <= self.batch_size <= 64, f"batch_size must be 1..64, got {self.batch_size}"),
            (0.0 <= self.no_speech_threshold <= 1.0, "no_speech_threshold must be in [0, 1]"),
            (self.log_prob_threshold <= 0.0, "log_prob_threshold must be <= 0"),
            (0.0 <= self.min_window_seconds <= 30.0, "min_window_seconds must be in [0, 30]"),
            (0.0 <= self.single_segment_seconds <= 30.0,
             "single_segment_seconds must be in [0, 30]"),
            (self.chunk_seconds >= 60.0, "chunk_seconds must be at least 60"),
            (self.cpu_threads >= 0, "cpu_threads must be >= 0"),
            (self.language is None or re.fullmatch(r"[a-z]{2,3}", self.language) is not None,
             f"language must be a code like 'en', got {self.language!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidOptionError(message)

    @classmethod
    def from_settings(cls, settings: Any, **changes: Any) -> TranscribeOptions:
        """Options whose model, engine, device, compute type and threads come from
        ``settings`` (an :class:`earful.config.Settings`); ``changes`` that are not ``None``
        override any field."""
        base = {"model": settings.asr_model, "engine": settings.asr_engine,
                "device": settings.asr_device, "compute_type": settings.asr_compute_type,
                "cpu_threads": settings.asr_cpu_threads}
        return cls(**{**base, **{k: v for k, v in changes.items() if v is not None}})

    def with_(self, **changes: Any) -> TranscribeOptions:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)
