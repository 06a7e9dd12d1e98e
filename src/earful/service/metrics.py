"""Prometheus metrics, one registry per app (so several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)


class Metrics:
    """Requests, latency, errors by type, and the inference queue."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, queue_depth: Callable[[], float], inflight: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("earful_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("earful_request_seconds", "Request latency", ["route"],
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
                                 registry=self.registry)
        self.errors = Counter("earful_errors_total", "Error responses by type", ["type"],
                              registry=self.registry)
        depth = Gauge("earful_queue_depth", "Requests waiting for a worker",
                      registry=self.registry)
        depth.set_function(queue_depth)
        busy = Gauge("earful_inflight", "Requests running or waiting", registry=self.registry)
        busy.set_function(inflight)

    def observe(self, method: str, route: str, status: int, seconds: float,
                error_type: str | None) -> None:
        """Record one finished request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if status >= 400:
            self.errors.labels(error_type or f"http_{status}").inc()

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
