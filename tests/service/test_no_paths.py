"""Nothing about the server's filesystem leaks: every route's responses, good and bad, are
swept for paths (staging, outputs, the model folders, the package, the home folder)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from earful.asr.bundled import resolve_model
from earful.service.app import create_app
from tests.service.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


def test_no_route_reveals_a_server_path(tmp_path: Path, test_data: Path) -> None:
    tiny_folder = resolve_model("tiny.en", tmp_path / "cache")
    assert Path(tiny_folder).is_dir()
    settings = make_settings(tmp_path, classify_model=tmp_path / "kws" / "missing.pt",
                             asr_models=["tiny.en", tiny_folder], max_audio_seconds=20.0)
    wav = (test_data / "yes.wav").read_bytes()
    jfk = (test_data / "jfk.flac").read_bytes()
    responses = []
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        def post(route: str, **kwargs: object) -> None:
            responses.append(client.post(route, **kwargs))  # type: ignore[arg-type]

        for route in ("/health", "/ready", "/models", "/models/loaded", "/languages",
                      "/metrics", "/openapi.json", "/voices", "/nope", "/outputs/abc",
                      "/outputs/..%2F..%2Fetc%2Fpasswd", "/outputs/" + "a" * 32):
            responses.append(client.get(route))
        folder_name = Path(tiny_folder).name
        post("/transcribe", files={"file": ("yes.wav", wav, "audio/wav")})
        post("/transcribe", files={"file": ("yes.wav", wav, "audio/wav")},
             data={"model": folder_name, "word_timestamps": "true"})
        post("/transcribe", files={"file": ("/etc/passwd", b"root:x:0:0", "audio/wav")})
        post("/transcribe", files={"file": ("jfk.flac", jfk + jfk, "audio/flac")})
        post("/transcribe", files={"file": ("x.wav", wav, "audio/wav")},
             data={"model": tiny_folder})
        post("/transcribe", files={"file": ("x.wav", wav, "audio/wav")}, data={"language": "xx"})
        post("/transcribe", files={"file": ("x.wav", b"", "audio/wav")})
        for fmt in ("json", "verbose_json", "srt"):
            post("/v1/audio/transcriptions", files={"file": ("a.flac", jfk, "audio/flac")},
                 data={"model": "whisper-1", "response_format": fmt})
        post("/classify", files={"file": ("yes.wav", wav, "audio/wav")})
        post("/synthesize", json={"text": "Hello there."})
        post("/synthesize", json={"text": "Hi.", "voice": "../../../etc/passwd"})
        post("/clone-voice", data={"text": "Hi."},
             files={"reference": ("r.wav", b"RIFFjunk", "audio/wav")})
        post("/voices", data={"name": "x"}, files={"reference": ("r.wav", wav, "audio/wav")})
        post("/v1/audio/speech", json={"model": "tts-1", "input": "Hi.", "voice": "alloy",
                                       "response_format": "wav"})
        post("/models/asr.faster-whisper:tiny.en/load")
        post(f"/models/asr.faster-whisper:{folder_name}/load")
        post("/models/..%2F..%2Fetc/load")
        responses.append(client.delete("/models/asr.faster-whisper:nope"))
        responses.append(client.delete("/voices/..%2F..%2Fetc"))
    # Good and bad answers were both swept, server-side failures too (the misconfigured
    # keyword model).
    codes = {r.status_code for r in responses}
    assert {200, 400, 404, 415, 422} <= codes and any(code >= 500 for code in codes)
    forbidden = {str(tmp_path), str(ROOT), sys.prefix, str(Path.home()), "/tmp/",
                 str(Path(tiny_folder).parent), "site-packages"}
    for resp in responses:
        seen = resp.text + " " + " ".join(f"{k}: {v}" for k, v in resp.headers.items())
        for path in forbidden:
            assert path not in seen, (resp.request.url, resp.status_code, seen[:400])


@pytest.mark.parametrize("message,expected", [
    ("cannot load '/srv/models/tiny.en': gone", "cannot load 'tiny.en': gone"),
    ("see https://huggingface.co/openai/whisper-tiny", "see https://huggingface.co/openai/"
                                                      "whisper-tiny"),
    ("openai/whisper-tiny is a hub id", "openai/whisper-tiny is a hub id"),
    ("No such file: /tmp/earful-req-1-x/upload.wav.", "No such file: upload.wav."),
])
def test_scrub_paths(message: str, expected: str) -> None:
    from earful.service.errors import scrub_paths

    assert scrub_paths(message) == expected
