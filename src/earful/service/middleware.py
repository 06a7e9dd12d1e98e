"""Pure ASGI middleware: request context (id, log line, metrics), body limit, API key."""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from earful.errors import AuthenticationError, PayloadTooLargeError, ServerStoppingError
from earful.service.errors import status_for

logger = logging.getLogger("earful.service.access")

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


async def send_error(send: Send, scope: Scope, status: int, kind: str, message: str,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send a JSON error in the service's shape straight from middleware."""
    rid = scope.get("state", {}).get("request_id")
    body = json.dumps({"error": {"type": kind, "message": message,
                                 "request_id": rid}}).encode()
    scope.setdefault("state", {})["error_type"] = kind
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            *([(b"x-request-id", rid.encode())] if rid else []),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


#: Paths still answered while the server drains (probes and monitoring).
DRAIN_OPEN_PATHS = frozenset({"/health", "/ready", "/metrics"})


class RequestContext:
    """Give each request an id, log one line when it ends, and record metrics; count the
    requests in progress, and refuse new ones (503) while the service drains."""

    def __init__(self, app: ASGIApp, metrics: Any, service: Any) -> None:
        self.app = app
        self.metrics = metrics
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _CLIENT_ID.match(incoming) else uuid.uuid4().hex[:16]
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status = 500
        start = time.perf_counter()
        if self.service.draining and scope["path"] not in DRAIN_OPEN_PATHS:
            error = ServerStoppingError("the server is shutting down; retry shortly")
            await send_error(send, scope, status_for(error), error.kind, str(error),
                             [(b"retry-after", b"5")])
            return
        self.service.active_requests += 1

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.service.active_requests -= 1
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, elapsed,
                                 state.get("error_type"))
            logger.info("%s %s %s %d %.1f ms", rid, scope["method"], scope["path"], status,
                        1000 * elapsed)


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with 413 before reading them in full.

    A declared Content-Length over the limit is refused at once; otherwise bytes are
    counted as they arrive and the request is cut off as soon as the count passes it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, overhead: int = 64_000) -> None:
        self.app = app
        self.max_bytes = max_bytes + overhead  # room for the multipart framing and fields
        self.limit_mb = max_bytes / 1e6

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the upload is larger than the {self.limit_mb:g} MB limit"
        declared = dict(scope.get("headers", [])).get(b"content-length")
        status = status_for(PayloadTooLargeError)
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, scope, status, PayloadTooLargeError.kind, message)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise PayloadTooLargeError(message)
            return msg

        async def guarded_send(msg: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app made of the cut-off body is replaced by the 413
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except PayloadTooLargeError:
            exceeded = True
        if exceeded and not started:
            await send_error(send, scope, status, PayloadTooLargeError.kind, message)


class ApiKey:
    """When a key is configured, every path but /health needs ``Authorization: Bearer <key>``."""

    def __init__(self, app: ASGIApp, key: str, open_paths: frozenset[str]) -> None:
        self.app = app
        self.key = key.encode()
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        auth = dict(scope.get("headers", [])).get(b"authorization", b"")
        scheme, _, token = auth.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.key):
            await send_error(send, scope, status_for(AuthenticationError),
                             AuthenticationError.kind, "missing or invalid API key",
                             [(b"www-authenticate", b"Bearer")])
            return
        await self.app(scope, receive, send)
