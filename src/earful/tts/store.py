"""Saved voices: a reference recording (and its measured profile) under a generated id.

Nothing a client sends is used as a path: ids are generated here and must match
:data:`ID_PATTERN` before they are joined to the store's folder; names are display labels.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from earful.audio.io import decode, save_audio
from earful.errors import InvalidOptionError, NotFoundError
from earful.fsutil import atomic_write
from earful.tts.convert import VoiceProfile
from earful.tts.kokoro_style import StyleParams
from earful.tts.reference import Reference

ID_PATTERN = re.compile(r"^[0-9a-f]{12}$")
NAME_PATTERN = re.compile(r"^[\w][\w .'-]{0,63}$")


@dataclass(frozen=True)
class SavedVoice:
    """A saved cloning voice."""

    id: str
    """Generated identifier (12 hex digits)."""
    name: str
    """Display name given when it was saved."""
    created: float
    """Unix time it was saved."""
    reference_seconds: float
    """Length of its reference recording."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {**asdict(self), "engine": "clone"}


class VoiceStore:
    """A folder of saved voices: ``<id>/voice.json``, ``reference.flac``, ``profile.npz``
    (the offline engine's measurements), ``kokoro.npz`` (the Kokoro engine's style)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _folder(self, voice_id: str) -> Path:
        if not ID_PATTERN.match(voice_id):
            raise NotFoundError(f"unknown voice '{voice_id[:40]}'")
        return self.root / voice_id

    def add(self, name: str, reference: Reference, profile: VoiceProfile | None = None,
            ) -> SavedVoice:
        """Save a voice; the folder appears complete or not at all."""
        name = self.check_name(name)
        voice = SavedVoice(uuid.uuid4().hex[:12], name, time.time(),
                           round(reference.duration, 3))
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=self.root))
        try:
            save_audio(tmp / "reference.flac", reference.samples, reference.sample_rate)
            if profile is not None:
                (tmp / "profile.npz").write_bytes(profile.to_bytes())
            (tmp / "voice.json").write_text(json.dumps(voice.to_dict(), indent=2))
            tmp.rename(self.root / voice.id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return voice

    def check_name(self, name: str) -> str:
        """The stripped name, if it is valid and free.

        Raises:
            InvalidOptionError: A malformed name or one already taken.
        """
        name = name.strip()
        if not NAME_PATTERN.match(name):
            raise InvalidOptionError("a voice name is 1 to 64 letters, digits, spaces, "
                                     "dots, apostrophes, dashes or underscores")
        if any(v.name == name for v in self.list()):
            raise InvalidOptionError(f"a voice named '{name}' already exists")
        return name

    def list(self) -> list[SavedVoice]:
        """Every saved voice, oldest first."""
        voices = []
        if self.root.is_dir():
            for meta in self.root.glob("*/voice.json"):
                if ID_PATTERN.match(meta.parent.name):
                    data = json.loads(meta.read_text())
                    voices.append(SavedVoice(data["id"], data["name"], data["created"],
                                             data["reference_seconds"]))
        return sorted(voices, key=lambda v: v.created)

    def find(self, key: str) -> SavedVoice:
        """A voice by id or by name.

        Raises:
            NotFoundError: No such voice.
        """
        for voice in self.list():
            if key in (voice.id, voice.name):
                return voice
        raise NotFoundError(f"unknown voice '{key[:64]}'")

    def reference(self, voice_id: str) -> Reference:
        """The saved reference recording."""
        path = self._folder(voice_id) / "reference.flac"
        if not path.is_file():
            raise NotFoundError(f"unknown voice '{voice_id}'")
        audio = decode(path, None)
        return Reference(audio.samples, audio.sample_rate)

    def profile(self, voice_id: str) -> VoiceProfile | None:
        """The saved profile, if one was stored."""
        path = self._folder(voice_id) / "profile.npz"
        return VoiceProfile.from_bytes(path.read_bytes()) if path.is_file() else None

    def save_profile(self, voice_id: str, profile: VoiceProfile) -> None:
        """Store (or replace) a voice's profile."""
        with atomic_write(self._folder(voice_id) / "profile.npz", "wb") as fh:
            fh.write(profile.to_bytes())

    def kokoro_style(self, voice_id: str, pack_names: Sequence[str]
                     ) -> tuple[StyleParams, np.ndarray | None] | None:
        """The Kokoro style (and channel equaliser, if one was measured) enrolled for a
        voice, if one was stored for these packs."""
        path = self._folder(voice_id) / "kokoro.npz"
        if not path.is_file():
            return None
        with np.load(path) as z:
            if [str(n) for n in z["pack_names"]] != list(pack_names):
                return None  # enrolled against other packs: enrol again
            gain = np.asarray(z["gain_db"]) if "gain_db" in z.files else None
            return StyleParams.from_vector(z["params"], len(pack_names)), gain

    def save_kokoro_style(self, voice_id: str, params: StyleParams,
                          pack_names: Sequence[str], gain_db: np.ndarray | None = None) -> None:
        """Store (or replace) a voice's enrolled Kokoro style and channel equaliser."""
        buf = io.BytesIO()
        arrays: dict[str, Any] = {"params": params.vector(), "pack_names": np.array(pack_names)}
        if gain_db is not None:
            arrays["gain_db"] = np.asarray(gain_db, dtype=np.float32)
        np.savez(buf, **arrays)
        with atomic_write(self._folder(voice_id) / "kokoro.npz", "wb") as fh:
            fh.write(buf.getvalue())

    def remove(self, key: str) -> SavedVoice:
        """Delete a voice by id or name."""
        voice = self.find(key)
        folder = self._folder(voice.id)
        # Rename first so a concurrent reader never sees a half-deleted voice.
        trash = self.root / f".del-{voice.id}-{uuid.uuid4().hex[:6]}"
        folder.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
        return voice
