"""Fixtures for running tests/tts/test_xtts.py on the device machine with --noconftest.

The TTS conftest skips the whole folder without Piper and its 60 MB voice, which do not
travel; these are the two fixtures test_xtts.py uses, as tests/conftest.py and
tests/tts/conftest.py define them.
"""
from pathlib import Path
from typing import Any

import pytest

TEST_DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture(scope="session")
def jfk_reference(test_data: Path) -> Any:
    from earful.tts.reference import load_reference

    return load_reference(test_data / "jfk.flac")
