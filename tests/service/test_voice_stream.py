"""``POST /voices`` with ``stream=true`` against a live server: enrolment progress as
server-sent events, the saved voice at the end, errors before and after the stream starts,
and a client that leaves freeing its worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.service.conftest import LiveServer, make_settings

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'earful[tts]')")
pytest.importorskip("pyworld", reason="pyworld is not installed (pip install 'earful[tts]')")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice-stream")


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[LiveServer]:
    # One worker, so a second request waits behind the first; a generous base timeout so
    # that waiting is never refused as too long.
    settings = make_settings(root, clone_enrol_steps=2, workers=1, timeout_base_seconds=300.0)
    with LiveServer(settings) as live:
        yield live


@pytest.fixture(scope="module")
def recording(root: Path, test_data: Path) -> bytes:
    """jfk.wav a little quieter: a recording no other test has enrolled, so this process's
    enrolment cache (keyed by content) has not seen it and the search really runs."""
    audio, rate = sf.read(test_data / "jfk.wav", dtype="float32")
    path = root / "kennedy.flac"
    sf.write(path, 0.8 * audio, rate)
    return path.read_bytes()


def _files(data: bytes, name: str = "kennedy.flac",
           ctype: str = "audio/flac") -> dict[str, tuple[str, bytes, str]]:
    return {"reference": (name, data, ctype)}


def _events(resp: httpx.Response) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(event name, data) for each server-sent event, as they arrive."""
    name = None
    for line in resp.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])
            name = None


def _saved(server: LiveServer) -> list[dict[str, Any]]:
    voices: list[dict[str, Any]] = httpx.get(f"{server.url}/voices", timeout=30).json()["saved"]
    return voices


def _kokoro(server: LiveServer) -> bool:
    return bool(httpx.get(f"{server.url}/voices", timeout=30).json()["kokoro"])


def _inflight(server: LiveServer) -> float:
    for line in httpx.get(f"{server.url}/metrics", timeout=5).text.splitlines():
        if line.startswith("earful_inflight "):
            return float(line.split()[1])
    raise AssertionError("no earful_inflight metric")


def _wait_for(condition: Callable[[], bool], timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _staged(root: Path) -> list[Path]:
    staging = root / "staging"
    return list(staging.glob("earful-req-*")) if staging.is_dir() else []


def test_bad_requests_are_plain_errors_before_the_stream(server: LiveServer, root: Path,
                                                         test_data: Path,
                                                         recording: bytes) -> None:
    def post(name: str, files: dict[str, tuple[str, bytes, str]]) -> httpx.Response:
        return httpx.post(f"{server.url}/voices", data={"name": name, "stream": "true"},
                          files=files, timeout=60)

    cases = [("../../etc/passwd", _files(recording), 422, "invalid_option"),
             ("", _files(recording), 422, None),
             ("Junk", _files(b"not audio at all" * 64, "r.wav", "audio/wav"), 415, None),
             ("Text", _files(b"hello", "r.txt", "text/plain"), 415, None),
             ("Short", _files((test_data / "yes.wav").read_bytes(), "yes.wav", "audio/wav"),
              422, "invalid_reference")]
    for name, files, status, kind in cases:
        resp = post(name, files)
        assert resp.status_code == status, (name, resp.text)
        assert resp.headers["content-type"] == "application/json"
        if kind:
            assert resp.json()["error"]["type"] == kind
    assert not _saved(server) and not _staged(root)


def test_progress_then_the_voice_and_a_late_duplicate_gets_an_error_event(
        server: LiveServer, root: Path, recording: bytes) -> None:
    form = {"name": "Streamed", "stream": "true"}
    with (httpx.Client(base_url=server.url, timeout=600) as client,
          client.stream("POST", "/voices", data=form, files=_files(recording)) as first):
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("text/event-stream")
        assert first.headers["x-request-id"]
        # Sent while the first is still enrolling, so its name is still free here; with
        # one worker it runs after the first has saved the voice, and fails then.
        with client.stream("POST", "/voices", data=form,
                           files=_files(recording)) as second:
            assert second.status_code == 200
            late = list(_events(second))
        events = list(_events(first))
    kinds = [data["type"] for _, data in events]
    assert kinds[-1] == "voice.created" and kinds.count("voice.created") == 1
    assert set(kinds[:-1]) <= {"voice.enrol.progress"}
    progress = [data for _, data in events[:-1]]
    if _kokoro(server):
        assert progress, "Kokoro is installed: enrolment reports its progress"
        done = [p["done"] for p in progress]
        planned = [p["planned"] for p in progress]
        assert done == sorted(done) and planned == sorted(planned, reverse=True)
        assert planned[0] == 4  # two starting points + clone_enrol_steps
        # Ends at what was planned (lowered, when the search's time budget cut it short).
        assert done[-1] == planned[-1] and 2 <= done[-1] <= 4
    voice = events[-1][1]["voice"]
    assert voice["name"] == "Streamed" and voice["engine"] == "clone"
    assert [v["id"] for v in _saved(server) if v["name"] == "Streamed"] == [voice["id"]]

    name, error = late[-1]
    assert name == "error" and error["type"] == "error", late
    assert error["error"]["status"] == 422 and error["error"]["type"] == "invalid_option"
    assert "already exists" in error["error"]["message"]
    assert all(data["type"] != "voice.created" for _, data in late)

    # Now the name is taken before anything starts: a plain 422, no stream.
    again = httpx.post(f"{server.url}/voices", data=form, files=_files(recording), timeout=60)
    assert again.status_code == 422 and again.json()["error"]["type"] == "invalid_option"
    assert not _staged(root)


def test_a_client_that_leaves_frees_the_worker(server: LiveServer, root: Path,
                                               recording: bytes) -> None:
    if not _kokoro(server):
        pytest.skip("Kokoro is not installed: saving a voice has no enrolment to stop")
    audio, rate = sf.read(root / "kennedy.flac", dtype="float32")
    path = root / "backwards.flac"  # not enrolled before either: the search runs
    sf.write(path, np.ascontiguousarray(audio[::-1]), rate)
    with httpx.stream("POST", f"{server.url}/voices", timeout=600,
                      data={"name": "Leaver", "stream": "true"},
                      files=_files(path.read_bytes())) as resp:
        # The stream has started (the name and the recording passed); leave before the
        # enrolment reports anything: it stops when it next would.
        assert resp.status_code == 200
    assert _wait_for(lambda: _inflight(server) == 0), "the enrolment kept its worker"
    assert "Leaver" not in [v["name"] for v in _saved(server)]
    assert not _staged(root)
