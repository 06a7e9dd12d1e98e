"""Model management routes, checks made before any upload is read, and the API's schemas
and error docs kept in step with the code they describe."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from earful.models import manager
from earful.service.app import create_app
from tests.service.conftest import make_settings

TINY = "asr.faster-whisper:tiny.en"


def loaded_ids(client: TestClient) -> set[str]:
    resp = client.get("/models/loaded")
    assert resp.status_code == 200
    return {m["id"] for m in resp.json()["models"]}


def test_model_unloaded_after_ttl_and_loaded_again(tmp_path: Path, test_data: Path) -> None:
    manager.clear()
    app = create_app(make_settings(tmp_path, model_ttl_seconds=1.0))
    with TestClient(app) as client:
        clip = (test_data / "yes.wav").read_bytes()
        first = client.post("/transcribe", files={"file": ("yes.wav", clip, "audio/wav")})
        assert first.status_code == 200 and first.json()["text"]
        info = {m["id"]: m for m in client.get("/models/loaded").json()["models"]}
        assert info[TINY]["in_use"] == 0 and info[TINY]["memory_mb_estimate"] >= 0
        assert "/" not in info[TINY]["name"]  # a name, never the model's folder
        deadline = time.monotonic() + 20
        while TINY in loaded_ids(client) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert TINY not in loaded_ids(client)  # the background sweep let it go
        again = client.post("/transcribe", files={"file": ("yes.wav", clip, "audio/wav")})
        assert again.status_code == 200 and again.json()["text"] == first.json()["text"]
        assert TINY in loaded_ids(client)
    manager.configure(ttl_seconds=0)


def test_load_and_unload_by_id(tmp_path: Path) -> None:
    manager.clear()
    with TestClient(create_app(make_settings(tmp_path, model_ttl_seconds=0))) as client:
        resp = client.post(f"/models/{TINY}/load")
        assert resp.status_code == 200 and resp.json()["model"]["id"] == TINY
        assert TINY in loaded_ids(client)
        assert client.delete(f"/models/{TINY}").json() == {"unloaded": TINY}
        assert TINY not in loaded_ids(client)
        missing = client.delete(f"/models/{TINY}")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"
        unknown = client.post("/models/asr.faster-whisper:large-v9/load")
        assert unknown.status_code == 404 and TINY in unknown.json()["error"]["message"]


def test_model_routes_need_the_api_key(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, api_key="s3cret"))) as client:
        for method, path in (("get", "/models/loaded"), ("post", f"/models/{TINY}/load"),
                             ("delete", f"/models/{TINY}")):
            assert getattr(client, method)(path).status_code == 401
        ok = client.get("/models/loaded", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


@pytest.mark.parametrize("form,match", [
    ({"language": "xx"}, "unknown language"),
    ({"language": "fr"}, "English-only"),
    ({"model": "../../etc/passwd"}, "unknown model"),
])
def test_bad_language_or_model_fails_before_the_upload_is_decoded(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, form: dict[str, str],
        match: str) -> None:
    from earful.service import core

    def no_decoding(*args: object, **kwargs: object) -> None:
        pytest.fail("the upload was decoded")

    monkeypatch.setattr(core, "probe_audio", no_decoding)
    resp = client.post("/transcribe", files={"file": ("x.wav", b"RIFF", "audio/wav")},
                       data=form)
    assert resp.status_code == 422 and match in resp.json()["error"]["message"]


def test_language_by_name_and_the_language_list(client: TestClient, test_data: Path) -> None:
    langs = client.get("/languages").json()
    assert langs["en"] == "english" and len(langs) == 100
    resp = client.post("/transcribe", data={"language": "English"},
                       files={"file": ("yes.wav", (test_data / "yes.wav").read_bytes(),
                                       "audio/wav")})
    assert resp.status_code == 200 and resp.json()["language"] == "en"


def test_response_schemas_match_the_result_dataclasses() -> None:
    from earful.asr.result import Segment, Transcript, Word
    from earful.service.schemas import SegmentOut, TranscriptionOut, WordOut

    def names(cls: type) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}

    assert set(WordOut.model_fields) == names(Word)
    assert set(SegmentOut.model_fields) == names(Segment)
    assert names(Transcript) <= set(TranscriptionOut.model_fields)


def test_openapi_errors_come_from_the_status_table(client: TestClient) -> None:
    from earful.service.errors import FRAMEWORK_STATUS, STATUS

    documented = client.get("/openapi.json").json()["paths"]["/transcribe"]["post"]["responses"]
    expected = {str(code) for _, code in STATUS} | {str(c) for c in FRAMEWORK_STATUS}
    assert expected <= set(documented)
    assert "audio_too_long" in documented["413"]["description"]
