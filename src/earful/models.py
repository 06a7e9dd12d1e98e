"""The one model manager: kind -> loader; models loaded lazily, cached, and let go when idle.

Loaders are referenced by import path, so importing earful never imports torch,
CTranslate2 or transformers; a model is loaded on first use (or at the service's start).

* **Thread-safe loading**: concurrent callers asking for the same model wait for one load.
* **In use**: :meth:`ModelManager.use` holds a model for the length of a ``with`` block; a
  held model is never unloaded, by its time-to-live, the cap or a client's request.
* **Time-to-live**: a model idle for longer than ``ttl_seconds`` is unloaded by
  :meth:`ModelManager.sweep` (the service runs it in the background); the next request
  loads it again. Pinned models (the service pins what it preloads) stay.
* **Cap**: at most ``max_loaded`` models; loading one more first unloads the least recently
  used model that is neither held nor pinned.

Each loaded model has a public id, ``kind:label`` (``asr.faster-whisper:tiny.en``); labels
are names, never filesystem paths, so ids are safe to show to clients.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any

from earful.errors import ModelBusyError, ModelNotAvailableError, NotFoundError

logger = logging.getLogger(__name__)

#: Built-in loaders: kind -> "module:function". Each function takes keyword arguments that
#: identify one model (name, device, ...) and returns the loaded object.
LOADERS: dict[str, str] = {
    "asr.faster-whisper": "earful.asr.engines:load_faster_whisper",
    "asr.transformers": "earful.asr.hf:load_transformers_pipeline",
    "classify": "earful.classify.inference:load_classifier",
    "tts.piper": "earful.tts.piper_engine:load_piper_voice",
    "tts.kokoro": "earful.tts.kokoro_engine:load_kokoro",
    "tts.offline": "earful.tts.clone:load_offline_cloner",
    "tts.xtts": "earful.tts.xtts:load_xtts",
    "speaker-encoder": "earful.tts.similarity:load_speaker_encoder",
}

Key = tuple[str, tuple[tuple[str, Hashable], ...]]


def _rss_bytes() -> int:
    """This process's resident memory (Linux), or 0 where /proc is missing."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class _Entry:
    """One loaded model and its bookkeeping (mutated only under the manager's lock)."""

    id: str
    kind: str
    label: str
    model: Any
    loaded_at: float
    last_used: float
    rss_bytes: int
    in_use: int = 0
    pinned: bool = False

    def describe(self, now: float, wall_offset: float) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.label,
                "loaded_at": round(self.loaded_at + wall_offset, 3),
                "last_used": round(self.last_used + wall_offset, 3),
                "idle_seconds": round(0.0 if self.in_use else now - self.last_used, 3),
                "in_use": self.in_use, "pinned": self.pinned,
                "memory_mb_estimate": round(self.rss_bytes / 1e6, 1)}


