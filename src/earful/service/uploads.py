"""Staging uploads: checked content type, bounded size, fixed safe names, always removed."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastapi import UploadFile

from earful.audio.io import AUDIO_EXTENSIONS
from earful.errors import PayloadTooLargeError, UnsupportedMediaTypeError

#: Declared types accepted besides ``audio/*``: browsers label recordings video/webm or
#: video/mp4, and many clients send no type or a generic one.
EXTRA_TYPES = frozenset({"video/webm", "video/mp4", "video/ogg", "application/octet-stream",
                         "application/ogg", ""})
#: File extensions kept on the staged copy (helps FFmpeg probe); anything else is dropped:
#: earful's audio extensions plus the other names OpenAI's transcription route accepts.
KNOWN_SUFFIXES = AUDIO_EXTENSIONS | {".oga", ".mpga", ".mpeg"}
CHUNK = 1 << 20
#: Request folders are named with the serving process's id, so a restarted server can tell
#: its dead predecessor's leftovers from a live neighbour's.
PREFIX = "earful-req-"
_OWNER = re.compile(rf"^{PREFIX}(\d+)-")

logger = logging.getLogger(__name__)


def check_content_type(upload: UploadFile) -> None:
    """Refuse uploads whose declared type is clearly not audio (415)."""
    ctype = (upload.content_type or "").split(";")[0].strip().lower()
    if not (ctype.startswith("audio/") or ctype in EXTRA_TYPES):
        raise UnsupportedMediaTypeError(f"unsupported content type '{ctype}': send audio "
                                        "(wav, flac, mp3, ogg, opus, m4a, webm)")


@contextlib.contextmanager
def request_dir(root: Path | None) -> Iterator[Path]:
    """A private folder for one request's files, removed on every exit path."""
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_stale(root: Path | None) -> int:
    """Remove request folders left by server processes that no longer run (a ``kill -9``
    mid-request); returns how many. Run at start-up."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    removed = 0
    for folder in base.glob(f"{PREFIX}*") if base.is_dir() else []:
        owner = _OWNER.match(folder.name)
        if owner and folder.is_dir() and not _alive(int(owner.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("removed %d staged upload folder(s) left by a stopped server", removed)
    return removed


async def stage_upload(upload: UploadFile, folder: Path, max_bytes: int) -> Path:
    """Copy an upload into ``folder`` under a fixed name; the client's name is never a path.

    Only a known audio extension from the client's file name is kept (lower-cased).
    """
    check_content_type(upload)
    suffix = Path(upload.filename or "").suffix.lower()
    dest = folder / ("upload" + (suffix if suffix in KNOWN_SUFFIXES else ""))
    written = 0
    with open(dest, "wb") as out:
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise PayloadTooLargeError(f"the upload is larger than the "
                                           f"{max_bytes / 1e6:g} MB limit")
            out.write(chunk)
    return dest
