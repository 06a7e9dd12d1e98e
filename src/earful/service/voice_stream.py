"""Saving a voice with its enrolment streamed: ``POST /voices`` with ``stream=true``.

Saving a voice enrols a Kokoro style for it (a voice-bank look-up, then a short search),
which takes tens of seconds. Streamed, the route answers with server-sent events, one
``data:`` line of JSON each, as the other streamed routes do:

* ``{"type": "voice.enrol.progress", "done": n, "planned": m}`` each time candidate styles
  have been tried (none when Kokoro is not installed, or when this recording was enrolled
  before and its style is reused). ``done`` never falls, and the last event has
  ``done == planned``: a search cut short by its time budget ends with one more event whose
  ``planned`` is lowered to what was tried;
* then ``{"type": "voice.created", "voice": {...}}``, the body the plain route returns;
* or, when saving fails once the stream has started, one ``error`` event in the service's
  error shape plus the HTTP status the plain route would have answered with.

Everything a client can get wrong up front (the name, the upload) is refused as a plain JSON
error before the stream starts, and so is a request the pool cannot admit. A client that
goes away stops the enrolment at its next candidate, freeing the worker, and nothing is
saved (unless the search had already ended: then the voice is kept).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from earful.errors import EarfulError
from earful.service.errors import scrub_paths, status_for
from earful.service.sse import event, stream_response
from earful.tts.reference import Reference

logger = logging.getLogger(__name__)

PROGRESS = "voice.enrol.progress"
CREATED = "voice.created"


class _ClientGoneError(Exception):
    """Raised from the progress callback to stop an enrolment nobody waits for."""


def stream_enrolment(request: Request, name: str, reference: Reference, *,
                     timeout: float, setup: float) -> StreamingResponse:
    """Admit the saving of a voice (503 at once if refused) and stream its progress.

    Args:
        request: The request (its app's service, its id).
        name: The voice's display name, already checked.
        reference: The decoded reference recording.
        timeout: The job's time budget, enrolment included.
        setup: The most wall time its enrolment may take, for the pool's admission.

    Returns:
        A ``text/event-stream`` response of the events described in this module.
    """
    from earful.service.deps import service
    from earful.tts.synth import save_voice

    svc = service(request)

    def run(emit: Callable[[dict[str, Any]], None], stop: threading.Event) -> None:
        last = [0, 0]  # the latest (done, planned)

        def progress(done: int, planned: int) -> None:
            if stop.is_set():
                raise _ClientGoneError
            last[:] = [done, planned]
            emit(progress_event(done, planned))

        try:
            voice = save_voice(name, reference, svc.tts, progress)
        except _ClientGoneError:
            logger.info("voice '%s' not saved: the client went away during enrolment", name)
            return
        if last[0] < last[1]:  # the search's time budget ended it early: the plan shrank
            emit(progress_event(last[0], last[0]))
        emit({"type": CREATED, "voice": voice})

    reports = svc.stream_reports(run, timeout=timeout, work=0.0, setup=setup)
    rid = request.state.request_id
    return stream_response(enrolment_events(reports, rid), rid)


def progress_event(done: int, planned: int) -> dict[str, Any]:
    """A ``voice.enrol.progress`` event's data."""
    return {"type": PROGRESS, "done": done, "planned": planned}


def error_event(kind: str, message: str, status: int, request_id: str | None) -> str:
    """An ``error`` event: the service's error body, with the status it stands for."""
    return event({"type": "error", "error": {"type": kind, "message": scrub_paths(message),
                                             "status": status, "request_id": request_id}},
                 "error")


async def enrolment_events(reports: AsyncIterator[dict[str, Any]],
                           request_id: str | None) -> AsyncIterator[str]:
    """The job's reports as server-sent events; a failure becomes an ``error`` event."""
    try:
        async for report in reports:
            yield event(report)
    except EarfulError as e:
        status = status_for(e)
        (logger.error if status >= 500 else logger.info)("%s: %s", e.kind, e)
        yield error_event(e.kind, str(e), status, request_id)
    except Exception:
        logger.exception("saving a voice failed")
        yield error_event("internal_error", "internal server error", 500, request_id)
    finally:
        await reports.aclose()  # type: ignore[attr-defined]