class ModelManager:
    """Loaded models keyed by kind and loader arguments, with idle unloading and a cap."""

    def __init__(self, loaders: dict[str, str] | None = None, *, ttl_seconds: float = 0.0,
                 max_loaded: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        """Args:
            loaders: kind -> loader (callable or ``"module:function"``); default the
                built-in :data:`LOADERS`.
            ttl_seconds: Unload a model idle this long (0: never).
            max_loaded: Most models loaded at once (0: no cap).
            clock: Monotonic clock (tests pass a fake one).
        """
        self._loaders: dict[str, str | Callable[..., Any]] = dict(
            LOADERS if loaders is None else loaders)
        self._entries: dict[Key, _Entry] = {}
        self._locks: dict[Key, threading.Lock] = {}
        self._guard = threading.RLock()
        self._clock = clock
        self.ttl_seconds = ttl_seconds
        self.max_loaded = max_loaded

    def configure(self, *, ttl_seconds: float | None = None,
                  max_loaded: int | None = None) -> None:
        """Change the time-to-live or the cap (the service does this from its settings)."""
        with self._guard:
            if ttl_seconds is not None:
                self.ttl_seconds = max(0.0, ttl_seconds)
            if max_loaded is not None:
                self.max_loaded = max(0, max_loaded)

    def register(self, kind: str, loader: str | Callable[..., Any]) -> None:
        """Add or replace the loader for ``kind`` (a callable or ``"module:function"``)."""
        with self._guard:
            self._loaders[kind] = loader

    def _resolve(self, kind: str) -> Callable[..., Any]:
        try:
            loader = self._loaders[kind]
        except KeyError as e:
            raise ModelNotAvailableError(
                f"unknown model kind '{kind}'; known: {', '.join(sorted(self._loaders))}") from e
        if callable(loader):
            return loader
        module, _, func = loader.partition(":")
        loaded: Callable[..., Any] = getattr(importlib.import_module(module), func)
        return loaded

    def _new_id(self, kind: str, label: str, key: Key) -> str:
        base = f"{kind}:{label}"
        taken = {e.id for k, e in self._entries.items() if k != key}
        if base not in taken:
            return base
        # The same name loaded with other settings (device, compute type): still unique.
        return f"{base}@{hashlib.sha1(repr(key).encode()).hexdigest()[:6]}"

    def _acquire(self, kind: str, label: str | None, pin: bool, hold: bool,
                 params: dict[str, Hashable]) -> tuple[Key, Any]:
        key: Key = (kind, tuple(sorted(params.items())))
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None:
                entry.last_used = self._clock()
                entry.in_use += hold
                entry.pinned = entry.pinned or pin
                return key, entry.model
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                entry = self._entries.get(key)
                if entry is not None:  # loaded by the caller we waited for
                    entry.last_used = self._clock()
                    entry.in_use += hold
                    entry.pinned = entry.pinned or pin
                    return key, entry.model
                self._make_room()
            before = _rss_bytes()
            start = time.perf_counter()
            model = self._resolve(kind)(**params)
            rss = max(0, _rss_bytes() - before)
            with self._guard:
                now = self._clock()
                name = label or kind
                self._entries[key] = _Entry(self._new_id(kind, name, key), kind, name, model,
                                            now, now, rss, in_use=int(hold), pinned=pin)
            logger.info("loaded %s:%s in %.2f s (~%.0f MB)", kind, name,
                        time.perf_counter() - start, rss / 1e6)
            return key, model

    def _make_room(self) -> None:
        """Unload least recently used idle models until one more fits under the cap."""
        while self.max_loaded and len(self._entries) >= self.max_loaded:
            idle = [(e.last_used, k) for k, e in self._entries.items()
                    if not e.in_use and not e.pinned]
            if not idle:
                raise ModelNotAvailableError(
                    f"{len(self._entries)} models are loaded and all are in use or pinned; "
                    "try again later or raise EARFUL_MAX_LOADED_MODELS")
            self._drop(min(idle)[1], "to stay under the cap")

    def _drop(self, key: Key, why: str) -> str:
        entry = self._entries.pop(key)
        self._locks.pop(key, None)
        logger.info("unloaded %s %s", entry.id, why)
        return entry.id

    def get(self, kind: str, *, label: str | None = None, pin: bool = False,
            **params: Hashable) -> Any:
        """The model for ``kind`` and ``params``, loaded on first use (not held: prefer
        :meth:`use` around inference).

        Args:
            kind: A registered model kind.
            label: The model's public name (default: the kind); never a path.
            pin: Keep the model loaded whatever its idle time.
            **params: The loader's arguments; they identify the model.
        """
        return self._acquire(kind, label, pin, False, params)[1]

    @contextlib.contextmanager
    def use(self, kind: str, *, label: str | None = None,
            **params: Hashable) -> Iterator[Any]:
        """Hold the model for the ``with`` block: it cannot be unloaded meanwhile."""
        key, model = self._acquire(kind, label, False, True, params)
        try:
            yield model
        finally:
            with self._guard:
                entry = self._entries.get(key)
                if entry is not None:
                    entry.in_use -= 1
                    entry.last_used = self._clock()

    def loaded(self) -> list[dict[str, Any]]:
        """Describe the models in memory: id, kind, name, times, use, memory estimate."""
        now = self._clock()
        offset = time.time() - now
        with self._guard:
            return [e.describe(now, offset) for e in self._entries.values()]

    def is_loaded(self, kind: str, **params: Hashable) -> bool:
        """Whether the model for ``kind`` and ``params`` is in memory."""
        return (kind, tuple(sorted(params.items()))) in self._entries

    def unload(self, model_id: str) -> None:
        """Unload one model by its id.

        Raises:
            NotFoundError: No loaded model has that id.
            ModelBusyError: The model is serving a request right now.
        """
        with self._guard:
            key = next((k for k, e in self._entries.items() if e.id == model_id), None)
            if key is None:
                raise NotFoundError(f"no loaded model '{model_id[:80]}'")
            if self._entries[key].in_use:
                raise ModelBusyError(f"model '{model_id}' is serving a request; try again")
            self._drop(key, "on request")
        gc.collect()

    def sweep(self) -> list[str]:
        """Unload every model idle for longer than the time-to-live; returns their ids."""
        if not self.ttl_seconds:
            return []
        now = self._clock()
        with self._guard:
            expired = [k for k, e in self._entries.items()
                       if not e.in_use and not e.pinned and now - e.last_used > self.ttl_seconds]
            dropped = [self._drop(k, f"after {self.ttl_seconds:g} s idle") for k in expired]
        if dropped:
            gc.collect()
        return dropped

    def clear(self) -> None:
        """Forget every loaded model (they are freed once no caller holds them)."""
        with self._guard:
            self._entries.clear()
            self._locks.clear()


#: The process-wide manager.
manager = ModelManager()
