"""Speech sent as it is synthesised, piece by piece (:mod:`earful.tts.stream`): a short first
piece, so the first audio arrives after a few words rather than after the first sentence,
then pieces growing to whole sentences, joined by the pauses the whole text would have.

Two wire shapes, as OpenAI's speech route has them: plain chunked audio
(``stream_format=audio``: raw ``pcm``, a ``wav`` whose header leaves the length open, or
``mp3`` frames, all of which a player can start before the end), and server-sent events
(``stream_format=sse``: ``speech.audio.delta`` events with base64 audio, then one
``speech.audio.done``). Streamed speech is not saved as an output.
"""

from __future__ import annotations

import base64
import io
import struct
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import numpy as np
from fastapi import Request
from fastapi.responses import StreamingResponse

from earful.audio.transforms import resample
from earful.errors import EarfulError, InvalidOptionError
from earful.service.errors import scrub_paths
from earful.service.outputs import MEDIA_TYPES
from earful.service.sse import HEADERS, event
from earful.tts.result import Speech
from earful.tts.stream import SENTENCE_SILENCE, speak_pieces, stream_pieces
from earful.tts.text import clean_text


def speech_seconds(text: str) -> float:
    """About how long ``text`` takes to say (12 characters a second): what admission counts
    as a speech job's work."""
    return max(1.0, len(text) / 12.0)


#: Formats that can be sent piece by piece.
STREAMABLE = ("pcm", "wav", "mp3")
#: Streamed audio is sent at OpenAI's PCM rate.
RATE = 24000


def wav_header(rate: int = RATE) -> bytes:
    """A 16-bit mono WAV header whose sizes say "until the stream ends" (0xFFFFFFFF)."""
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", 0xFFFFFFFF))


def encode_piece(speech: Speech, fmt: str, first: bool) -> bytes:
    """One piece's audio in a streamable format."""
    samples = np.clip(resample(speech.samples, speech.sample_rate, RATE), -1.0, 1.0)
    if fmt == "mp3":
        return mp3_frames(samples)
    pcm = (samples * 32767).astype("<i2").tobytes()
    return (wav_header() + pcm) if fmt == "wav" and first else pcm


def mp3_frames(samples: np.ndarray, rate: int = RATE) -> bytes:
    """Bare MPEG audio frames (no ID3 tag, no Xing header): pieces concatenate into one
    stream a decoder reads to the end, where a Xing header would stop it after the first."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp3", options={"write_xing": "0",
                                                  "id3v2_version": "0"}) as container:
        stream = container.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples.astype(np.float32)[None, :], format="fltp",
                                           layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


async def stream_speech(request: Request, speak: Callable[[str], Speech], text: str,
                        fmt: str, sse: bool, setup: float = 0.0) -> StreamingResponse:
    """Admit the synthesis (503 at once if refused) and stream it piece by piece (the text
    is checked, and cut, before anything runs). ``setup`` is the time a clone engine may
    spend on its reference before it speaks, added to the time budget."""
    from earful.service.deps import service

    svc = service(request)
    if fmt not in STREAMABLE:
        raise InvalidOptionError(f"streamed speech is sent as {', '.join(STREAMABLE)}; "
                                 f"'{fmt}' needs the whole audio first")
    pieces = stream_pieces(clean_text(text, svc.tts.max_text_chars))
    seconds = speech_seconds(" ".join(p.text for p in pieces))

    def produce(stop: threading.Event) -> Iterator[bytes]:
        spoken = speak_pieces(pieces, speak, sentence_silence=SENTENCE_SILENCE,
                              stop=stop.is_set)
        for i, speech in enumerate(spoken):
            yield encode_piece(speech, fmt, first=i == 0)

    chunks = svc.stream_job(produce, timeout=svc.timeout_for(seconds) + setup, work=seconds,
                            setup=setup)
    # The first piece is a few words: waiting for it before the response starts costs the
    # client nothing (no audio could come sooner), and whatever fails before any audio (an
    # unknown voice or saved voice, a bad mix, a model that does not load) is then a plain
    # HTTP error with its own status, not a stream cut off after a 200.
    first = await anext(chunks, b"")
    audio = _audio(first, chunks)
    rid = request.state.request_id
    headers = {**HEADERS, "X-Request-ID": rid}
    if sse:
        return StreamingResponse(_sse(audio, rid), media_type="text/event-stream",
                                 headers=headers)
    return StreamingResponse(audio, media_type=MEDIA_TYPES[fmt], headers=headers)


async def _audio(first: bytes, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The stream's bytes: the piece already taken, then the rest."""
    try:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


async def _sse(chunks: AsyncIterator[bytes], request_id: str | None) -> AsyncIterator[str]:
    sent = 0
    try:
        async for chunk in chunks:
            sent += len(chunk)
            yield event({"type": "speech.audio.delta",
                         "audio": base64.b64encode(chunk).decode()})
        yield event({"type": "speech.audio.done", "usage": {"output_bytes": sent}})
    except EarfulError as e:
        yield event({"error": {"type": e.kind, "message": scrub_paths(str(e)),
                               "request_id": request_id}}, "error")
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
