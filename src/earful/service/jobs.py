"""Inference off the event loop: a bounded pool with a bounded queue and timeouts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from earful.errors import QueueFullError, RequestTimeoutError

T = TypeVar("T")


class InferencePool:
    """``workers`` jobs run at once and at most ``queue_size`` more wait; beyond that,
    :class:`QueueFullError` (503 with Retry-After) instead of an unbounded pile-up.

    A job that outlives its timeout keeps its slot until its thread really finishes, so the
    bound holds even when clients give up.
    """

    def __init__(self, workers: int, queue_size: int) -> None:
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue_size)
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="earful-infer")
        self._lock = threading.Lock()
        self._inflight = 0
        self.closed = False

    @property
    def inflight(self) -> int:
        """Jobs running or waiting."""
        return self._inflight

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return max(0, self._inflight - self.workers)

    def _release(self, _: object) -> None:
        with self._lock:
            self._inflight -= 1

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:
        """Run ``fn(*args)`` in the pool; raise if the queue is full or time runs out."""
        with self._lock:
            if self._inflight >= self.capacity:
                raise QueueFullError(f"server busy: {self._inflight} requests in progress; "
                                     "retry shortly", retry_after=max(1, self.queued))
            self._inflight += 1
        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            self._release(None)
            raise
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError as e:
            raise RequestTimeoutError(f"processing took longer than {timeout:.0f} s") from e

    def shutdown(self) -> None:
        """Stop accepting work and wait for running jobs."""
        self.closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
