"""Speech streamed piece by piece, read by the OpenAI SDK and by a plain HTTP client."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest

from earful.asr.evaluate import get_normaliser
from earful.asr.transcribe import transcribe
from earful.audio.io import decode
from earful.audio.transforms import resample
from tests.service.conftest import LiveServer, make_settings

TEXT = ("The quick brown fox jumps over the lazy dog. Dr. Smith met Mr. Jones at 5 p.m. "
        "yesterday. Please call Stella and ask her to bring these things.")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("speech"))) as live:
        yield live


def heard(samples: np.ndarray, rate: int) -> set[str]:
    text = transcribe(resample(samples.astype(np.float32), rate, 16000)).text
    return set(get_normaliser()(text).split())


def test_sdk_streams_pcm_sentence_by_sentence(server: LiveServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    chunks = []
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=TEXT, response_format="pcm",
            extra_body={"stream_format": "audio"}) as resp:
        assert resp.headers["content-type"] == "audio/L16"
        assert "x-output-id" not in resp.headers  # streamed speech is not saved
        chunks = list(resp.iter_bytes(chunk_size=None))
    pcm = b"".join(chunks)
    assert len(pcm) % 2 == 0 and len(pcm) > 2 * 24000 * 4
    samples = np.frombuffer(pcm, "<i2") / 32768.0
    assert {"fox", "smith", "jones", "stella"} <= heard(samples, 24000)


def test_three_sentences_arrive_as_separate_pieces(server: LiveServer) -> None:
    pieces = []
    with httpx.stream("POST", f"{server.url}/synthesize", timeout=120,
                      json={"text": TEXT, "format": "wav", "stream": True}) as resp:
        assert resp.status_code == 200
        for piece in resp.iter_raw():
            pieces.append(piece)
    body = b"".join(pieces)
    assert len(pieces) >= 3  # one per sentence at least, sent as each was made
    audio = decode(io.BytesIO(body), None)
    assert audio.duration > 4.0 and {"fox", "stella"} <= heard(audio.samples, audio.sample_rate)


def test_sse_deltas_then_done(server: LiveServer) -> None:
    events = []
    with httpx.stream("POST", f"{server.url}/v1/audio/speech", timeout=120,
                      json={"model": "tts-1", "voice": "alloy", "input": TEXT,
                            "response_format": "pcm", "stream_format": "sse"}) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "speech.audio.done" and kinds.count("speech.audio.delta") >= 3
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert events[-1]["usage"]["output_bytes"] == len(pcm)
    assert {"jones", "stella"} <= heard(np.frombuffer(pcm, "<i2") / 32768.0, 24000)


def test_unstreamable_format_and_bad_text_are_plain_errors(server: LiveServer) -> None:
    flac = httpx.post(f"{server.url}/v1/audio/speech", timeout=60,
                      json={"model": "tts-1", "voice": "alloy", "input": "Hi.",
                            "response_format": "flac", "stream_format": "audio"})
    assert flac.status_code == 422 and "streamed speech" in flac.json()["error"]["message"]
    empty = httpx.post(f"{server.url}/synthesize", timeout=60,
                       json={"text": "   ", "stream": True})
    assert empty.status_code == 422


@pytest.mark.parametrize(("route", "body", "status", "says"), [
    ("/synthesize", {"text": "0", "engine": "kokoro", "voice": "0", "format": "mp3"}, 422,
     "unknown Kokoro voice"),
    ("/synthesize", {"text": "0", "engine": "piper", "voice": "0", "format": "wav"}, 404,
     "unknown Piper voice"),
    ("/synthesize", {"text": "Hi.", "engine": "kokoro", "voice": "jf_alpha:-1"}, 422,
     "weight"),
    ("/v1/audio/speech", {"model": "kokoro", "voice": "nobody", "input": "Hi.",
                          "response_format": "pcm", "stream_format": "sse"}, 422,
     "unknown Kokoro voice"),
    ("/v1/audio/speech", {"model": "offline", "voice": "nobody", "input": "Hi.",
                          "response_format": "wav", "stream_format": "audio"}, 404,
     "unknown voice"),
])
def test_a_bad_voice_is_a_plain_error_before_any_audio(
        server: LiveServer, route: str, body: dict[str, object], status: int,
        says: str) -> None:
    # Found by the schemathesis test: the voice used to be checked by the first piece's
    # synthesis, after the 200 had gone out, so the stream broke off with a server error.
    if route == "/synthesize":
        body = {**body, "stream": True}
    resp = httpx.post(f"{server.url}{route}", json=body, timeout=60)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert says in resp.json()["error"]["message"]


def test_mp3_pieces_decode_as_one_file(server: LiveServer, tmp_path: Path) -> None:
    resp = httpx.post(f"{server.url}/synthesize", timeout=120,
                      json={"text": TEXT, "format": "mp3", "stream": True})
    assert resp.status_code == 200 and resp.headers["content-type"] == "audio/mpeg"
    (tmp_path / "s.mp3").write_bytes(resp.content)
    audio = decode(tmp_path / "s.mp3", None)
    assert audio.duration > 4.0 and {"fox", "stella"} <= heard(audio.samples, audio.sample_rate)


def test_a_long_first_sentence_starts_with_a_short_piece(server: LiveServer) -> None:
    from earful.tts.stream import stream_pieces

    text = "Yes, I think so, but only if the boy comes back with his dog before dark."
    with httpx.stream("POST", f"{server.url}/v1/audio/speech", timeout=120,
                      json={"model": "tts-1", "voice": "alloy", "input": text,
                            "response_format": "pcm", "stream_format": "sse"}) as resp:
        deltas = [base64.b64decode(json.loads(line[6:])["audio"]) for line in resp.iter_lines()
                  if line.startswith("data: ") and "speech.audio.delta" in line]
    # One delta per piece: "Yes, I think so," is sent on its own, followed by the pause of
    # its comma.
    assert len(deltas) == len(stream_pieces(text)) >= 2
    seconds = [len(d) / 2 / 24000 for d in deltas]
    assert seconds[0] < 0.4 * sum(seconds)
    first = np.frombuffer(deltas[0], "<i2") / 32768.0
    assert np.abs(first[-int(0.3 * 24000):]).max() <= 0.01  # ends in the comma's pause
