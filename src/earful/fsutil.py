"""Small filesystem helpers shared by every writer: atomic writes and safe names."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_SAFE_STEM = re.compile(r"[^A-Za-z0-9._-]+")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **kwargs: object) -> Iterator[IO]:
    """Open a temporary file next to ``path`` and rename it over ``path`` on success.

    An exception (or an interrupt) inside the block removes the temporary file, so a reader
    never sees a half-written output under the final name.

    Args:
        path: Final destination.
        mode: ``"w"`` for text or ``"wb"`` for bytes.
        **kwargs: Passed to :func:`open` (for example ``encoding``).

    Yields:
        The open temporary file.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    # mkstemp creates 0600 files; give the output the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
        with open(tmp, mode, **kwargs) as fh:  # type: ignore[call-overload]
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def safe_stem(name: str, max_len: int = 100) -> str:
    """Return a file-name stem built from ``name`` that cannot escape a folder.

    Only letters, digits, ``.``, ``_`` and ``-`` survive; leading dots are dropped so the
    result is never ``..`` or a hidden file.
    """
    stem = _SAFE_STEM.sub("_", Path(name).stem).lstrip(".")[:max_len]
    return stem or "audio"
