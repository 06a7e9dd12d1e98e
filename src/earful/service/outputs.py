"""Saved outputs: one folder per request with the audio and a ``metadata.json``.

Folders are written under a temporary name and renamed when complete, so a listed output is
never partial. A retention policy removes folders older than a maximum age and, beyond a
maximum total size, the oldest first.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earful.errors import NotFoundError

logger = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg",
               "mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac",
               "m4a": "audio/mp4", "webm": "audio/webm", "pcm": "audio/L16"}


@dataclass(frozen=True)
class SavedOutput:
    """A complete output folder."""

    id: str
    """32 hex digits."""
    audio: Path
    """The audio file."""
    metadata: dict[str, Any]
    """What ``metadata.json`` holds."""

    @property
    def media_type(self) -> str:
        """The audio's MIME type."""
        return MEDIA_TYPES.get(self.audio.suffix.lstrip("."), "application/octet-stream")


class OutputStore:
    """Per-request output folders under ``root`` with age and size limits."""

    def __init__(self, root: Path, max_age_seconds: float, max_total_bytes: int) -> None:
        self.root = Path(root)
        self.max_age_seconds = max_age_seconds
        self.max_total_bytes = max_total_bytes
        self._lock = threading.Lock()

    def save(self, audio: bytes, fmt: str, metadata: dict[str, Any]) -> str:
        """Store one request's audio and metadata; returns the output id."""
        self.root.mkdir(parents=True, exist_ok=True)
        out_id = uuid.uuid4().hex
        tmp = Path(tempfile.mkdtemp(prefix=".part-", dir=self.root))
        try:
            (tmp / f"audio.{fmt}").write_bytes(audio)
            meta = {**metadata, "id": out_id, "format": fmt, "created": time.time(),
                    "bytes": len(audio)}
            (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
            tmp.rename(self.root / out_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.prune()
        return out_id

    def sweep_partials(self) -> int:
        """Remove every half-written ``.part-`` folder; returns how many. Run at start-up,
        when no request of this process can be writing one (a crash left them)."""
        removed = 0
        for folder in self.root.glob(".part-*") if self.root.is_dir() else []:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        if removed:
            logger.info("removed %d half-written output folder(s)", removed)
        return removed

    def get(self, out_id: str) -> SavedOutput:
        """A saved output by id (anything not shaped like an id is simply not found)."""
        folder = self.root / out_id if ID_PATTERN.match(out_id) else None
        meta_path = folder / "metadata.json" if folder else None
        if meta_path is None or not meta_path.is_file():
            raise NotFoundError(f"no output '{out_id[:40]}' (it may have expired)")
        meta = json.loads(meta_path.read_text())
        return SavedOutput(out_id, meta_path.parent / f"audio.{meta['format']}", meta)

    def _folders(self) -> list[tuple[float, int, Path]]:
        found = []
        for folder in self.root.iterdir() if self.root.is_dir() else []:
            if folder.is_dir() and (ID_PATTERN.match(folder.name)
                                    or folder.name.startswith(".part-")):
                try:
                    size = sum(f.stat().st_size for f in folder.iterdir())
                    found.append((folder.stat().st_mtime, size, folder))
                except FileNotFoundError:
                    continue
        return sorted(found)

    def prune(self, now: float | None = None) -> list[str]:
        """Apply the retention policy; returns the names of the folders removed.

        Leftover ``.part-`` folders (from a crash mid-write) count as expired once they are
        older than a minute.
        """
        now = time.time() if now is None else now
        removed: list[str] = []
        with self._lock:
            folders = self._folders()
            total = sum(size for _, size, _ in folders)
            for mtime, size, folder in folders:
                age = now - mtime
                if folder.name.startswith(".part-"):
                    if age <= 60:
                        continue  # another request is writing it
                elif age <= self.max_age_seconds and total <= self.max_total_bytes:
                    continue
                shutil.rmtree(folder, ignore_errors=True)
                total -= size
                removed.append(folder.name)
        if removed:
            logger.info("retention removed %d output folder(s)", len(removed))
        return removed
