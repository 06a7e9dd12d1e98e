"""The official OpenAI SDK against the server: streamed transcription (server-sent events)
and translation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.service.conftest import LiveServer, make_settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("sse"))) as live:
        yield live


def sdk(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)


def test_sdk_stream_yields_deltas_then_done(server: LiveServer, minute_of_speech: Path) -> None:
    with minute_of_speech.open("rb") as fh:
        events = list(sdk(server).audio.transcriptions.create(
            model="whisper-1", file=fh, stream=True))
    deltas = [e for e in events if e.type == "transcript.text.delta"]
    done = [e for e in events if e.type == "transcript.text.done"]
    assert len(deltas) >= 6 and len(done) == 1 and events[-1] is done[0]
    assert "".join(d.delta for d in deltas) == done[0].text
    text = done[0].text.lower()
    assert text.count("fellow americans") == text.count("modern printer") == 2
    assert text.count("less mixed prison") == 2


def test_stream_matches_the_unstreamed_transcript(server: LiveServer,
                                                  test_data: Path) -> None:
    client = sdk(server)
    with (test_data / "jfk.flac").open("rb") as fh:
        plain = client.audio.transcriptions.create(model="whisper-1", file=fh)
    with (test_data / "jfk.flac").open("rb") as fh:
        events = list(client.audio.transcriptions.create(model="whisper-1", file=fh,
                                                         stream=True))
    assert events[-1].type == "transcript.text.done" and events[-1].text == plain.text


def test_stream_refusals_are_plain_http_errors(server: LiveServer, test_data: Path) -> None:
    client = sdk(server)
    with (test_data / "jfk.flac").open("rb") as fh, \
            pytest.raises(openai.UnprocessableEntityError, match="stream=true works"):
        client.audio.transcriptions.create(model="whisper-1", file=fh, stream=True,
                                           response_format="srt")
    with pytest.raises(openai.APIStatusError) as info:
        client.audio.transcriptions.create(model="whisper-1", stream=True,
                                           file=("x.wav", b"RIFF\0\0\0\0WAVEjunk"))
    assert info.value.status_code == 415 and "not a readable audio file" in str(info.value)


def test_client_leaving_a_stream_frees_its_files(server: LiveServer, minute_of_speech: Path,
                                                 tmp_path: Path) -> None:
    staging = Path(server.server.config.app.state.settings.temp_dir)
    with httpx.Client(timeout=60) as c, minute_of_speech.open("rb") as fh, c.stream(
            "POST", f"{server.url}/v1/audio/transcriptions", data={"model": "whisper-1",
                                                                   "stream": "true"},
            files={"file": ("m.flac", fh, "audio/flac")}) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        first = next(resp.iter_lines())
        assert first.startswith("data: ") and "transcript.text.delta" in first
    deadline = time.monotonic() + 60
    while list(staging.glob("earful-req-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(staging.glob("earful-req-*"))


def test_sdk_translation_and_english_only_refusal(server: LiveServer,
                                                  test_data: Path) -> None:
    client = sdk(server)
    with (test_data / "jfk.flac").open("rb") as fh:
        out = client.audio.translations.create(model="whisper-1", file=fh)
    assert "country" in out.text.lower()
    with (test_data / "jfk.flac").open("rb") as fh:
        verbose = client.audio.translations.create(model="base", file=fh,
                                                   response_format="verbose_json")
    assert verbose.task == "translate" and verbose.segments
    with (test_data / "jfk.flac").open("rb") as fh, \
            pytest.raises(openai.UnprocessableEntityError, match="cannot translate"):
        client.audio.translations.create(model="tiny.en", file=fh)
