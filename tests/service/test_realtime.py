"""The realtime transcription route driven by a real WebSocket client with real speech."""

from __future__ import annotations

import asyncio
import audioop
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import websockets

from earful.asr.evaluate import get_normaliser
from tests.service.conftest import LiveServer, make_settings
from tests.service.realtime_client import COMPLETED, DELTA, Realtime, pcm16

GA_UPDATE = {"type": "session.update", "session": {
    "type": "transcription", "audio": {"input": {
        "format": {"type": "audio/pcm", "rate": 24000},
        "transcription": {"model": "whisper-1", "language": "en"},
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 600}}}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("rt"), realtime_max_buffer_seconds=20.0)
    with LiveServer(settings) as live:
        yield live


def words(text: str) -> set[str]:
    return set(get_normaliser()(text).split())


def speech(test_data: Path) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(test_data / "jfk.wav", dtype="float32")
    return audio, rate


def test_two_turns_at_real_time_with_partials(server: LiveServer, test_data: Path) -> None:
    audio, rate = speech(test_data)
    gap = np.zeros(int(1.5 * rate), np.float32)
    data = pcm16(np.concatenate([gap[: rate // 2], audio, gap, audio[: 4 * rate], gap]), rate)

    async def run() -> Realtime:
        async with Realtime(server.url) as rt:
            await rt.wait_for("session.created")
            await rt.send(GA_UPDATE)
            await rt.wait_for("session.updated")
            await rt.stream(data, 48000)
            await rt.settle()
            return rt

    rt = asyncio.run(run())
    kinds = [e["type"] for _, e in rt.events]
    assert kinds[:2] == ["session.created", "session.updated"]
    assert not rt.of("error")
    done = rt.of(COMPLETED)
    spoken = [d for d in done if d["transcript"]]
    assert len(spoken) >= 2
    assert {"fellow", "americans", "country"} <= words(" ".join(d["transcript"] for d in spoken))
    # Every completed turn was committed and its item created before it, in that order.
    order = [(e["type"], e.get("item_id") or e.get("item", {}).get("id")) for _, e in rt.events]
    for d in done:
        at = order.index((COMPLETED, d["item_id"]))
        committed = order.index(("input_audio_buffer.committed", d["item_id"]))
        created = order.index(("conversation.item.created", d["item_id"]))
        assert committed < created < at
    starts, stops = rt.of("input_audio_buffer.speech_started"), \
        rt.of("input_audio_buffer.speech_stopped")
    assert starts and stops and starts[0]["audio_start_ms"] < stops[0]["audio_end_ms"]
    # The long turn showed partial text while it was still being spoken.
    longest = max(spoken, key=lambda d: len(d["transcript"]))
    stop_time = next(t for t, e in rt.events if e["type"] == "input_audio_buffer.speech_stopped"
                     and e["item_id"] == longest["item_id"])
    early = [e for t, e in rt.events if e["type"] == DELTA and e["item_id"] ==
             longest["item_id"] and t < stop_time]
    assert early, "no partial transcript before the turn ended"


def test_bad_messages_get_error_events_and_the_session_goes_on(server: LiveServer,
                                                               test_data: Path) -> None:
    audio, rate = speech(test_data)

    async def run() -> tuple[Realtime, Realtime]:
        async with Realtime(server.url) as bad, Realtime(server.url) as good:
            await bad.wait_for("session.created")
            await bad.send_raw("{not json")
            await bad.send({"type": "input_audio_buffer.append", "audio": "%%% not base64"})
            await bad.send({"type": "response.create", "event_id": "ev1"})
            await bad.send({"type": "session.update", "session": {"type": "transcription",
                            "audio": {"input": {"format": {"type": "audio/pcm",
                                                           "rate": 12345}}}}})
            await bad.send({"type": "transcription_session.update",
                            "session": {"input_audio_format": "opus"}})
            await bad.send({"type": "session.update", "session": {"type": "realtime"}})
            await bad.send({"type": "input_audio_buffer.commit"})
            await bad.ws.send(b"\x00\x01binary")
            await bad.wait_for("error", 8)
            # Still alive: a valid update is answered.
            await bad.send(GA_UPDATE)
            await bad.wait_for("session.updated")
            # Meanwhile another session transcribes undisturbed, as fast as it likes.
            await good.send(GA_UPDATE)
            await good.stream(pcm16(np.concatenate([audio, np.zeros(rate, np.float32)]),
                                    rate), 48000, pace=4.0)
            await good.settle()
            return bad, good

    bad, good = asyncio.run(run())
    codes = [e["error"]["code"] for e in bad.of("error")]
    assert codes == ["invalid_json", "invalid_base64", "unknown_event", "unsupported_format",
                     "unsupported_format", "unsupported_session",
                     "input_audio_buffer_commit_empty", "invalid_frame"]
    assert bad.of("error")[2]["error"]["event_id"] == "ev1"
    assert not good.of("error") and "country" in words(" ".join(
        e["transcript"] for e in good.of(COMPLETED)))


def test_manual_commits_in_g711_with_the_beta_shape(server: LiveServer,
                                                    test_data: Path) -> None:
    audio, rate = speech(test_data)
    import soxr

    pcm8k = (np.clip(soxr.resample(audio, rate, 8000), -1, 1) * 32767).astype("<i2")
    ulaw = audioop.lin2ulaw(pcm8k.tobytes(), 2)

    async def run() -> Realtime:
        headers = {"OpenAI-Beta": "realtime=v1"}
        async with Realtime(server.url, additional_headers=headers) as rt:
            await rt.wait_for("transcription_session.created")
            await rt.send({"type": "transcription_session.update", "session": {
                "input_audio_format": "g711_ulaw", "turn_detection": None,
                "input_audio_transcription": {"model": "whisper-1", "language": "en"}}})
            await rt.wait_for("transcription_session.updated")
            await rt.stream(ulaw, 8000, pace=8.0)
            await rt.send({"type": "input_audio_buffer.commit"})
            await rt.wait_for(COMPLETED, timeout=120)
            await rt.stream(ulaw[:8000], 8000, pace=8.0)
            await rt.send({"type": "input_audio_buffer.clear"})
            await rt.wait_for("input_audio_buffer.cleared")
            return rt

    rt = asyncio.run(run())
    assert not rt.of("input_audio_buffer.speech_started")  # no server VAD
    (done,) = rt.of(COMPLETED)
    assert {"ask", "not", "country", "fellow"} <= words(done["transcript"])
    assert rt.of("transcription_session.updated")[0]["session"]["turn_detection"] is None


def test_buffer_limit_and_session_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, realtime_max_buffer_seconds=2.0,
                             realtime_max_sessions=1)
    manual = {"type": "session.update", "session": {"type": "transcription", "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}}}}

    async def run(url: str) -> tuple[Realtime, list[str], int]:
        async with Realtime(url) as rt:
            await rt.send(manual)
            await rt.wait_for("session.updated")
            await rt.stream(np.zeros(16000 * 3, "<i2").tobytes(), 32000, pace=20.0)
            await rt.wait_for("error")
            second = Realtime(url)
            async with second:
                await asyncio.sleep(1.0)
            closed = second.ws.close_code
            return rt, [e["error"]["code"] for e in second.of("error")], closed

    with LiveServer(settings) as live:
        rt, refused, code = asyncio.run(run(live.url))
    assert rt.of("error")[0]["error"]["code"] == "buffer_full"
    assert refused == ["session_refused"] and code == 1013


def test_api_key_by_header_or_subprotocol(tmp_path: Path) -> None:
    async def run(url: str) -> list[str]:
        outcomes = []
        for connect in ({}, {"additional_headers": {"Authorization": "Bearer s3cret"}},
                        {"subprotocols": ["realtime", "openai-insecure-api-key.s3cret"]}):
            try:
                async with Realtime(url, **connect) as rt:
                    await rt.wait_for("session.created", timeout=10)
                    outcomes.append("ok")
            except (websockets.InvalidStatus, websockets.ConnectionClosed, TimeoutError):
                outcomes.append("refused")
        return outcomes

    with LiveServer(make_settings(tmp_path, api_key="s3cret")) as live:
        assert asyncio.run(run(live.url)) == ["refused", "ok", "ok"]


def test_earful_listen_prints_partial_and_final_lines(server: LiveServer, test_data: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    from earful.cli import main

    assert main(["listen", str(test_data / "jfk.wav"), "--url", server.url, "--pace", "3",
                 "--language", "en"]) == 0
    finals = [line.split("\r")[-1] for line in capsys.readouterr().out.splitlines()]
    assert len([f for f in finals if f.strip()]) >= 2
    assert {"fellow", "country"} <= words(" ".join(finals))
