"""Against a real uvicorn server on loopback: the official OpenAI client, concurrency and
queue overflow. Request counts and durations are bounded."""

from __future__ import annotations

import concurrent.futures as cf
import time
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import LiveServer, make_settings

openai = pytest.importorskip("openai", reason="the OpenAI client is in the dev extra")


def test_official_openai_client(tmp_path: Path, test_data: Path) -> None:
    with LiveServer(make_settings(tmp_path)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        with open(test_data / "jfk.flac", "rb") as fh:
            plain = client.audio.transcriptions.create(model="whisper-1", file=fh)
        assert "ask not what your country" in plain.text.lower()
        with open(test_data / "jfk.mp3", "rb") as fh:
            verbose = client.audio.transcriptions.create(
                model="tiny.en", file=fh, response_format="verbose_json",
                timestamp_granularities=["word", "segment"], language="en")
        assert verbose.language == "english" and verbose.duration == pytest.approx(11.0, 0.01)
        assert verbose.words and verbose.words[0].start >= 0
        assert verbose.segments and verbose.segments[0].end > verbose.segments[0].start
        with open(test_data / "jfk.wav", "rb") as fh:
            srt = client.audio.transcriptions.create(model="whisper-1", file=fh,
                                                     response_format="srt")
        assert str(srt).startswith("1\n00:00:00,000 --> ")
        with open(test_data / "jfk.wav", "rb") as fh:
            text = client.audio.transcriptions.create(model="whisper-1", file=fh,
                                                      response_format="text")
        assert "fellow americans" in str(text).lower()
        with pytest.raises(openai.UnprocessableEntityError) as info, \
                open(test_data / "jfk.wav", "rb") as fh:
            client.audio.transcriptions.create(model="no-such-model", file=fh)
        assert "unknown model" in str(info.value)


def _post(url: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{url}/transcribe", files={"file": ("yes.wav", data, "audio/wav")},
                      timeout=120)


def test_sixteen_concurrent_requests_succeed(tmp_path: Path, test_data: Path) -> None:
    data = (test_data / "jfk.wav").read_bytes()
    with LiveServer(make_settings(tmp_path, workers=2, queue_size=16)) as server, \
            cf.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: _post(server.url, data), range(16)))
    assert [r.status_code for r in results] == [200] * 16
    assert len({r.json()["request_id"] for r in results}) == 16
    assert all("country" in r.json()["text"].lower() for r in results)


def test_overflow_gets_503_not_a_hang(tmp_path: Path, test_data: Path) -> None:
    data = (test_data / "jfk.wav").read_bytes()
    # One transcription at a time (no batching) and one waiting: a hard count cap of two.
    with LiveServer(make_settings(tmp_path, workers=1, queue_size=1,
                                  asr_batch_size=1)) as server, \
            cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _post(server.url, data), range(8)))
        after = _post(server.url, (test_data / "yes.wav").read_bytes())
    codes = sorted(r.status_code for r in results)
    assert set(codes) == {200, 503} and codes.count(200) >= 2
    busy = next(r for r in results if r.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1
    assert busy.json()["error"]["type"] == "queue_full"
    assert after.status_code == 200  # nothing stuck once the burst is over


def test_classify_with_shipped_model(tmp_path: Path, test_data: Path) -> None:
    with LiveServer(make_settings(tmp_path)) as server:
        resp = httpx.post(f"{server.url}/classify", timeout=60,
                          files={"file": ("yes.wav", (test_data / "yes.wav").read_bytes(),
                                          "audio/wav")}, data={"top_k": "3"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["label"] == "yes" and len(body["top_k"]) == 3 and body["windows"] == 1


def test_sixteen_concurrent_clients_with_default_admission(tmp_path: Path,
                                                           test_data: Path) -> None:
    from earful.config import Settings

    defaults = {k: Settings.model_fields[k].default for k in ("workers", "queue_size")}
    data = (test_data / "jfk.wav").read_bytes()
    with LiveServer(make_settings(tmp_path, **defaults)) as server, \
            cf.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: _post(server.url, data), range(16)))
    assert [r.status_code for r in results] == [200] * 16
    assert all("country" in r.json()["text"].lower() for r in results)


def test_tiny_budget_overflow_gets_503_with_an_estimate(tmp_path: Path,
                                                        test_data: Path) -> None:
    data = (test_data / "jfk.wav").read_bytes()
    settings = make_settings(tmp_path, workers=1, asr_batch_size=2, timeout_base_seconds=2.0,
                             timeout_per_audio_second=0.1)
    with LiveServer(settings) as server, cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _post(server.url, data), range(8)))
        # Requests that timed out (504) go on running until they finish; a client that
        # honours Retry-After is then served.
        for _ in range(3):
            after = _post(server.url, (test_data / "yes.wav").read_bytes())
            if after.status_code != 503:
                break
            wait = int(after.headers["retry-after"])
            assert 1 <= wait <= 30
            time.sleep(wait)
    codes = [r.status_code for r in results]
    assert set(codes) <= {200, 503, 504} and codes.count(503) >= 4
    busy = next(r for r in results if r.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1
    assert "budget" in busy.json()["error"]["message"]
    assert after.status_code == 200
