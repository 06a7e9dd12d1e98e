"""The server's allocator settings: arenas capped and free pages returned on glibc."""

from __future__ import annotations

import os
import platform

import numpy as np
import pytest

from earful.service import memory


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_arena_cap_and_trim_on_glibc() -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc arenas and malloc_trim are glibc's")
    assert memory.limit_arenas(0) is False  # 0 leaves glibc's default alone
    assert memory.limit_arenas(2) is True
    # 300 MB of 16 kB blocks with every 50th kept: freeing the rest leaves the heap's pages
    # resident (nothing at its top to shrink), until trim hands them back
    blocks = [np.ones(2000) for _ in range(20000)]
    keep = blocks[::50]
    del blocks
    before = rss_mb()
    assert memory.trim() is True
    assert rss_mb() < before - 150
    assert len(keep) == 400


def test_blas_cache_is_off_unless_the_environment_says_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MKL_DISABLE_FAST_MM", raising=False)
    memory.limit_blas_caches()
    assert os.environ["MKL_DISABLE_FAST_MM"] == "1"
    monkeypatch.setenv("MKL_DISABLE_FAST_MM", "0")  # an operator's own choice stays
    memory.limit_blas_caches()
    assert os.environ["MKL_DISABLE_FAST_MM"] == "0"


def test_the_app_turns_the_blas_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from earful.config import Settings
    from earful.service.app import create_app

    monkeypatch.delenv("MKL_DISABLE_FAST_MM", raising=False)
    create_app(Settings(preload=False))
    assert os.environ["MKL_DISABLE_FAST_MM"] == "1"
