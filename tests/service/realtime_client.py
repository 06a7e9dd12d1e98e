"""A small client of the realtime route for tests and benchmarks (``websockets``, following
OpenAI's Realtime transcription protocol)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import numpy as np
import soxr
import websockets

COMPLETED = "conversation.item.input_audio_transcription.completed"
DELTA = "conversation.item.input_audio_transcription.delta"


def pcm16(audio: np.ndarray, rate: int, to_rate: int = 24000) -> bytes:
    """Float audio as little-endian PCM16 at ``to_rate``."""
    if rate != to_rate:
        audio = soxr.resample(audio, rate, to_rate)
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


class Realtime:
    """One session: events are collected with their arrival time (monotonic seconds)."""

    def __init__(self, url: str, **connect: Any) -> None:
        self.url = url.replace("http", "ws", 1) + "/v1/realtime?intent=transcription"
        self.connect = connect
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Realtime:
        self.ws = await websockets.connect(self.url, max_size=None, **self.connect)
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self.events.append((time.monotonic(), json.loads(message)))
        except websockets.ConnectionClosed:
            pass

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(event))

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def stream(self, data: bytes, bytes_per_second: int, pace: float = 1.0,
                     chunk_seconds: float = 0.1) -> float:
        """Append ``data`` in chunks at ``pace`` x real time; returns when the last chunk
        was sent (monotonic)."""
        step = max(2, int(bytes_per_second * chunk_seconds) // 2 * 2)
        start = time.monotonic()
        for i in range(0, len(data), step):
            await self.send({"type": "input_audio_buffer.append",
                             "audio": base64.b64encode(data[i:i + step]).decode()})
            due = start + (i + step) / bytes_per_second / pace
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        return time.monotonic()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for _, e in self.events if e["type"] == kind]

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.of(kind)) < count:
            if time.monotonic() > deadline:
                seen = [e["type"] for _, e in self.events]
                raise TimeoutError(f"{count} x {kind} not seen; got {seen}")
            await asyncio.sleep(0.02)

    async def settle(self, timeout: float = 120) -> None:
        """Wait until every committed turn has its completed transcript."""
        deadline = time.monotonic() + timeout
        while True:
            committed = len(self.of("input_audio_buffer.committed"))
            if committed and len(self.of(COMPLETED)) >= committed:
                await asyncio.sleep(0.3)  # a commit may still be on its way
                if len(self.of("input_audio_buffer.committed")) == committed:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError("turns did not all complete")
            await asyncio.sleep(0.05)
