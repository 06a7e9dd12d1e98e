"""Service fixtures: an app through create_app with the real tiny.en model, and a live
uvicorn server on loopback for clients that need a real socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from earful.config import Settings
from earful.service.app import create_app


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"temp_dir": tmp / "staging", "output_dir": tmp / "outputs",
                            "voice_store": tmp / "voices", "preload": False, "queue_size": 32,
                            # short Kokoro enrolments: tests check behaviour, benchmarks quality
                            "clone_enrol_steps": 2}
    return Settings(**{**base, **overrides})


@pytest.fixture(scope="session")
def minute_of_speech(tmp_path_factory: pytest.TempPathFactory,
                     sentences: list[tuple[Any, str]]) -> Path:
    """64 s of real speech (three different sentences, twice over, end to end): long enough
    to still be running when a test interrupts it, or to stream in several segments."""
    import numpy as np
    import soundfile as sf

    audio = np.concatenate([clip for clip, _ in sentences] * 2)
    path = tmp_path_factory.mktemp("long") / "sentences_x2.flac"
    sf.write(path, audio, 16000)
    return path


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("svc")


@pytest.fixture(scope="module")
def client(staging: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(staging, max_upload_mb=2.0, max_audio_seconds=60.0))
    with TestClient(app) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn in a thread on 127.0.0.1, stopped at the end of the test."""

    def __init__(self, settings: Settings) -> None:
        self.port = _free_port()
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port,
                                log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
