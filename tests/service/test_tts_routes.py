"""Speech routes through create_app with the real Piper voice and offline cloning engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from earful.audio.io import decode
from earful.service.app import create_app
from tests.service.conftest import LiveServer, make_settings
from tests.service.test_routes import assert_error

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'earful[tts]')")
pytest.importorskip("pyworld", reason="pyworld is not installed (pip install 'earful[tts]')")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tts")


@pytest.fixture(scope="module")
def tts(root: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(root, voice_store=root / "voices", max_text_chars=500,
                                   clone_enrol_steps=2))
    with TestClient(app) as c:
        yield c


def reference(test_data: Path) -> dict[str, tuple[str, bytes, str]]:
    return {"reference": ("jfk.flac", (test_data / "jfk.flac").read_bytes(), "audio/flac")}


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_synthesize_formats(tts: TestClient, root: Path, fmt: str) -> None:
    resp = tts.post("/synthesize", json={"text": "Hello from earful.", "format": fmt})
    assert resp.status_code == 200, resp.text
    audio = decode(resp.content, None)
    assert audio.sample_rate == 22050 and 0.7 < audio.duration < 3.0
    assert float(resp.headers["x-audio-duration"]) == pytest.approx(audio.duration, abs=0.1)
    out = root / "outputs" / resp.headers["x-output-id"]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["text"] == "Hello from earful." and meta["engine"] == "piper"
    assert meta["request_id"] == resp.headers["x-request-id"]
    assert (out / f"audio.{fmt}").read_bytes() == resp.content
    fetched = tts.get(f"/outputs/{resp.headers['x-output-id']}")
    assert fetched.status_code == 200 and fetched.content == resp.content


def test_synthesize_errors(tts: TestClient) -> None:
    assert_error(tts.post("/synthesize", json={"text": " \n "}), 422, "invalid_option")
    err = assert_error(tts.post("/synthesize", json={"text": "a" * 501}), 413)
    assert "501 characters" in err["message"]
    assert_error(tts.post("/synthesize", json={"text": "hi", "voice": "../../etc/passwd"}), 404)
    assert_error(tts.post("/synthesize", json={"text": "hi", "format": "exe"}), 422)
    assert_error(tts.post("/synthesize", json={"text": "hi", "speed": 9}), 422)


def test_clone_voice_with_a_reference(tts: TestClient, test_data: Path) -> None:
    resp = tts.post("/clone-voice", data={"text": "Ask not what your country can do.",
                                          "engine": "offline"}, files=reference(test_data))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "audio/wav"
    assert resp.headers["x-engine"] == "offline" and resp.headers["x-output-id"]
    audio = decode(resp.content, None)
    assert 1.0 < audio.duration < 5.0 and np.abs(audio.samples).max() > 0.05
    if tts.get("/voices").json()["kokoro"]:
        # the default engine
        resp = tts.post("/clone-voice", data={"text": "Ask not what your country can do.",
                                              "score": "true"}, files=reference(test_data))
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-engine"] == "kokoro"
        assert 0.3 < float(resp.headers["x-speaker-similarity"]) < 1.0
        assert_error(tts.post("/clone-voice", data={"text": "x", "engine": "kokoro",
                                                    "language": "de"},
                              files=reference(test_data)), 422)


def test_clone_voice_errors(tts: TestClient, test_data: Path) -> None:
    short = {"reference": ("yes.wav", (test_data / "yes.wav").read_bytes(), "audio/wav")}
    err = assert_error(tts.post("/clone-voice", data={"text": "hi"}, files=short), 422,
                       "invalid_reference")
    assert "1.00 s long" in err["message"]
    junk = {"reference": ("r.wav", b"not audio at all" * 64, "audio/wav")}
    err = assert_error(tts.post("/clone-voice", data={"text": "hi"}, files=junk), 415)
    assert "earful-req" not in err["message"] and "/tmp" not in err["message"]
    text = {"reference": ("r.txt", b"hello", "text/plain")}
    assert_error(tts.post("/clone-voice", data={"text": "hi"}, files=text), 415)
    assert_error(tts.post("/clone-voice", data={"text": "hi"}), 422)
    assert_error(tts.post("/clone-voice", data={"text": "hi", "voice_id": "0123456789ab"}),
                 404)
    assert_error(tts.post("/clone-voice", data={"text": "hi", "engine": "magic"},
                          files=reference(test_data)), 422)
    assert_error(tts.post("/clone-voice", data={"text": "bonjour", "language": "fr"},
                          files=reference(test_data)), 422)


def test_xtts_without_coqui_is_503(tts: TestClient, test_data: Path) -> None:
    try:
        import TTS.tts.models.xtts  # noqa: F401
        pytest.skip("coqui-tts imports here; the 503 path is for machines without it")
    except Exception:
        pass
    err = assert_error(tts.post("/clone-voice", data={"text": "hi", "engine": "xtts"},
                                files=reference(test_data)), 503, "dependency_missing")
    assert "coqui-tts" in err["message"]


def test_saved_voices(tts: TestClient, test_data: Path) -> None:
    made = tts.post("/voices", data={"name": "Kennedy"}, files=reference(test_data))
    assert made.status_code == 201, made.text
    vid = made.json()["id"]
    assert vid in [v["id"] for v in tts.get("/voices").json()["saved"]]
    assert tts.get("/voices").json()["piper"][0]["sample_rate"] == 22050
    resp = tts.post("/clone-voice", data={"text": "Saved voices work.", "voice_id": vid,
                                          "format": "flac", "score": "true"})
    assert resp.status_code == 200 and resp.headers["x-voice"] == vid
    similarity = float(resp.headers["x-speaker-similarity"])
    assert 0.3 < similarity < 1.0
    meta = tts.get(f"/outputs/{resp.headers['x-output-id']}/metadata").json()
    assert meta["speaker_similarity"] == pytest.approx(similarity, abs=1e-4)
    if tts.get("/voices").json()["kokoro"]:
        # saving enrolled a Kokoro style: OpenAI's route clones with it under tts-1-hd (by
        # id or by name), while a bundled Kokoro voice stays plain Kokoro
        for voice in (vid, "Kennedy"):
            spoken = tts.post("/v1/audio/speech", json={
                "model": "tts-1-hd", "input": "Saved voices work.", "voice": voice,
                "response_format": "wav"})
            assert spoken.status_code == 200, spoken.text
            assert (spoken.headers["x-engine"], spoken.headers["x-voice"]) == ("kokoro", vid)
        plain = tts.post("/v1/audio/speech", json={"model": "kokoro", "input": "Plain.",
                                                   "voice": "jf_alpha", "response_format": "wav"})
        assert (plain.headers["x-engine"], plain.headers["x-voice"]) == ("kokoro", "jf_alpha")
    assert_error(tts.post("/voices", data={"name": "Kennedy"}, files=reference(test_data)),
                 422)
    assert tts.delete(f"/voices/{vid}").json() == {"deleted": vid}
    assert_error(tts.delete(f"/voices/{vid}"), 404)
    assert_error(tts.delete("/voices/..%2F..%2Fetc"), 404)


def test_outputs_are_not_paths(tts: TestClient) -> None:
    for bad in ("..%2F..%2Fetc%2Fpasswd", "0" * 32, "metadata.json"):
        assert tts.get(f"/outputs/{bad}").status_code == 404


def test_openai_speech_with_the_official_client(tmp_path: Path) -> None:
    openai = pytest.importorskip("openai", reason="the OpenAI client is in the dev extra")
    with LiveServer(make_settings(tmp_path, voice_store=tmp_path / "voices")) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        mp3 = client.audio.speech.create(model="tts-1", voice="alloy",
                                         input="The official client works.")
        assert 1.0 < decode(mp3.content, None).duration < 4.0
        pcm = client.audio.speech.create(model="tts-1", voice="nova", input="Raw samples.",
                                         response_format="pcm", speed=1.5)
        samples = np.frombuffer(pcm.content, dtype="<i2")
        assert 0.4 < samples.size / 24000 < 2.0 and np.abs(samples).max() > 1000
        with pytest.raises(openai.UnprocessableEntityError):
            client.audio.speech.create(model="tts-1", voice="alloy", input="x",
                                       response_format="exe")  # type: ignore[arg-type]


def test_a_known_kokoro_style_is_not_counted_as_enrolment_work(tts: TestClient,
                                                               test_data: Path) -> None:
    # Admission sizes a Kokoro clone by the enrolment it may need: a reference it has
    # already enrolled (cached) or a saved voice with a stored style needs none, and must
    # not look like a minute of work that turns other requests away.
    import asyncio

    from earful.audio.io import encode_audio, load_audio
    from earful.service.routes_tts import _setup_seconds as setup
    from earful.tts.reference import check_reference

    def _setup_seconds(*args: Any, **kwargs: Any) -> float:
        return asyncio.run(setup(*args, **kwargs))

    if not tts.get("/voices").json()["kokoro"]:
        pytest.skip("Kokoro is not installed")
    svc = tts.app.state.service  # type: ignore[attr-defined]
    samples = load_audio(test_data / "jfk.flac")[: 7 * 16000]  # a reference no test used
    ref = check_reference(samples, 16000)
    assert _setup_seconds("offline", svc, reference=ref) == 0.0
    assert _setup_seconds("kokoro", svc, reference=ref) > 30.0
    upload = {"reference": ("jfk7.wav", encode_audio(samples, 16000, "wav"), "audio/wav")}
    resp = tts.post("/clone-voice", data={"text": "Once.", "engine": "kokoro"}, files=upload)
    assert resp.status_code == 200, resp.text
    assert _setup_seconds("kokoro", svc, reference=ref) == 0.0
    saved = tts.post("/voices", data={"name": "Seven seconds"}, files=upload)
    assert saved.status_code == 201, saved.text
    assert _setup_seconds("kokoro", svc, voice_id=saved.json()["id"]) == 0.0
    assert _setup_seconds("kokoro", svc, voice_id="no-such-voice") > 30.0
