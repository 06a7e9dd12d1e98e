"""``POST /v1/audio/diarization``, ``/transcribe`` with ``diarize=true`` and OpenAI's
``diarized_json`` on a real two-speaker conversation."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def talk(shared_data: Path) -> tuple[bytes, bytes]:
    """A two-speaker conversation (lo1998 then read speech, 16 kHz WAV) and a data-URL-
    ready clip of lo1998 that the conversation does not contain."""
    from earful.audio.io import load_audio
    from earful.diarize.simulate import load_pieces, simulate, speech_corpus

    corpus = speech_corpus(shared_data / "speech")
    pieces = {s: load_pieces(corpus[s][:3], s) for s in ("lo1998", "read")}
    audio, _ = simulate(pieces, np.random.default_rng(4))
    buf = io.BytesIO()
    sf.write(buf, audio, 16000, format="WAV", subtype="PCM_16")
    ref = io.BytesIO()
    sf.write(ref, load_audio(corpus["lo1998"][-1])[: 16000 * 6], 16000, format="WAV",
             subtype="PCM_16")
    return buf.getvalue(), ref.getvalue()


def test_diarization_route(client: TestClient, talk: tuple[bytes, bytes]) -> None:
    audio, _ = talk
    r = client.post("/v1/audio/diarization", files={"file": ("talk.wav", audio)},
                    data={"num_speakers": "2"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["speakers"] == ["SPEAKER_1", "SPEAKER_2"]
    assert all(t["end"] > t["start"] for t in body["turns"]) and body["request_id"]
    rttm = client.post("/v1/audio/diarization", files={"file": ("talk.wav", audio)},
                       data={"num_speakers": "2", "response_format": "rttm"})
    lines = rttm.text.splitlines()
    assert rttm.status_code == 200 and lines[0].startswith("SPEAKER talk 1 ")
    assert len(lines) == len(body["turns"])


@pytest.mark.parametrize("data", [{"num_speakers": "2", "min_speakers": "1"},
                                  {"response_format": "xml"},
                                  {"known_speaker_names[]": "Ann"},
                                  {"known_speaker_names[]": "Ann",
                                   "known_speaker_references[]": "data:audio/wav;base64,@@"}])
def test_diarization_refuses_bad_fields(client: TestClient, talk: tuple[bytes, bytes],
                                        data: dict[str, str]) -> None:
    r = client.post("/v1/audio/diarization", files={"file": ("talk.wav", talk[0])}, data=data)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["type"] == "invalid_option"


def test_unknown_saved_voice_is_404(client: TestClient, talk: tuple[bytes, bytes]) -> None:
    r = client.post("/v1/audio/diarization", files={"file": ("talk.wav", talk[0])},
                    data={"known_speaker_names[]": "Ann",
                          "known_speaker_references[]": "0123456789ab"})
    assert r.status_code == 404


def test_transcribe_with_speakers(client: TestClient, talk: tuple[bytes, bytes]) -> None:
    r = client.post("/transcribe", files={"file": ("talk.wav", talk[0])},
                    data={"diarize": "true", "num_speakers": "2"})
    assert r.status_code == 200, r.text
    segments = r.json()["segments"]
    assert {s["speaker"] for s in segments} == {"SPEAKER_1", "SPEAKER_2"}
    assert all("words" not in s or s["words"] is None for s in segments)
    plain = client.post("/transcribe", files={"file": ("talk.wav", talk[0])})
    assert all(s.get("speaker") is None for s in plain.json()["segments"])


def test_openai_diarized_json_names_known_speakers(client: TestClient,
                                                   talk: tuple[bytes, bytes]) -> None:
    audio, ref = talk
    url = "data:audio/wav;base64," + base64.b64encode(ref).decode()
    r = client.post("/v1/audio/transcriptions", files={"file": ("talk.wav", audio)},
                    data={"model": "whisper-1", "response_format": "diarized_json",
                          "known_speaker_names[]": "Ann", "known_speaker_references[]": url})
    assert r.status_code == 200, r.text
    body = r.json()
    speakers = {s["speaker"] for s in body["segments"]}
    assert "Ann" in speakers and len(speakers) == 2
    assert body["segments"][0]["type"] == "transcript.text.segment"
    assert all(s["text"] and s["end"] >= s["start"] for s in body["segments"])
