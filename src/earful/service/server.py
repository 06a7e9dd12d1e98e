"""Serving with a graceful stop: on SIGTERM, finish what is running, refuse what is new.

uvicorn alone stops listening at once on SIGTERM, so a client arriving then gets a refused
connection, and a long transcription may be cut by its shutdown timeout. Here the first
SIGTERM (or Ctrl-C) puts the service into draining: new work gets a clear 503 with
``Retry-After``, ``/ready`` answers 503 so a load balancer moves on, and the server exits
once running requests have finished or ``grace_seconds`` have passed. A second signal
stops at once.
"""

from __future__ import annotations

import logging
import threading
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

logger = logging.getLogger(__name__)


class GracefulServer(uvicorn.Server):
    """A uvicorn server whose first exit signal drains the earful service first."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, grace_seconds: float) -> None:
        super().__init__(config)
        self.service = app.state.service
        self.grace_seconds = grace_seconds
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining:  # a second signal: stop now
            super().handle_exit(sig, frame)
            return
        self._draining = True
        self.service.drain()
        logger.info("draining: %d request(s) under way; new ones get 503 (grace %.0f s)",
                    self.service.active_requests, self.grace_seconds)
        threading.Thread(target=self._exit_when_idle, name="earful-drain", daemon=True).start()

    def _exit_when_idle(self) -> None:
        deadline = time.monotonic() + self.grace_seconds
        while self._busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._busy():
            logger.warning("grace period over with %d request(s) and %d realtime session(s) "
                           "still open", self.service.active_requests,
                           self.service.realtime_sessions)
        self.should_exit = True

    def _busy(self) -> bool:
        # Probes (/ready) polled during the drain are requests too; they end at once.
        return bool(self.service.active_requests or self.service.realtime_sessions
                    or self.service.inflight)


def serve(app: FastAPI, host: str, port: int, grace_seconds: float) -> None:
    """Run ``app`` (built by ``create_app``) until stopped, draining on the first signal."""
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False,
                            timeout_graceful_shutdown=max(1, int(grace_seconds)) + 5)
    GracefulServer(config, app, grace_seconds).run()
