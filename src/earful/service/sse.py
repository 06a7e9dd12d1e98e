"""Server-sent events: transcripts streamed as OpenAI's ``transcript.text.*`` events.

The shape follows OpenAI's streamed transcription: one ``data:`` line of JSON per event,
``transcript.text.delta`` events whose deltas concatenate to the text, then one
``transcript.text.done`` with the whole text. A failure after the stream has started (the
status line is already sent) becomes an ``error`` event in the service's error shape.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi.responses import StreamingResponse

from earful.asr.result import Segment
from earful.errors import EarfulError
from earful.service.errors import scrub_paths

#: Headers that keep proxies from buffering the stream.
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(data: dict[str, Any], name: str | None = None) -> str:
    """One server-sent event."""
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def transcript_events(segments: AsyncIterator[Segment], request_id: str | None,
                            on_close: Callable[[], None]) -> AsyncIterator[str]:
    """Deltas per decoded segment, then the done event; ``on_close`` runs however it ends
    (finished, failed, or the client went away)."""
    parts: list[str] = []
    try:
        async for seg in segments:
            if not seg.text:
                continue
            delta = seg.text if not parts else f" {seg.text}"
            parts.append(delta)
            yield event({"type": "transcript.text.delta", "delta": delta})
        yield event({"type": "transcript.text.done", "text": "".join(parts)})
    except EarfulError as e:
        yield event({"error": {"type": e.kind, "message": scrub_paths(str(e)),
                               "request_id": request_id}}, "error")
    finally:
        await segments.aclose()  # type: ignore[attr-defined]
        on_close()


def stream_response(events: AsyncIterator[str], request_id: str | None) -> StreamingResponse:
    """A ``text/event-stream`` response of ``events``."""
    headers = {**HEADERS, **({"X-Request-ID": request_id} if request_id else {})}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)
