"""Saved outputs: complete folders only, and the retention policy."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from earful.errors import NotFoundError
from earful.service.outputs import OutputStore


def test_save_and_get(tmp_path: Path) -> None:
    store = OutputStore(tmp_path, 3600, 10_000_000)
    out_id = store.save(b"RIFF....", "wav", {"text": "hi"})
    saved = store.get(out_id)
    assert saved.audio.read_bytes() == b"RIFF...." and saved.media_type == "audio/wav"
    assert saved.metadata["text"] == "hi" and saved.metadata["bytes"] == 8
    assert [p.name for p in tmp_path.iterdir()] == [out_id]
    for bad in ("../x", out_id[:-1], out_id + "/metadata.json"):
        with pytest.raises(NotFoundError):
            store.get(bad)


def _age(folder: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(folder, (then, then))


def test_retention_by_age_and_total_size(tmp_path: Path) -> None:
    store = OutputStore(tmp_path, max_age_seconds=3600, max_total_bytes=25_000)
    old = store.save(b"x" * 1000, "wav", {})
    _age(tmp_path / old, 7200)
    assert old in store.prune()
    ids = []
    for age in (300, 200, 100):
        ids.append(store.save(b"y" * 10_000, "wav", {}))
        _age(tmp_path / ids[-1], age)
    # A third 10 kB output pushes the total over 25 kB: the oldest one goes.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ids[1:])
    with pytest.raises(NotFoundError, match="expired"):
        store.get(ids[0])


def test_crashed_partial_folders_are_cleaned(tmp_path: Path) -> None:
    store = OutputStore(tmp_path, 3600, 10_000_000)
    fresh, stale = tmp_path / ".part-fresh", tmp_path / ".part-stale"
    for folder in (fresh, stale):
        folder.mkdir()
        (folder / "audio.wav").write_bytes(b"half")
    _age(stale, 120)
    assert store.prune() == [".part-stale"]
    assert fresh.exists()  # may be another request still writing
