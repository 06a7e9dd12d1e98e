"""The service through create_app with the real tiny.en model."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from earful.audio.io import encode_audio, load_audio
from earful.audio.transforms import add_noise
from tests.service.conftest import make_settings


def wav(samples: np.ndarray, sr: int = 16000, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def post(client: TestClient, data: bytes, name: str = "clip.wav", ctype: str = "audio/wav",
         route: str = "/transcribe", **form: str):  # type: ignore[no-untyped-def]
    return client.post(route, files={"file": (name, data, ctype)}, data=form)


def assert_error(resp, status: int, kind: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "request_id"}
    assert body["error"]["message"] and body["error"]["request_id"] == \
        resp.headers["x-request-id"]
    if kind:
        assert body["error"]["type"] == kind
    return body["error"]


def test_health_ready_models_metrics_docs(client: TestClient, test_data: Path) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/transcribe", "/v1/audio/transcriptions", "/classify"} <= set(spec["paths"])
    assert post(client, (test_data / "yes.wav").read_bytes()).status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    models = client.get("/models").json()
    assert {m["id"] for m in models["asr"]} == {"tiny.en", "base"}
    text = client.get("/metrics").text
    assert 'earful_requests_total{method="POST",route="/transcribe",status="200"}' in text
    assert "earful_queue_depth" in text and "earful_request_seconds_bucket" in text


def test_transcribe_jfk_with_words(client: TestClient, test_data: Path) -> None:
    resp = post(client, (test_data / "jfk.m4a").read_bytes(), "jfk.m4a", "audio/mp4",
                word_timestamps="true")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "ask not what your country can do for you" in body["text"].lower()
    assert body["language"] == "en" and body["duration"] == pytest.approx(11.0, abs=0.01)
    assert body["model"] == "tiny.en" and body["processing_seconds"] > 0
    assert body["request_id"] == resp.headers["x-request-id"]
    assert body["segments"][0]["words"][0]["word"].strip()


@pytest.mark.parametrize("fmt,ctype", [("wav", "audio/wav"), ("flac", "audio/flac"),
                                       ("mp3", "audio/mpeg"), ("ogg", "audio/ogg"),
                                       ("opus", "audio/opus"), ("webm", "video/webm"),
                                       ("m4a", "")])
def test_every_format(client: TestClient, test_data: Path, fmt: str, ctype: str) -> None:
    resp = post(client, (test_data / f"jfk.{fmt}").read_bytes(), f"jfk.{fmt}", ctype)
    assert resp.status_code == 200 and "fellow americans" in resp.json()["text"].lower()


@pytest.mark.parametrize("snr", [20, 10, 0])
def test_noisy_versions(client: TestClient, test_data: Path, snr: int) -> None:
    noisy = add_noise(load_audio(test_data / "jfk.wav"), snr, "pink", seed=1)
    resp = post(client, encode_audio(noisy, 16000, "flac"), "noisy.flac", "audio/flac")
    assert resp.status_code == 200
    if snr >= 10:
        assert "country" in resp.json()["text"].lower()


def test_real_speakers_and_lengths(client: TestClient, shared_data: Path) -> None:
    libri = sorted((shared_data / "speech" / "librispeech_test_other").rglob("*.flac"))
    picks = [libri[0], libri[len(libri) // 2], libri[-1],
             sorted((shared_data / "speech" / "read_speech").glob("*.flac"))[0]]
    for f in picks:
        resp = post(client, f.read_bytes(), f.name, "audio/flac")
        assert resp.status_code == 200 and len(resp.json()["text"].split()) >= 3
    # several minutes: 20 read sentences joined
    long = np.concatenate([load_audio(f) for f in sorted(
        (shared_data / "speech" / "read_speech").glob("*.flac"))[:20]])
    resp = post(client, encode_audio(long, 16000, "flac"), "long.flac", "audio/flac")
    assert resp.status_code == 200 and resp.json()["duration"] > 60 \
        if len(long) / 16000 <= 60 else resp.status_code == 413


def test_silence_is_valid_and_empty(client: TestClient) -> None:
    resp = post(client, wav(np.zeros(3 * 16000, np.float32)))
    assert resp.status_code == 200 and resp.json()["text"] == ""


def _truncated_header() -> bytes:
    return wav(np.zeros(1600, np.float32))[:30]


BAD = [
    ("empty", b"", "audio/wav", 400, "audio_decode_error"),
    ("text renamed .wav", b"hello, I am a text file\n" * 20, "audio/wav", 415,
     "unsupported_format"),
    ("random bytes", np.random.default_rng(0).bytes(8000), "audio/wav", 415,
     "unsupported_format"),
    ("truncated header", _truncated_header(), "audio/wav", 415, "unsupported_format"),
    ("zero samples", wav(np.zeros(0, np.float32)), "audio/wav", 400, "audio_decode_error"),
    ("NaN and inf", wav(np.array([0.1, np.nan, np.inf] * 1000, np.float32), subtype="FLOAT"),
     "audio/wav", 400, "audio_decode_error"),
    ("text content type", b"RIFF....", "text/plain", 415, "unsupported_media_type"),
    ("image content type", b"\x89PNG....", "image/png", 415, "unsupported_media_type"),
]


@pytest.mark.parametrize("name,data,ctype,status,kind", BAD, ids=[b[0] for b in BAD])
def test_bad_input_corpus(client: TestClient, test_data: Path, name: str, data: bytes,
                          ctype: str, status: int, kind: str) -> None:
    for route in ("/transcribe", "/classify", "/v1/audio/transcriptions"):
        form = {"model": "whisper-1"} if route.startswith("/v1") else {}
        err = assert_error(post(client, data, "bad.wav", ctype, route, **form), status, kind)
        assert "earful-req-" not in err["message"]  # no internal staging path leaks out
    # and the server still serves
    assert post(client, (test_data / "digit_7.wav").read_bytes()).status_code == 200


def test_unusual_but_valid_audio(client: TestClient) -> None:
    tiny = wav(0.1 * np.sin(np.arange(160) / 3).astype(np.float32))  # 10 ms
    assert post(client, tiny).status_code == 200
    t = np.arange(96000 // 2) / 96000
    multi = np.stack([0.1 * np.sin(2 * np.pi * 300 * (c + 1) * t) for c in range(8)], axis=1)
    resp = post(client, wav(multi.astype(np.float32), 96000))
    assert resp.status_code == 200 and resp.json()["duration"] == pytest.approx(0.5, abs=0.01)


def test_missing_or_wrong_fields(client: TestClient, test_data: Path) -> None:
    data = (test_data / "yes.wav").read_bytes()
    err = assert_error(client.post("/transcribe", files={"audio": ("a.wav", data, "audio/wav")}),
                       422, "validation_error")
    assert "file" in err["message"]
    assert_error(post(client, data, model="large-v9"), 422, "invalid_option")
    assert_error(post(client, data, model="../../etc/passwd"), 422, "invalid_option")
    assert_error(post(client, data, language="xx"), 422, "invalid_option")
    assert_error(post(client, data, model="base", language="klingon"), 422, "invalid_option")
    assert_error(post(client, data, route="/classify", top_k="0"), 422, "validation_error")
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.get("/transcribe"), 405, "method_not_allowed")


def test_non_utf8_form_value(client: TestClient, test_data: Path) -> None:
    data = (test_data / "yes.wav").read_bytes()
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\n"
            ).encode() + b"\xff\xfe\xfa" + (
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    resp = client.post("/transcribe", content=body,
                       headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert 400 <= resp.status_code < 500
    assert_error(resp, resp.status_code)


@pytest.mark.parametrize("filename", ["../../etc/passwd.wav", "/etc/passwd", "a" * 1000 + ".wav",
                                      "x\x00y.wav", "..", "ünï cødé.flac"])
def test_hostile_file_names(client: TestClient, test_data: Path, staging: Path,
                            filename: str) -> None:
    resp = post(client, (test_data / "yes.wav").read_bytes(), filename)
    assert resp.status_code == 200
    assert not list((staging / "staging").iterdir())


def test_absurdly_long_file_name_is_a_clean_400(client: TestClient, test_data: Path) -> None:
    # The multipart parser refuses a part header this large; the client gets our error shape.
    err = assert_error(post(client, (test_data / "yes.wav").read_bytes(), "a" * 5000 + ".wav"),
                       400)
    assert "multipart" in err["message"]


def test_limits(staging: Path, test_data: Path) -> None:
    from earful.service.app import create_app

    app = create_app(make_settings(staging, max_upload_mb=0.1, max_audio_seconds=5.0))
    with TestClient(app) as c:
        err = assert_error(post(c, (test_data / "jfk.wav").read_bytes()), 413,
                           "payload_too_large")
        assert "0.1 MB" in err["message"]
        err = assert_error(post(c, (test_data / "jfk.mp3").read_bytes(), "jfk.mp3",
                                "audio/mpeg"), 413, "audio_too_long")
        assert "11.0 s" in err["message"] and "5.0 s" in err["message"]
        assert post(c, (test_data / "yes.wav").read_bytes()).status_code == 200


def test_streamed_body_without_length_is_cut_off(staging: Path) -> None:
    from earful.service.app import create_app

    app = create_app(make_settings(staging, max_upload_mb=0.1))
    boundary = "b0undary"

    def body():  # type: ignore[no-untyped-def]
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode()
        for _ in range(100):  # 1.6 MB in 16 kB chunks, no Content-Length header
            yield b"\0" * 16_000

    with TestClient(app) as c:
        resp = c.post("/transcribe", content=body(),
                      headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert_error(resp, 413, "payload_too_large")


def test_temp_files_are_always_removed(client: TestClient, staging: Path,
                                       test_data: Path) -> None:
    folder = staging / "staging"
    before = sorted(os.listdir(folder)) if folder.exists() else []
    for _ in range(2):
        post(client, (test_data / "yes.wav").read_bytes())
        for _, data, ctype, _, _ in BAD:
            post(client, data, "bad.wav", ctype)
        post(client, (test_data / "yes.wav").read_bytes(), route="/classify")
    assert sorted(os.listdir(folder)) == before == []


def test_api_key_and_cors(staging: Path, test_data: Path) -> None:
    from earful.service.app import create_app

    app = create_app(make_settings(staging, api_key="s3cret", cors_origins=["http://ui.test"]))
    data = (test_data / "yes.wav").read_bytes()
    with TestClient(app) as c:
        assert c.get("/health").status_code == 200
        assert_error(c.get("/models"), 401, "unauthorized")
        assert_error(post(c, data), 401)
        assert_error(c.get("/models", headers={"Authorization": "Bearer wrong"}), 401)
        ok = c.get("/models", headers={"Authorization": "Bearer s3cret",
                                       "Origin": "http://ui.test"})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "http://ui.test"
    with TestClient(create_app(make_settings(staging))) as c:
        resp = c.get("/health", headers={"Origin": "http://ui.test"})
        assert "access-control-allow-origin" not in resp.headers
