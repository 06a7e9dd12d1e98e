"""The offline cloning engine end to end: real Piper, real WORLD, real speaker encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from earful.errors import InvalidOptionError, ReferenceAudioError, UnsupportedFormatError
from earful.tts.clone import CloneOptions
from earful.tts.reference import check_reference, load_reference
from earful.tts.store import VoiceStore
from earful.tts.synth import TtsConfig, clone, list_voices, save_voice, speak_text

TEXTS = ("Please call Stella and ask her to bring these things with her from the store.",
         "The boy was there when the sun rose.")


def test_reference_length_limits(test_data: Path) -> None:
    with pytest.raises(ReferenceAudioError, match=r"1\.00 s long; it must be at least 3 s"):
        load_reference(test_data / "yes.wav")
    long = np.tile(load_reference(test_data / "jfk.flac").samples, 3)
    with pytest.raises(ReferenceAudioError, match=r"33\.0\d s long; it must be at most 30 s"):
        check_reference(long, 22050)
    with pytest.raises(ReferenceAudioError, match="silent"):
        check_reference(np.zeros(5 * 16000, dtype=np.float32), 16000)


def test_undecodable_reference(tmp_path: Path) -> None:
    bad = tmp_path / "ref.wav"
    bad.write_bytes(b"RIFF" + b"\x00" * 100)
    with pytest.raises((ReferenceAudioError, UnsupportedFormatError)):
        load_reference(bad)


def test_offline_engine_is_english_only() -> None:
    with pytest.raises(InvalidOptionError, match="English only"):
        CloneOptions(engine="offline", language="fr")
    assert CloneOptions(engine="xtts", language="fr").language == "fr"


@pytest.mark.slow
def test_clone_sounds_more_like_the_reference_and_stays_intelligible(
        jfk_reference: Any, tts_config: TtsConfig) -> None:
    from earful.tts.evaluate import intelligibility
    from earful.tts.similarity import load_speaker_encoder, speaker_similarity

    enc = load_speaker_encoder()
    ref = (jfk_reference.samples, jfk_reference.sample_rate)
    plain = [speak_text(t, tts_config) for t in TEXTS]
    cloned = [clone(t, tts_config, CloneOptions(engine="offline"), reference=jfk_reference)
              for t in TEXTS]
    base = np.mean([speaker_similarity(enc, *ref, s.samples, s.sample_rate) for s in plain])
    conv = np.mean([speaker_similarity(enc, *ref, s.samples, s.sample_rate) for s in cloned])
    assert conv > base + 0.02, (base, conv)
    wer, heard = intelligibility(cloned)
    assert wer <= 0.15, heard
    assert all(s.engine == "offline" and s.voice == "reference" for s in cloned)


def test_saved_voice_round_trip(jfk_reference: Any, tts_config: TtsConfig,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    saved = save_voice("Kennedy", jfk_reference, tts_config)
    assert [v["id"] for v in list_voices(tts_config)["saved"]] == [saved["id"]]
    with monkeypatch.context() as m:
        # The stored profile is enough: the saved recording is not decoded again.
        m.setattr(VoiceStore, "reference", lambda *a: pytest.fail("reference decoded"))
        by_id = clone("Ask not.", tts_config, CloneOptions(engine="offline"), voice_id=saved["id"])
    by_name = clone("Ask not.", tts_config, CloneOptions(engine="offline"), voice_id="Kennedy")
    assert by_id.voice == by_name.voice == saved["id"]
    with pytest.raises(InvalidOptionError, match="either"):
        clone("x", tts_config, CloneOptions(engine="offline"))
