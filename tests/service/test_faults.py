"""Faults against a real server process: SIGTERM drains, kill -9 leftovers are swept at the
next start, and clients that vanish mid-upload or mid-response free their slot and files."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.service.server_process import ServerProcess


def _transcribe(url: str, path: Path, timeout: float = 120) -> httpx.Response:
    with path.open("rb") as fh:
        return httpx.post(f"{url}/transcribe", files={"file": (path.name, fh)},
                          timeout=timeout)


def _wait_for(condition: object, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def _inflight(url: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("earful_inflight "):
            return float(line.split()[1])
    raise AssertionError("no earful_inflight metric")


def _staged(folder: Path) -> list[Path]:
    return list(folder.glob("earful-req-*")) if folder.is_dir() else []


def test_sigterm_finishes_running_work_and_refuses_new(tmp_path: Path, test_data: Path,
                                                       minute_of_speech: Path) -> None:
    server = ServerProcess(tmp_path, shutdown_grace_seconds="60").wait_ready()
    try:
        assert _transcribe(server.url, test_data / "yes.wav").status_code == 200  # warm
        result: dict[str, httpx.Response] = {}
        running = threading.Thread(
            target=lambda: result.update(r=_transcribe(server.url, minute_of_speech)))
        running.start()
        assert _wait_for(lambda: _inflight(server.url) >= 1)
        server.proc.send_signal(signal.SIGTERM)
        assert _wait_for(lambda: httpx.get(f"{server.url}/ready", timeout=5).status_code
                         == 503)
        refused = _transcribe(server.url, test_data / "yes.wav")
        assert refused.status_code == 503 and "Retry-After" in refused.headers
        assert refused.json()["error"]["type"] == "server_stopping"
        running.join(timeout=120)
        assert result["r"].status_code == 200, result["r"].text
        assert "fellow americans" in result["r"].json()["text"].lower()
        assert server.proc.wait(timeout=60) == 0
    finally:
        server.stop(signal.SIGKILL)


def test_kill_9_leftovers_are_swept_at_the_next_start(tmp_path: Path,
                                                      minute_of_speech: Path) -> None:
    staging, outputs = tmp_path / "staging", tmp_path / "outputs"
    server = ServerProcess(tmp_path).wait_ready()
    try:
        def doomed() -> None:
            with pytest.raises(httpx.HTTPError):  # the server dies under it
                _transcribe(server.url, minute_of_speech, 30)

        threading.Thread(target=doomed, daemon=True).start()
        assert _wait_for(lambda: bool(_staged(staging)))
        server.stop(signal.SIGKILL)
    finally:
        server.stop(signal.SIGKILL)
    assert _staged(staging)  # the dead server's upload is still there
    partial = outputs / ".part-crashed"  # what a crash mid-write leaves
    partial.mkdir(parents=True)
    (partial / "audio.wav").write_bytes(b"RIFF half")
    with ServerProcess(tmp_path) as restarted:
        assert not _staged(staging) and not partial.exists()
        assert httpx.get(f"{restarted.url}/outputs/.part-crashed").status_code == 404


def test_client_vanishing_mid_upload_or_mid_response_frees_everything(
        tmp_path: Path, minute_of_speech: Path, test_data: Path) -> None:
    staging = tmp_path / "staging"
    with ServerProcess(tmp_path) as server:
        # Mid-upload: announce 5 MB, send 1 MB, hang up.
        boundary = "earfulboundary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"POST /transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         b"multipart/form-data; boundary=" + boundary.encode() +
                         b"\r\nContent-Length: 5000000\r\n\r\n" + head + b"\0" * 1_000_000)
        # Mid-response: ask for a minute of speech and leave before the answer.
        with pytest.raises(httpx.TimeoutException):
            _transcribe(server.url, minute_of_speech, timeout=1.0)
        assert _wait_for(lambda: _inflight(server.url) == 0 and not _staged(staging), 60)
        # The slot is free: the next request is served.
        assert _transcribe(server.url, test_data / "yes.wav").status_code == 200
        assert not _staged(staging)
