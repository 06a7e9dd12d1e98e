"""Transcripts as they are decoded: segments yielded one by one, for streamed responses.

faster-whisper decodes lazily (its segment iterator decodes a window each time it is
advanced), so :func:`stream_file` yields each segment as soon as it exists: the first
arrives after the first 30 s window, not after the whole file. Each segment passes the same
hallucination guard as :func:`earful.asr.transcribe.transcribe` (it judges one segment at a
time), and long files are cut into the same quiet-point chunks as
:func:`~earful.asr.transcribe.transcribe_file`, so memory stays bounded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from earful.asr.guard import is_hallucination
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Segment
from earful.audio.constants import SAMPLE_RATE
from earful.audio.stream import quiet_chunks, stream_audio


def stream_segments(audio: np.ndarray, opts: TranscribeOptions,
                    spec: ModelSpec) -> tuple[Iterator[Segment], str | None]:
    """Start transcribing 16 kHz audio; returns the kept segments as a lazy iterator (the
    model is held while it is consumed) and the language.

    Engines other than faster-whisper decode everything first and then yield.
    """
    opts.check_for(spec)
    if spec.engine != "faster-whisper":
        from earful.asr.transcribe import transcribe

        result = transcribe(audio, opts, spec)
        return iter(result.segments), result.language
    from earful.asr.engines import convert_segment, start_decoding, use_model

    held = use_model(spec)
    model = held.__enter__()
    try:
        raw, info, offset, duration = start_decoding(audio, opts, model)
    except BaseException:
        held.__exit__(None, None, None)
        raise
    guard = opts.engine_flag("hallucination_guard")

    def kept() -> Iterator[Segment]:
        try:
            index = 0
            for item in raw:
                seg = convert_segment(index, item, offset, duration)
                if guard and is_hallucination(seg):
                    continue
                yield replace(seg, id=index)
                index += 1
        finally:
            held.__exit__(None, None, None)

    return kept(), info.language


def stream_file(path: str | os.PathLike[str], opts: TranscribeOptions | None = None,
                spec: ModelSpec | None = None,
                stop: threading.Event | None = None) -> Iterator[Segment]:
    """Yield a file's segments as they are decoded, times from the start of the file.

    Args:
        path: The audio file (any format earful decodes).
        opts: Decoding options.
        spec: The model.
        stop: Set it to end early (a client that went away); checked between segments.
    """
    from earful.asr.transcribe import shift_segment

    opts = opts or TranscribeOptions()
    spec = spec or ModelSpec()
    opts.check_for(spec)
    count = 0
    for offset, chunk in quiet_chunks(stream_audio(path, SAMPLE_RATE), SAMPLE_RATE,
                                      opts.chunk_seconds):
        segments, language = stream_segments(chunk, opts, spec)
        try:
            for seg in segments:
                if stop is not None and stop.is_set():
                    return
                yield shift_segment(seg, offset, count)
                count += 1
        finally:
            close = getattr(segments, "close", None)
            if close is not None:
                close()  # releases the model hold when ended early
        if opts.language is None and language:
            opts = opts.with_(language=language)  # the pieces of one file agree
