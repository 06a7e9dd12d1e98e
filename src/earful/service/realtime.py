"""Realtime transcription over WebSocket, following OpenAI's Realtime transcription protocol.

``/v1/realtime?intent=transcription``. A client configures the session with either shape
OpenAI has used (``transcription_session.update``, or ``session.update`` with a
transcription session), appends base64 audio, and gets ``input_audio_buffer.*`` events,
``conversation.item.created``, partial ``...input_audio_transcription.delta`` events while
the speaker talks (only words two consecutive partial decodes agree on) and one
``...completed`` per turn. Turns end by server VAD (Silero) or by the client's commit.

Every bad message gets an ``error`` event and the session goes on; limits (sessions, session
length, buffered audio, outgoing backlog) end only the session that passes them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import time
import uuid
from typing import Any

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from earful.asr.live import Turn, TurnDetection, TurnTracker, decode_input, stable_words
from earful.audio.constants import SAMPLE_RATE
from earful.errors import EarfulError
from earful.service.realtime_session import SessionConfig, parse_update

logger = logging.getLogger(__name__)
router = APIRouter()

#: Outgoing events a slow reader may leave unread before its session is closed.
MAX_BACKLOG = 512
#: New speech (seconds) between partial decodes.
PARTIAL_EVERY = 1.0


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def _authorised(ws: WebSocket, key: str | None) -> tuple[bool, str | None]:
    """Whether the client sent the API key (header, or the subprotocol browsers use), and
    the subprotocol to accept."""
    offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",")
               if p.strip()]
    chosen = "realtime" if "realtime" in offered else None
    if not key:
        return True, chosen
    auth = ws.headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip() == key:
        return True, chosen
    return f"openai-insecure-api-key.{key}" in offered, chosen


class Session:
    """One realtime transcription session: protocol state, audio, decoding tasks."""

    def __init__(self, ws: WebSocket, svc: Any, beta: bool) -> None:
        self.ws = ws
        self.svc = svc
        self.settings = svc.settings
        self.config = SessionConfig(beta=beta)
        self.tracker = TurnTracker(TurnDetection())
        self.resampler: Any = None
        self.outgoing: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(MAX_BACKLOG)
        self.finals: asyncio.Queue[tuple[str, Turn] | None] = asyncio.Queue()
        self.item_id = _id("item")
        self.last_item: str | None = None
        self.partial_task: asyncio.Task[None] | None = None
        self.partial_words: list[str] | None = None
        self.shown: list[str] = []
        self.speech_since_partial = 0.0
        self._reconfigure()

    def _reconfigure(self) -> None:
        import soxr

        self.tracker = TurnTracker(self.config.detection or TurnDetection())
        self.resampler = (None if self.config.rate == SAMPLE_RATE else
                          soxr.ResampleStream(self.config.rate, SAMPLE_RATE, 1,
                                              dtype="float32"))

    def to_16k(self, data: bytes) -> np.ndarray:
        """Appended bytes as 16 kHz float32 samples."""
        samples = decode_input(data, self.config.encoding)
        if self.resampler is None:
            return samples
        out: np.ndarray = self.resampler.resample_chunk(samples)
        return out

    # -- sending ---------------------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> None:
        """Queue an event; a reader that falls too far behind loses its session."""
        try:
            self.outgoing.put_nowait({"event_id": _id("event"), **event})
        except asyncio.QueueFull as e:
            raise _CloseSessionError(1008, "client reads too slowly") from e

    def error(self, code: str, message: str, client_event: str | None = None) -> None:
        self.send({"type": "error", "error": {"type": "invalid_request_error", "code": code,
                                              "message": message, "param": None,
                                              "event_id": client_event}})

    async def sender(self) -> None:
        while (event := await self.outgoing.get()) is not None:
            await self.ws.send_text(json.dumps(event))

    # -- receiving -------------------------------------------------------------------------
    async def handle(self, raw: str) -> None:
        """One client message (protocol errors become error events). Messages are handled
        one at a time, so the tracker is never touched by two at once."""
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            self.error("invalid_json", "the message is not valid JSON")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self.error("invalid_event", "an event is a JSON object with a string 'type'")
            return
        kind, event_id = message["type"], message.get("event_id")
        handler = {"transcription_session.update": self._update,
                   "session.update": self._update,
                   "input_audio_buffer.append": self._append,
                   "input_audio_buffer.commit": self._commit,
                   "input_audio_buffer.clear": self._clear}.get(kind)
        if handler is None:
            self.error("unknown_event", f"unknown or unsupported event type '{kind[:60]}'",
                       event_id)
            return
        try:
            await handler(message)
        except EarfulError as e:
            self.error(getattr(e, "code", "invalid_value"), str(e), event_id)

    async def _update(self, message: dict[str, Any]) -> None:
        config = parse_update(message, self.config)
        config.asr(self.svc)  # an unknown model or language is refused now, not per turn
        self.config = config
        self._reconfigure()
        self.send({"type": self.config.updated_event, "session": self.config.describe()})

    async def _append(self, message: dict[str, Any]) -> None:
        try:
            data = base64.b64decode(message.get("audio", ""), validate=True)
        except (binascii.Error, ValueError, TypeError):
            self.error("invalid_base64", "'audio' must be base64-encoded audio",
                       message.get("event_id"))
            return
        samples = self.to_16k(data)
        limit = self.settings.realtime_max_buffer_seconds
        if self.tracker.buffered_seconds + samples.size / SAMPLE_RATE > limit:
            if self.config.detection is None:
                self.error("buffer_full", f"the input audio buffer holds {limit:g} s; commit "
                                          "or clear it", message.get("event_id"))
                return
            self._finish(self.tracker.cut())  # a turn that long ends here
        if self.config.detection is None:
            self.tracker.append(samples)
            return
        # Voice detection off the event loop: other sessions keep being served meanwhile.
        events, turn = await asyncio.to_thread(self.tracker.feed, samples)
        for name, ms in events:
            key = "audio_start_ms" if name == "speech_started" else "audio_end_ms"
            self.send({"type": f"input_audio_buffer.{name}", key: ms, "item_id": self.item_id})
        if turn is not None:
            self._finish(turn)
        elif self.tracker.in_speech:
            self.speech_since_partial += samples.size / SAMPLE_RATE
            if self.speech_since_partial >= PARTIAL_EVERY and (
                    self.partial_task is None or self.partial_task.done()):
                self.speech_since_partial = 0.0
                self.partial_task = asyncio.ensure_future(
                    self._partial(self.item_id, self.tracker.current().copy()))

    async def _commit(self, message: dict[str, Any]) -> None:
        turn = self.tracker.cut()
        if turn is None:
            self.error("input_audio_buffer_commit_empty", "the input audio buffer is empty",
                       message.get("event_id"))
            return
        self._finish(turn)

    async def _clear(self, message: dict[str, Any]) -> None:
        self.tracker.clear()
        self.send({"type": "input_audio_buffer.cleared"})

    def _finish(self, turn: Turn | None) -> None:
        if turn is None:
            return
        item, previous = self.item_id, self.last_item
        self.last_item = item
        self.send({"type": "input_audio_buffer.committed", "item_id": item,
                   "previous_item_id": previous})
        self.send({"type": "conversation.item.created", "previous_item_id": previous,
                   "item": {"id": item, "object": "realtime.item", "type": "message",
                            "status": "completed", "role": "user",
                            "content": [{"type": "input_audio", "transcript": None}]}})
        self.finals.put_nowait((item, turn))
        self.item_id = _id("item")
        self.partial_words, self.speech_since_partial = None, 0.0
        if self.partial_task is not None:
            self.partial_task.cancel()

    # -- decoding --------------------------------------------------------------------------
    async def _decode(self, audio: np.ndarray, partial: bool = False) -> str:
        from earful.asr.transcribe import transcribe

        opts, spec = self.config.asr(self.svc)
        if partial:  # greedy: a partial is shown for a moment, and must arrive soon
            opts = opts.with_(beam_size=1)
        result = await self.svc.pool.run(transcribe, audio, opts, spec,
                                         timeout=self.svc.timeout_for(audio.size / SAMPLE_RATE),
                                         work=audio.size / SAMPLE_RATE)
        return str(result.text)

    async def _partial(self, item: str, audio: np.ndarray) -> None:
        with contextlib.suppress(EarfulError):
            words = (await self._decode(audio, partial=True)).split()
            if item != self.item_id:
                return  # the turn ended meanwhile; its final decides
            stable = stable_words(self.partial_words, words)
            self.partial_words = words
            if len(stable) > len(self.shown) and stable[:len(self.shown)] == self.shown:
                delta = " ".join(stable[len(self.shown):])
                self.send({"type": "conversation.item.input_audio_transcription.delta",
                           "item_id": item, "content_index": 0,
                           "delta": (" " if self.shown else "") + delta})
                self.shown = stable

    async def finisher(self) -> None:
        """Final transcripts, one turn at a time, in order."""
        while (job := await self.finals.get()) is not None:
            item, turn = job
            shown, self.shown = self.shown, []
            try:
                text = await self._decode(turn.audio)
            except EarfulError as e:
                self.send({"type": "conversation.item.input_audio_transcription.failed",
                           "item_id": item, "content_index": 0,
                           "error": {"type": e.kind, "message": str(e)}})
                continue
            words = text.split()
            if shown and words[:len(shown)] == shown and len(words) > len(shown):
                self.send({"type": "conversation.item.input_audio_transcription.delta",
                           "item_id": item, "content_index": 0,
                           "delta": " " + " ".join(words[len(shown):])})
            elif not shown and text:
                self.send({"type": "conversation.item.input_audio_transcription.delta",
                           "item_id": item, "content_index": 0, "delta": text})
            self.send({"type": "conversation.item.input_audio_transcription.completed",
                       "item_id": item, "content_index": 0, "transcript": text})


class _CloseSessionError(Exception):
    """End this session with a WebSocket close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@router.websocket("/v1/realtime")
