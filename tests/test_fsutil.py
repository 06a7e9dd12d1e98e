"""Atomic writes never leave a partial file; safe names cannot escape a folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from earful.fsutil import atomic_write, safe_stem


def test_atomic_write_replaces_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(dest) as fh:
        fh.write("half of the new content")
        raise RuntimeError("interrupted")
    assert dest.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]
    with atomic_write(dest) as fh:
        fh.write("new")
    assert dest.read_text() == "new" and os.listdir(tmp_path) == ["out.txt"]
    assert oct(dest.stat().st_mode & 0o777) != oct(0o600)


@pytest.mark.parametrize("name", ["../../etc/passwd.wav", "..", ".hidden", "a/b\\c.wav",
                                  "x" * 500 + ".wav", "ünïcødé name.mp3", ""])
def test_safe_stem(name: str) -> None:
    stem = safe_stem(name)
    assert stem and "/" not in stem and "\\" not in stem and not stem.startswith(".")
    assert len(stem) <= 100
