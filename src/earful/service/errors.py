"""The one place where errors become HTTP responses.

Every error body has the same shape, ``{"error": {"type", "message", "request_id"}}``
(compatible with OpenAI clients, which read ``error.message``). Domain failures are typed
:class:`~earful.errors.EarfulError` subclasses mapped to status codes here; routes never build
HTTP errors by hand.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from earful import errors as e
from earful.service.schemas import ErrorOut

logger = logging.getLogger(__name__)

#: Most specific first: the first matching class decides the status.
STATUS: list[tuple[type[e.EarfulError], int]] = [
    (e.AuthenticationError, 401),
    (e.NotFoundError, 404),
    (e.PayloadTooLargeError, 413),
    (e.AudioTooLongError, 413),
    (e.UnsupportedMediaTypeError, 415),
    (e.UnsupportedFormatError, 415),
    (e.AudioDecodeError, 400),
    (e.ModelBusyError, 409),
    (e.InvalidOptionError, 422),
    (e.QueueFullError, 503),
    (e.DependencyMissingError, 503),
    (e.ModelNotAvailableError, 503),
    (e.RequestTimeoutError, 504),
    (e.CheckpointError, 500),
    (e.DatasetError, 500),
]


#: Statuses answered outside the table: request validation, unknown routes and methods.
FRAMEWORK_STATUS = (404, 405, 422, 500)


def status_for(exc: e.EarfulError | type[e.EarfulError]) -> int:
    """The HTTP status of a domain error (an instance or its class)."""
    cls_ = exc if isinstance(exc, type) else type(exc)
    return next((code for cls, code in STATUS if issubclass(cls_, cls)), 500)


def error_responses() -> dict[int | str, dict[str, object]]:
    """The OpenAPI description of every error status, derived from :data:`STATUS`."""
    codes = sorted({code for _, code in STATUS} | set(FRAMEWORK_STATUS))
    return {code: {"model": ErrorOut, "description": _describe(code)} for code in codes}


def _describe(code: int) -> str:
    kinds = [cls.kind for cls, c in STATUS if c == code]
    return "Error: " + (", ".join(kinds) if kinds else "see error.type")


#: An absolute filesystem path (not part of a URL): its folders are the server's business.
_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/'\"():,]+/)+([^\s/'\"():,]*)")


def scrub_paths(text: str) -> str:
    """``text`` with every absolute path cut to its last part: a client learns which file,
    never where the server keeps it (library messages may name a model's folder)."""
    return _PATH.sub(lambda m: m.group(1) or "<path>", text)


def error_response(status: int, kind: str, message: str, request: Request,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error in the service's one shape (paths scrubbed from the message)."""
    request_id = getattr(request.state, "request_id", None)
    hdrs = {"X-Request-ID": request_id} if request_id else {}
    message = scrub_paths(message)
    return JSONResponse({"error": {"type": kind, "message": message, "request_id": request_id}},
                        status_code=status, headers={**hdrs, **(headers or {})})


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(e.EarfulError)
    async def earful_error(request: Request, exc: e.EarfulError) -> JSONResponse:
        status = status_for(exc)
        headers = ({"Retry-After": str(exc.retry_after)}
                   if isinstance(exc, e.QueueFullError) else None)
        if isinstance(exc, e.AuthenticationError):
            headers = {"WWW-Authenticate": "Bearer"}
        request.state.error_type = exc.kind
        (logger.error if status >= 500 else logger.info)("%s: %s", exc.kind, exc)
        return error_response(status, exc.kind, str(exc), request, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        request.state.error_type = "validation_error"
        return error_response(422, "validation_error", "; ".join(parts) or "invalid request",
                              request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        request.state.error_type = kind
        return error_response(exc.status_code, kind, str(exc.detail), request,
                              dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s", request.url.path)
        request.state.error_type = "internal_error"
        return error_response(500, "internal_error", "internal server error", request)