async def realtime(ws: WebSocket) -> None:
    """OpenAI Realtime transcription sessions (``?intent=transcription``)."""
    svc = ws.app.state.service
    settings = svc.settings
    ok, subprotocol = _authorised(ws, settings.api_key)
    if not ok:
        await ws.close(code=1008, reason="missing or invalid API key")
        return
    await ws.accept(subprotocol=subprotocol)
    beta = "openai-beta.realtime-v1" in ws.headers.get("sec-websocket-protocol", "") or \
        "realtime=v1" in ws.headers.get("openai-beta", "")
    session = Session(ws, svc, beta)
    intent = ws.query_params.get("intent", "transcription")
    if intent != "transcription" or svc.realtime_sessions >= settings.realtime_max_sessions \
            or svc.draining:
        why = ("this server runs transcription sessions only (?intent=transcription)"
               if intent != "transcription" else "too many realtime sessions; retry later")
        session.error("session_refused", why)
        await session.outgoing.put(None)
        await session.sender()
        await ws.close(code=1013 if intent == "transcription" else 1008, reason=why[:120])
        return
    svc.realtime_sessions += 1
    session.send({"type": session.config.created_event, "session": session.config.describe()})
    tasks = [asyncio.ensure_future(session.sender()), asyncio.ensure_future(session.finisher())]
    deadline = time.monotonic() + settings.realtime_max_session_seconds
    code, reason = 1000, "session ended"
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                session.error("session_expired", "the session reached its "
                              f"{settings.realtime_max_session_seconds:g} s limit")
                code, reason = 1000, "session expired"
                break
            receiver = asyncio.ensure_future(ws.receive())
            done, _ = await asyncio.wait([receiver, *tasks], timeout=left,
                                         return_when=asyncio.FIRST_COMPLETED)
            if receiver not in done:
                receiver.cancel()
                if any(t.done() for t in tasks):  # the sender failed: the client is gone
                    break
                continue
            frame = receiver.result()
            if frame["type"] == "websocket.disconnect":
                code = 0
                break
            if frame.get("text") is None:
                session.error("invalid_frame", "send events as JSON text frames")
                continue
            await session.handle(frame["text"])
    except WebSocketDisconnect:
        code = 0
    except _CloseSessionError as e:
        code, reason = e.code, e.reason
    finally:
        svc.realtime_sessions -= 1
        if session.partial_task is not None:
            session.partial_task.cancel()
        session.finals.put_nowait(None)
        # Give finals already decoding a moment; a client that left is not waited for.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(tasks[1], timeout=30 if code else 0.01)
        with contextlib.suppress(asyncio.QueueFull):
            session.outgoing.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(tasks[0], timeout=5)
        for task in tasks:
            task.cancel()
        if code:
            with contextlib.suppress(Exception):
                await ws.close(code=code, reason=reason)
