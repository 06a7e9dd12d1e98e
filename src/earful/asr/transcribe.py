"""Transcription entry points: arrays in the core, files at the edge.

:func:`transcribe` takes 16 kHz samples; :func:`transcribe_file` streams a file of any
length through it in quiet-cut chunks so memory stays bounded.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Segment, Transcript, Word
from earful.audio.constants import SAMPLE_RATE
from earful.audio.stream import quiet_chunks, stream_audio

logger = logging.getLogger(__name__)

#: What transcribes one piece of audio: :func:`transcribe`'s signature.
Transcriber = Callable[[np.ndarray, TranscribeOptions, ModelSpec], Transcript]


def transcribe(audio: np.ndarray, opts: TranscribeOptions | None = None,
               spec: ModelSpec | None = None) -> Transcript:
    """Transcribe mono float32 audio at 16 kHz.

    Args:
        audio: The samples.
        opts: How to decode (default :class:`TranscribeOptions`).
        spec: Which model (default :class:`ModelSpec`: the bundled tiny.en on the CPU).

    Raises:
        InvalidOptionError: ``opts`` asks what the model or engine cannot do (checked
            before the model is loaded).
    """
    opts = opts or TranscribeOptions()
    spec = spec or ModelSpec()
    opts.check_for(spec)
    if spec.engine == "transformers":
        from earful.asr.hf import transcribe_transformers

        return transcribe_transformers(audio, opts, spec)
    from earful.asr.engines import transcribe_faster_whisper

    return transcribe_faster_whisper(audio, opts, spec)


def shift_segment(seg: Segment, offset: float, index: int) -> Segment:
    """``seg`` moved ``offset`` seconds later (words too) and renumbered ``index``."""
    words = None if seg.words is None else [
        Word(round(w.start + offset, 3), round(w.end + offset, 3), w.word, w.probability)
        for w in seg.words]
    return replace(seg, id=index, start=round(seg.start + offset, 3),
                   end=round(seg.end + offset, 3), words=words)


def transcribe_file(path: str | os.PathLike[str], opts: TranscribeOptions | None = None,
                    spec: ModelSpec | None = None, *,
                    transcriber: Transcriber | None = None) -> Transcript:
    """Transcribe a file of any supported format and length.

    The file is decoded in a stream and cut at quiet points every ``opts.chunk_seconds``;
    the language found in the first chunk is kept for the rest so the pieces agree.
    ``transcriber`` transcribes each piece (default :func:`transcribe`; a service passes a
    :class:`~earful.asr.batcher.RequestBatcher`'s).

    Raises:
        AudioDecodeError: The file is not readable audio.
    """
    opts = opts or TranscribeOptions()
    spec = spec or ModelSpec()
    opts.check_for(spec)  # before decoding anything
    start = time.perf_counter()
    parts: list[tuple[float, Transcript]] = []
    total = 0.0
    for offset, chunk in quiet_chunks(stream_audio(path, SAMPLE_RATE), SAMPLE_RATE,
                                      opts.chunk_seconds):
        result = (transcriber or transcribe)(chunk, opts, spec)
        parts.append((offset, result))
        total = offset + chunk.size / SAMPLE_RATE
        if opts.language is None and result.language:
            opts = opts.with_(language=result.language)
    first = parts[0][1]
    segments: list[Segment] = []
    for offset, part in parts:
        for seg in part.segments:
            segments.append(shift_segment(seg, offset, len(segments)))
    logger.debug("transcribed %s (%.1f s of audio) in %.2f s", path, total,
                 time.perf_counter() - start)
    return Transcript(
        text=" ".join(p.text for _, p in parts if p.text).strip(),
        language=first.language,
        language_probability=first.language_probability,
        duration=round(total, 3),
        segments=segments,
        model=first.model,
        engine=first.engine,
        dropped_segments=sum(p.dropped_segments for _, p in parts),
    )
