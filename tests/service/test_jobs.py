"""The inference pool's admission by work: audio seconds over measured speed, set-up time as
time."""

from __future__ import annotations

import asyncio
import threading

import pytest

from earful.errors import QueueFullError
from earful.service.jobs import InferencePool


def test_admission_by_audio_seconds_over_speed() -> None:
    async def scenario() -> None:
        pool = InferencePool(1, 8, prior_speed=4.0)
        release = threading.Event()
        try:
            running = pool.start(release.wait, 30, timeout=100, work=40.0)  # about 10 s
            with pytest.raises(QueueFullError) as refused:
                pool.start(lambda: None, timeout=5, work=4.0)  # 10 s wait + 1 s > 5 s
            assert refused.value.retry_after == 10
            waiting = pool.start(lambda: "done", timeout=20, work=4.0)  # 11 s fits 20 s
            assert pool.inflight == 2
        finally:
            release.set()
        assert await running is True and await waiting == "done"
        pool.shutdown()

    asyncio.run(scenario())


def test_setup_time_counts_as_time_not_as_audio() -> None:
    # An enrolment that may take 50 s of wall time is 50 s of wait for those behind it,
    # whatever the audio speed; counted as 50 s of audio at 4x it would look like 12.5 s.
    async def scenario() -> None:
        pool = InferencePool(1, 8, prior_speed=4.0)
        with pytest.raises(QueueFullError):
            pool.start(lambda: None, timeout=40, setup=50.0)
        release = threading.Event()
        try:
            enrolling = pool.start(release.wait, 30, timeout=60, setup=50.0)
            with pytest.raises(QueueFullError) as refused:
                pool.start(lambda: None, timeout=30, work=4.0)
            assert refused.value.retry_after == 50
            assert pool.estimated_wait() == pytest.approx(50.0)
        finally:
            release.set()
        assert await enrolling is True
        # Its wall time says nothing about audio speed, so the estimate is unchanged.
        assert pool.speed == 4.0
        await pool.run(lambda: None, timeout=10, work=4.0)
        speed = pool.speed
        assert speed != 4.0  # an audio job is measured
        assert pool.inflight == 0
        # Nothing of the enrolment is left in the estimate: behind one job of 8 s of audio,
        # the wait is that job's alone.
        release = threading.Event()
        try:
            blocking = pool.start(release.wait, 30, timeout=100, work=8.0)
            assert pool.estimated_wait() == pytest.approx(8.0 / speed)
        finally:
            release.set()
        await blocking
        pool.shutdown()

    asyncio.run(scenario())
