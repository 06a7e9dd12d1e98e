"""The demo's Live tab: the microphone streamed into the service's realtime WebSocket.

The browser records; Gradio hands the handlers one chunk at a time (``stream_every``
seconds of audio as ``(rate, int16 samples)``). Each recording gets one
:class:`LiveSession`: a WebSocket to ``/v1/realtime?intent=transcription`` (OpenAI's
Realtime transcription protocol, the same route ``earful listen`` uses) held in the browser
session's ``gr.State``. Every chunk is resampled to 24 kHz PCM16 and appended; the events
the server has sent meanwhile are read without waiting, and the page shows the turn being
spoken (its ``...input_audio_transcription.delta`` events) and the finished turns (its
``...completed`` events). Stopping the recording ends the last turn, waits for its
transcript and closes the socket. Whatever goes wrong (no server, a refused session, an
``error`` event) becomes a line of text on the page.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: The rate appended audio is sent at (the protocol's default).
RATE = 24000
DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"
FAILED = "conversation.item.input_audio_transcription.failed"
#: What each handler gives the page: state, partial text, transcript, status line.
Outputs = tuple["LiveSession | None", str, str, str]


def _connection_errors() -> tuple[type[BaseException], ...]:
    from websockets.exceptions import WebSocketException

    return (OSError, TimeoutError, WebSocketException)


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as little-endian 16-bit PCM."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def as_float_mono(samples: np.ndarray) -> np.ndarray:
    """A browser chunk (integer or float, mono or ``(samples, channels)``) as float32 mono."""
    data = np.asarray(samples)
    if np.issubdtype(data.dtype, np.integer):
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    data = data.astype(np.float32, copy=False)
    return data.mean(axis=1) if data.ndim == 2 else data.reshape(-1)


def realtime_url(base_url: str) -> str:
    """The realtime route of the API at ``base_url`` (``http`` becomes ``ws``)."""
    base = base_url.rstrip("/")
    scheme, sep, rest = base.partition("://")
    ws = {"http": "ws", "https": "wss"}.get(scheme, scheme)
    return f"{ws}{sep}{rest}/v1/realtime?intent=transcription"


class LiveSession:
    """One realtime transcription session: the socket, the text so far, a status line.

    Thread-safe: Gradio may run a late audio chunk and the stop handler at once.

    Args:
        base_url: The earful API, e.g. ``http://127.0.0.1:8000``.
        api_key: Sent as ``Authorization: Bearer``; None when the API needs none.
        language: Language code for every turn, or None to detect.
        silence_ms: Silence that ends a turn (the server's voice detection).
    """

    def __init__(self, base_url: str, api_key: str | None = None,
                 language: str | None = None, silence_ms: int = 500) -> None:
        self.url = realtime_url(base_url)
        self.api_key = api_key
        self.language = language
        self.silence_ms = silence_ms
        self.ws: Any = None
        self._stack = contextlib.ExitStack()  # holds the socket open; closing it closes that
        self.finals: list[str] = []
        self.partials: dict[str, str] = {}  # item id -> text shown so far, in arrival order
        self.committed = 0
        self.done = 0
        self.state = ""
        self.error = ""
        self.finished = False
        self._cleared = False
        self._resampler: Any = None
        self._rate = 0
        self._lock = threading.Lock()

    # -- what the page shows ---------------------------------------------------------------
    @property
    def partial(self) -> str:
        """The words of the turn (or turns) still being transcribed."""
        return " ".join(t.strip() for t in self.partials.values() if t.strip())

    @property
    def status(self) -> str:
        """One line for the page: what went wrong, else where the session stands."""
        return self.error or self.state

    @property
    def transcript(self) -> str:
        """The finished turns, one a line."""
        return "\n".join(self.finals)

    @property
    def is_open(self) -> bool:
        """Whether the socket is up and the recording not stopped."""
        return self.ws is not None and not self.finished

    # -- the socket ------------------------------------------------------------------------
    def open(self, timeout: float = 10.0) -> bool:
        """Connect and configure the session; False (with :attr:`status` saying why) when the
        server cannot be reached or refuses."""
        from websockets.sync.client import connect

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        with self._lock:
            try:
                self.ws = self._stack.enter_context(connect(
                    self.url, additional_headers=headers, open_timeout=timeout,
                    max_size=None))
                update = {"type": "session.update", "session": {
                    "type": "transcription", "audio": {"input": {
                        "format": {"type": "audio/pcm", "rate": RATE},
                        "transcription": {"model": "whisper-1", "language": self.language},
                        "turn_detection": {"type": "server_vad",
                                           "silence_duration_ms": self.silence_ms}}}}}
                self.ws.send(json.dumps(update))
            except _connection_errors() as e:
                self._lost(f"could not start a live session at {self.url}: {_reason(e)}")
                return False
            self.state = "Listening…"
            logger.info("live session opened at %s", self.url)
            return True

    def append(self, rate: int, samples: np.ndarray) -> None:
        """Send one chunk of browser audio (resampled to 24 kHz) and read what has come."""
        with self._lock:
            if not self.is_open:
                return
            audio = as_float_mono(samples)
            if audio.size:
                self._send_audio(self._resample(rate, audio))
            self._poll(0.0)

    def poll(self, wait: float = 0.0) -> None:
        """Read the events that have arrived (waiting up to ``wait`` seconds for the first)."""
        with self._lock:
            self._poll(wait)

    def finish(self, timeout: float = 60.0) -> None:
        """End the recording: close the turn under way, wait (up to ``timeout``) for the
        transcripts of all committed turns, then close the socket."""
        with self._lock:
            if not self.is_open:
                self._close()
                return
            # Silence longer than the turn-ending pause lets the server's voice detection end
            # a turn under way as it would end any other; `clear` then marks the end of the
            # audio (it answers `cleared` once everything sent before it is handled).
            pad = np.zeros(int(RATE * (self.silence_ms / 1000 + 0.4)), np.float32)
            self._send_audio(to_pcm16(pad))
            if self.ws is not None:
                try:
                    self.ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
                except _connection_errors() as e:
                    self._lost(f"the live session ended: {_reason(e)}")
            deadline = time.monotonic() + timeout
            while self.ws is not None and time.monotonic() < deadline and (
                    not self._cleared or self.done < self.committed):
                self._poll(0.1)
            self.state = ("Stopped before the last turn was transcribed."
                          if self.ws is not None and self.done < self.committed else "Stopped.")
            self.partials.clear()
            self._close()

    def close(self) -> None:
        """Close the socket now (a browser session that went away)."""
        with self._lock:
            self._close()

    # -- inside the lock -------------------------------------------------------------------
    def _resample(self, rate: int, audio: np.ndarray) -> bytes:
        if rate != self._rate:
            import soxr

            self._rate = rate
            self._resampler = (None if rate == RATE else
                               soxr.ResampleStream(rate, RATE, 1, dtype="float32"))
        if self._resampler is not None:
            audio = self._resampler.resample_chunk(audio)
        return to_pcm16(audio)

    def _send_audio(self, pcm: bytes) -> None:
        try:
            self.ws.send(json.dumps({"type": "input_audio_buffer.append",
                                     "audio": base64.b64encode(pcm).decode()}))
        except _connection_errors() as e:
            self._lost(f"the live session ended: {_reason(e)}")

    def _poll(self, wait: float) -> None:
        from websockets.exceptions import ConnectionClosed

        while self.ws is not None:
            try:
                message = self.ws.recv(timeout=wait)
            except TimeoutError:
                return
            except ConnectionClosed as e:
                self._lost(f"the server closed the live session: {_reason(e)}")
                return
            wait = 0.0
            try:
                self.handle_event(json.loads(message))
            except (ValueError, TypeError, AttributeError) as e:
                logger.warning("unreadable realtime event %.200r: %s", message, e)

    def handle_event(self, event: dict[str, Any]) -> None:
        """Update the text and status from one server event (unknown kinds are ignored);
        :meth:`poll` calls it for each event read."""
        kind = event.get("type", "")
        item = str(event.get("item_id", ""))
        if kind == DELTA:
            self.partials[item] = self.partials.get(item, "") + str(event.get("delta", ""))
        elif kind == COMPLETED:
            self.partials.pop(item, None)
            self.done += 1
            text = str(event.get("transcript") or "").strip()
            if text:
                self.finals.append(text)
        elif kind == FAILED:
            self.partials.pop(item, None)
            self.done += 1
            self.error = ("Server: a turn could not be transcribed: "
                          f"{(event.get('error') or {}).get('message', 'unknown error')}")
        elif kind == "input_audio_buffer.committed":
            self.committed += 1
        elif kind == "input_audio_buffer.cleared":
            self._cleared = True
        elif kind == "error":
            message = (event.get("error") or {}).get("message", "unknown error")
            logger.warning("realtime error event: %s", message)
            self.error = f"Server: {message}"

    def _lost(self, message: str) -> None:
        logger.warning("%s", message)
        self.error = self.error or message
        self._close()

    def _close(self) -> None:
        self.finished = True
        self.ws = None
        try:
            self._stack.close()
        except _connection_errors() as e:
            logger.debug("closing the live session: %s", e)


def _reason(e: BaseException) -> str:
    """A readable reason for a connection failure."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    if isinstance(e, ConnectionClosed) and e.rcvd is not None and e.rcvd.reason:
        return e.rcvd.reason
    if isinstance(e, InvalidStatus):
        status = e.response.status_code
        return f"HTTP {status}" + (" (is the API key right?)" if status in (401, 403) else "")
    return str(e) or type(e).__name__


class LiveHandlers:
    """The Live tab's event handlers; the session lives in the browser session's state.

    Args:
        base_url: The earful API.
        api_key: Its key, or None.
    """

    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        self.base_url = base_url
        self.api_key = api_key

    @staticmethod
    def _show(session: LiveSession | None) -> Outputs:
        if session is None:
            return None, "", "", ""
        return session, session.partial, session.transcript, session.status

    def start(self, previous: LiveSession | None) -> Outputs:
        """Recording started: a new session (any earlier one is closed first)."""
        if previous is not None:
            previous.close()
        session = LiveSession(self.base_url, self.api_key)
        session.open()
        return self._show(session)

    def chunk(self, audio: tuple[int, np.ndarray] | None,
              session: LiveSession | None) -> Outputs:
        """One chunk of microphone audio: send it, show what the server has said since."""
        if session is None or not session.is_open:
            return self._show(session)  # before `start` has run, or after `stop`
        if audio is not None:
            rate, samples = audio
            session.append(int(rate), samples)
        else:
            session.poll()
        return self._show(session)

    def stop(self, session: LiveSession | None) -> Outputs:
        """Recording stopped: the last turn's transcript, then the session is closed."""
        if session is not None:
            session.finish()
        return self._show(session)


def discard(session: LiveSession | None) -> None:
    """``gr.State``'s delete callback: a browser session that ends closes its socket."""
    if session is not None:
        session.close()


def live_tab(gr: Any, base_url: str, api_key: str | None = None) -> None:
    """Lay out the Live tab inside the current ``gr.Blocks`` and wire its events."""
    h = LiveHandlers(base_url, api_key)
    with gr.Tab("Live", id="live"):
        gr.Markdown("Press record and speak: the words of the sentence under way appear as "
                    "they settle, and each finished sentence moves to the transcript. "
                    "Stopping ends the session.")
        with gr.Row():
            with gr.Column():
                mic = gr.Audio(sources=["microphone"], streaming=True, type="numpy",
                               label="Microphone", elem_id="live-audio")
                status = gr.Markdown(elem_id="live-status")
            with gr.Column():
                partial = gr.Textbox(label="Hearing…", lines=2, interactive=False,
                                     elem_id="live-partial")
                text = gr.Textbox(label="Transcript", lines=8, interactive=False,
                                  elem_id="live-transcript")
        state = gr.State(None, delete_callback=discard)
        outputs = [state, partial, text, status]
        # Not API endpoints (they hold a socket per browser session); no spinners every chunk;
        # no concurrency limit, or one recording would hold up every other browser's.
        quiet: dict[str, Any] = {"show_progress": "hidden", "api_visibility": "private",
                                 "concurrency_limit": None}
        mic.start_recording(h.start, [state], outputs, **quiet)
        mic.stream(h.chunk, [mic, state], outputs, stream_every=0.5, **quiet)
        mic.stop_recording(h.stop, [state], outputs, **quiet)
