"""Inference off the event loop: a bounded pool that admits work it can finish in time.

Admission is by work, not by count. Every job states its size in seconds of audio (what
it transcribes, classifies or speaks), and apart from it any time it may spend before that
work starts (a voice enrolment); the pool measures how many seconds of audio a worker gets
through per second of wall time and admits a job while the estimated wait (the admitted
work ahead of it over that speed, and the set-up time ahead of it) plus its own time fits
the job's time budget. Otherwise the client gets 503 with a ``Retry-After`` computed from
the estimate, at once, rather than a slot in a queue it would time out in. A count cap
(``queue_size``) stays as a hard bound on waiting jobs; each holds only its staged upload
on disk.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from earful.errors import QueueFullError, RequestTimeoutError

T = TypeVar("T")

#: Weight of the newest measurement in the speed estimate (an exponential average).
SPEED_SMOOTHING = 0.3


class InferencePool:
    """``workers`` jobs run at once; more wait while their estimated wait fits their budget
    (and at most ``queue_size`` wait); beyond that, :class:`QueueFullError` (503 with
    Retry-After) instead of an unbounded pile-up.

    A job that outlives its timeout keeps its slot until its thread really finishes, so the
    bound holds even when clients give up.
    """

    def __init__(self, workers: int, queue_size: int, *, prior_speed: float = 4.0) -> None:
        """Args:
            workers: Jobs run at once.
            queue_size: Most jobs waiting at once (a hard cap).
            prior_speed: Seconds of audio one worker is assumed to process per second
                until jobs have been measured.
        """
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue_size)
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="earful-infer")
        self._lock = threading.Lock()
        self._inflight = 0
        self._outstanding = 0.0
        self._setup = 0.0  # wall seconds of set-up admitted and not finished
        self.speed = prior_speed
        """Measured seconds of work per worker-second (an exponential average)."""
        self.closed = False

    @property
    def inflight(self) -> int:
        """Jobs running or waiting."""
        return self._inflight

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return max(0, self._inflight - self.workers)

    def estimated_wait(self) -> float:
        """Seconds a job admitted now would wait before a worker starts it."""
        if self._inflight < self.workers:
            return 0.0
        # Audio at the measured speed; set-up time as it is (it does not depend on speed).
        return (self._outstanding / self.speed + self._setup) / self.workers

    def _admit(self, work: float, setup: float, timeout: float) -> None:
        with self._lock:
            if self.closed:
                raise QueueFullError("the server is shutting down; retry on another instance "
                                     "or shortly", retry_after=5)
            wait = self.estimated_wait()
            needed = wait + work / self.speed + setup
            if self._inflight >= self.capacity or needed > timeout:
                retry = max(1, math.ceil(wait if needed > timeout else 1))
                raise QueueFullError(
                    f"server busy: {self._inflight} requests in progress, about {wait:.0f} s "
                    f"of work ahead; this request would need {needed:.0f} s of its "
                    f"{timeout:.0f} s budget. Retry shortly", retry_after=retry)
            self._inflight += 1
            self._outstanding += work
            self._setup += setup

    def _finish(self, work: float, setup: float) -> None:
        with self._lock:
            self._inflight -= 1
            self._outstanding = max(0.0, self._outstanding - work)
            self._setup = max(0.0, self._setup - setup)

    def _measure(self, work: float, seconds: float) -> None:
        if work > 0 and seconds > 0:
            with self._lock:
                self.speed += SPEED_SMOOTHING * (work / seconds - self.speed)

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float,
                  work: float = 0.0, setup: float = 0.0) -> T:
        """Run ``fn(*args)`` in the pool and wait for it (see :meth:`start`)."""
        return await self.start(fn, *args, timeout=timeout, work=work, setup=setup)

    def start(self, fn: Callable[..., T], *args: Any, timeout: float,
              work: float = 0.0, setup: float = 0.0) -> Awaitable[T]:
        """Admit ``fn(*args)`` now (raising at once if it is refused) and return what to
        await for its result: a route can be refused before it starts a streamed response.

        Args:
            fn: The job.
            *args: Its arguments.
            timeout: The request's time budget (waiting included).
            work: The job's size in seconds of audio (0 for quick checks).
            setup: Seconds of wall time the job may spend before that work (a voice
                enrolment): added to its own time as it is, not divided by the speed.

        Raises:
            QueueFullError: The job would not finish within ``timeout`` behind the work
                already admitted, or the waiting queue is full, or the pool is closing.
            RequestTimeoutError: It did not finish within ``timeout``.
        """
        self._admit(work, setup, timeout)

        def timed() -> T:
            start = time.perf_counter()
            result = fn(*args)
            if not setup:  # the speed is of audio work; set-up time would blur it
                self._measure(work, time.perf_counter() - start)
            return result

        try:
            future = self._executor.submit(timed)
        except BaseException:
            self._finish(work, setup)
            raise
        future.add_done_callback(lambda _: self._finish(work, setup))
        return self._wait(future, timeout)

    @staticmethod
    async def _wait(future: Future[T], timeout: float) -> T:
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError as e:
            raise RequestTimeoutError(f"processing took longer than {timeout:.0f} s") from e

    def close(self) -> None:
        """Refuse new jobs (503) from now on; running and queued ones go on."""
        with self._lock:
            self.closed = True

    def shutdown(self) -> None:
        """Stop accepting work and wait for running jobs."""
        self.close()
        self._executor.shutdown(wait=True, cancel_futures=True)
