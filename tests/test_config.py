"""Settings read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from earful.config import Settings


def test_an_empty_variable_means_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EARFUL_DATA", "")
    monkeypatch.setenv("EARFUL_TEMP_DIR", "")
    monkeypatch.setenv("EARFUL_WORKERS", "")
    settings = Settings()
    assert settings.data is None and settings.temp_dir is None and settings.workers == 1
    monkeypatch.setenv("EARFUL_DATA", str(tmp_path))
    assert Settings().data == tmp_path
