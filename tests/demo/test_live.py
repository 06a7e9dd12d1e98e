"""The Live tab's session logic against a real server: speech in, partial and final text
out, the session freed at the end, and failures shown as text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("websockets", reason="websockets is not installed (pip install "
                                         "'earful[demo]')")
pytest.importorskip("faster_whisper", reason="faster-whisper is not installed (pip install "
                                             "'earful[asr]')")

from earful.demo.live import COMPLETED, DELTA, LiveHandlers, LiveSession, realtime_url
from tests.service.conftest import LiveServer, _free_port, make_settings

BROWSER_RATE = 48000  # what a browser's microphone usually records at


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("live"))) as live:
        yield live


def _browser_chunks(test_data: Path, seconds: float = 0.5) -> list[np.ndarray]:
    """jfk.wav as a browser would hand it over: 48 kHz int16 chunks, then a quiet second."""
    import soxr

    audio, rate = sf.read(test_data / "jfk.wav", dtype="float32")
    audio = np.concatenate([soxr.resample(audio, rate, BROWSER_RATE),
                            np.zeros(BROWSER_RATE, np.float32)])
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    step = int(BROWSER_RATE * seconds)
    return [pcm[i:i + step] for i in range(0, pcm.size, step)]


def _sessions(server: LiveServer) -> int:
    return int(server.server.config.app.state.service.realtime_sessions)


def _wait_for_sessions(server: LiveServer, count: int) -> int:
    """The server's open realtime sessions, once they are ``count`` (or after 10 s): it
    counts a session just after accepting its socket, and frees it just after it closes."""
    deadline = time.monotonic() + 10
    while _sessions(server) != count and time.monotonic() < deadline:
        time.sleep(0.05)
    return _sessions(server)


def test_urls() -> None:
    assert realtime_url("http://127.0.0.1:8000/") == \
        "ws://127.0.0.1:8000/v1/realtime?intent=transcription"
    assert realtime_url("https://example.org/api").startswith("wss://example.org/api/v1/")


def test_events_become_partial_and_final_text() -> None:
    session = LiveSession("http://127.0.0.1:1")
    session.handle_event({"type": "input_audio_buffer.speech_started", "item_id": "a"})
    session.handle_event({"type": DELTA, "item_id": "a", "delta": "And so my"})
    session.handle_event({"type": DELTA, "item_id": "a", "delta": " fellow"})
    assert (session.partial, session.transcript) == ("And so my fellow", "")
    session.handle_event({"type": "input_audio_buffer.committed", "item_id": "a"})
    session.handle_event({"type": COMPLETED, "item_id": "a",
                          "transcript": " And so my fellow Americans."})
    session.handle_event({"type": DELTA, "item_id": "b", "delta": "ask not"})
    assert (session.partial, session.transcript) == ("ask not", "And so my fellow Americans.")
    session.handle_event({"type": COMPLETED, "item_id": "c", "transcript": ""})  # a blank turn
    assert session.transcript == "And so my fellow Americans." and session.done == 2
    session.handle_event({"type": "error", "error": {"message": "bad thing"}})
    assert session.status == "Server: bad thing"
    session.handle_event({"type": "something.new"})  # unknown kinds are ignored
    assert session.committed == 1


def test_a_recording_is_transcribed_and_its_session_freed(server: LiveServer,
                                                          test_data: Path) -> None:
    h = LiveHandlers(server.url)
    session, partial, text, status = h.start(None)
    assert session is not None and session.is_open, status
    assert _wait_for_sessions(server, 1) == 1
    for chunk in _browser_chunks(test_data):
        session, partial, text, status = h.chunk((BROWSER_RATE, chunk), session)
        time.sleep(0.25)  # twice real speed
    assert session is not None
    session, partial, text, status = h.stop(session)
    assert session is not None and not session.is_open
    assert status == "Stopped." and partial == ""
    words = text.lower()
    assert "country" in words and "americans" in words, text
    assert _wait_for_sessions(server, 0) == 0
    # A late chunk after stopping is ignored; the page keeps the transcript.
    assert h.chunk((BROWSER_RATE, _browser_chunks(test_data)[0]), session)[2] == text


def test_the_last_turn_is_finished_by_stopping(server: LiveServer, test_data: Path) -> None:
    """Stopping in mid-sentence (no pause yet) still gives that sentence's transcript."""
    h = LiveHandlers(server.url)
    session = h.start(None)[0]
    for chunk in _browser_chunks(test_data)[:5]:  # 2.5 s: "And so my fellow..."
        session = h.chunk((BROWSER_RATE, chunk), session)[0]
    session, _, text, status = h.stop(session)
    assert status == "Stopped." and "fellow" in text.lower(), text
    assert _wait_for_sessions(server, 0) == 0


def test_refused_session_reads_as_a_message(tmp_path: Path, test_data: Path) -> None:
    with LiveServer(make_settings(tmp_path, realtime_max_sessions=0)) as live:
        h = LiveHandlers(live.url)
        session = h.start(None)[0]
        assert session is not None
        deadline = time.monotonic() + 10
        while session.is_open and time.monotonic() < deadline:  # until the server closes it
            session.poll(wait=0.2)
        status = ""
        for chunk in _browser_chunks(test_data)[:2]:
            session, _, _, status = h.chunk((BROWSER_RATE, chunk), session)
        assert "too many realtime sessions" in status
        assert session is not None and not session.is_open
        assert h.stop(session)[3] == status


def test_wrong_key_and_no_server_read_as_messages(tmp_path: Path) -> None:
    with LiveServer(make_settings(tmp_path, api_key="s3cret")) as live:
        _, _, _, status = LiveHandlers(live.url).start(None)
        assert "could not start a live session" in status and "403" in status, status
        session, _, _, status = LiveHandlers(live.url, "s3cret").start(None)
        assert session is not None and session.is_open, status
        assert LiveHandlers(live.url).stop(session)[3] == "Stopped."
    _, _, _, status = LiveHandlers(f"http://127.0.0.1:{_free_port()}").start(None)
    assert status.startswith("could not start a live session"), status


def test_a_refused_setting_is_shown(server: LiveServer) -> None:
    session = LiveSession(server.url, language="xx-not-a-language")
    assert session.open()
    deadline = time.monotonic() + 10
    while not session.error and time.monotonic() < deadline:
        session.poll(wait=0.2)
    assert session.status.startswith("Server: ") and "xx-not-a-language" in session.status
    session.finish()
    assert not session.is_open
