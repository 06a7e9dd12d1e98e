"""Keep a long-running server's memory where its work puts it, not where its peaks left it.

glibc's allocator gives each thread that contends for the heap an arena of its own (up to
8 per core) and rarely returns freed pages to the system. A server whose worker threads
decode, resample and synthesise large buffers in turn can ratchet its resident size up to
the sum of every thread's busiest moment. Two glibc calls bound that part:
``mallopt(M_ARENA_MAX)`` caps the number of arenas, and ``malloc_trim`` hands free pages
back. Both are no-ops on other C libraries. A third cache sits below them: Intel MKL,
linked into CTranslate2's wheel, keeps the buffers of each thread that ran a matrix product
for reuse (its "fast memory manager"), and never hands them back to glibc.
:func:`limit_blas_caches` turns that off for the server. In the 10-minute soak
(``benchmarks/service_soak.py``) the server's idle RSS ended 1.5% above where it started
with the cache off, 9.6% above with it on (``MKL_DISABLE_FAST_MM=0``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # from glibc's malloc.h


@lru_cache(maxsize=1)
def _glibc() -> Any | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only: the attribute lookup is the check
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(count: int) -> bool:
    """Cap glibc's malloc arenas at ``count`` (0 leaves the default); True if applied."""
    libc = _glibc()
    if libc is None or count <= 0:
        return False
    ok = bool(libc.mallopt(_M_ARENA_MAX, count))
    logger.debug("malloc arenas capped at %d: %s", count, ok)
    return ok


def limit_blas_caches() -> None:
    """Ask Intel MKL not to keep per-thread buffers (``MKL_DISABLE_FAST_MM=1``) unless the
    environment already says otherwise. MKL reads it when first used, so this must run
    before the first model decodes; where MKL is absent it changes nothing."""
    os.environ.setdefault("MKL_DISABLE_FAST_MM", "1")


def trim() -> bool:
    """Return free heap pages to the system; True if glibc released any."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
