from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earful.errors import InvalidOptionError, NotFoundError
from earful.tts import store as store_mod
from earful.tts.store import VoiceStore


def test_add_find_remove(tmp_path: Path, jfk_reference: Any) -> None:
    store = VoiceStore(tmp_path)
    voice = store.add("Kennedy 1961", jfk_reference)
    assert store.find("Kennedy 1961") == voice == store.find(voice.id)
    assert abs(store.reference(voice.id).duration - 11.0) < 0.01
    assert store.profile(voice.id) is None
    with pytest.raises(InvalidOptionError, match="already exists"):
        store.add("Kennedy 1961", jfk_reference)
    assert store.remove("Kennedy 1961") == voice
    assert store.list() == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["../etc", "..", "/etc/passwd", "abc", "0" * 13])
def test_ids_never_become_paths(tmp_path: Path, key: str) -> None:
    store = VoiceStore(tmp_path)
    with pytest.raises(NotFoundError):
        store.reference(key)
    with pytest.raises(NotFoundError):
        store.remove(key)


@pytest.mark.parametrize("name", ["", "a/b", "../x", "x" * 65, "\x00"])
def test_bad_names(tmp_path: Path, jfk_reference: Any, name: str) -> None:
    with pytest.raises(InvalidOptionError):
        VoiceStore(tmp_path).add(name, jfk_reference)


def test_failed_save_leaves_nothing(tmp_path: Path, jfk_reference: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(store_mod, "save_audio", disk_full)
    with pytest.raises(OSError):
        VoiceStore(tmp_path).add("x", jfk_reference)
    assert list(tmp_path.iterdir()) == []
