"""A small HTTP client for the earful API (what the demo uses; handy in scripts too)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from earful.errors import EarfulError


class ApiError(EarfulError):
    """The API answered with an error; ``status`` and the service's message are kept."""

    kind = "api_error"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status


@dataclass(frozen=True)
class AudioReply:
    """Audio the API returned, with its headers."""

    audio: bytes
    media_type: str
    headers: dict[str, str]


class EarfulClient:
    """Calls the earful API over HTTP."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 300.0,
                 ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=self.base_url, headers=headers,
                                 timeout=timeout)

    @staticmethod
    def _check(resp: httpx.Response) -> httpx.Response:
        if resp.status_code >= 400:
            try:
                message = resp.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = resp.text[:300] or resp.reason_phrase
            raise ApiError(resp.status_code, message)
        return resp

    @staticmethod
    def _file(path: str | Path) -> tuple[str, bytes, str]:
        p = Path(path)
        return (p.name, p.read_bytes(), "application/octet-stream")

    def transcribe(self, path: str | Path, language: str | None = None,
                   word_timestamps: bool = False, diarize: bool = False,
                   num_speakers: int | None = None) -> dict[str, Any]:
        """``POST /transcribe`` (``diarize``: segments carry a ``speaker``)."""
        data = {"word_timestamps": str(word_timestamps).lower()}
        if language:
            data["language"] = language
        if diarize:
            data["diarize"] = "true"
            if num_speakers:
                data["num_speakers"] = str(num_speakers)
        resp = self.http.post("/transcribe", files={"file": self._file(path)}, data=data)
        result: dict[str, Any] = self._check(resp).json()
        return result

    def classify(self, path: str | Path, top_k: int = 5) -> dict[str, Any]:
        """``POST /classify``."""
        resp = self.http.post("/classify", files={"file": self._file(path)},
                              data={"top_k": str(top_k)})
        result: dict[str, Any] = self._check(resp).json()
        return result

    def voices(self) -> dict[str, Any]:
        """``GET /voices``."""
        result: dict[str, Any] = self._check(self.http.get("/voices")).json()
        return result

    def synthesize(self, text: str, voice: str | None = None, speed: float = 1.0,
                   fmt: str = "wav", engine: str | None = None) -> AudioReply:
        """``POST /synthesize`` (``engine``: ``piper`` or ``kokoro``; default Piper)."""
        body: dict[str, Any] = {"text": text, "speed": speed, "format": fmt}
        if voice:
            body["voice"] = voice
        if engine:
            body["engine"] = engine
        resp = self._check(self.http.post("/synthesize", json=body))
        return AudioReply(resp.content, resp.headers.get("content-type", ""), dict(resp.headers))

    def speech(self, text: str, voice: str, model: str = "tts-1-hd", speed: float = 1.0,
               fmt: str = "wav") -> AudioReply:
        """``POST /v1/audio/speech`` (OpenAI's shape): ``tts-1-hd`` speaks a saved voice
        cloned with Kokoro, and a Piper or Kokoro voice (or a Kokoro mix) with its engine."""
        body = {"model": model, "input": text, "voice": voice, "speed": speed,
                "response_format": fmt}
        resp = self._check(self.http.post("/v1/audio/speech", json=body))
        return AudioReply(resp.content, resp.headers.get("content-type", ""), dict(resp.headers))

    def clone(self, text: str, reference: str | Path | None = None,
              voice_id: str | None = None, engine: str | None = None, language: str = "en",
              score: bool = True, fmt: str = "wav") -> AudioReply:
        """``POST /clone-voice`` with a reference file or a saved voice id."""
        data = {"text": text, "language": language, "format": fmt,
                "score": str(score).lower()}
        if engine:
            data["engine"] = engine
        if voice_id:
            data["voice_id"] = voice_id
        files = {"reference": self._file(reference)} if reference else None
        resp = self._check(self.http.post("/clone-voice", data=data, files=files))
        return AudioReply(resp.content, resp.headers.get("content-type", ""), dict(resp.headers))

    def add_voice(self, name: str, reference: str | Path) -> dict[str, Any]:
        """``POST /voices``."""
        resp = self.http.post("/voices", data={"name": name},
                              files={"reference": self._file(reference)})
        result: dict[str, Any] = self._check(resp).json()
        return result

    def add_voice_stream(self, name: str, reference: str | Path) -> Iterator[dict[str, Any]]:
        """``POST /voices`` with ``stream=true``: its events as they arrive.

        Yields ``voice.enrol.progress`` events (``done``, ``planned``) while the Kokoro
        style is sought, then the ``voice.created`` event (the saved voice under ``voice``).
        Closing the iterator early hangs up, and the server stops the enrolment.

        Raises:
            ApiError: The request was refused (a bad name or recording, a busy server), or
                saving failed once the stream had started (its ``error`` event).
        """
        with self.http.stream("POST", "/voices", data={"name": name, "stream": "true"},
                              files={"reference": self._file(reference)}) as resp:
            if resp.status_code >= 400:
                resp.read()
                self._check(resp)
            for line in resp.iter_lines():
                if not line.startswith("data: "):
                    continue
                data: dict[str, Any] = json.loads(line[6:])
                if "error" in data:
                    err = data["error"]
                    raise ApiError(int(err.get("status", 500)), str(err.get("message")))
                yield data
