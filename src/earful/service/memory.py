"""Keep a long-running server's memory where its work puts it, not where its peaks left it.

glibc's allocator gives each thread that contends for the heap an arena of its own (up to
8 per core) and rarely returns freed pages to the system. A server whose worker threads
decode, resample and synthesise large buffers in turn can ratchet its resident size up to
the sum of every thread's busiest moment. Two glibc calls bound that part:
``mallopt(M_ARENA_MAX)`` caps the number of arenas, and ``malloc_trim`` hands free pages
back. Both are no-ops on other C libraries. (They did not remove the soak benchmark's step
of about 15% to a plateau in its first five minutes: that step has another cause.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
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


def trim() -> bool:
    """Return free heap pages to the system; True if glibc released any."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
