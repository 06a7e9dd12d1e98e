"""The one model registry: kind -> loader, each instance loaded once and cached.

Loaders are referenced by import path, so importing earful never imports torch,
CTranslate2 or transformers; a model is loaded on first :meth:`ModelRegistry.get` (or in
the service's lifespan). Loading is thread-safe: concurrent callers asking for the same
model wait for one load instead of loading it twice.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from earful.errors import ModelNotAvailableError

logger = logging.getLogger(__name__)

#: Built-in loaders: kind -> "module:function". Each function takes keyword arguments that
#: identify one model (name, device, ...) and returns the loaded object.
LOADERS: dict[str, str] = {
    "asr.faster-whisper": "earful.asr.engines:load_faster_whisper",
    "asr.transformers": "earful.asr.hf:load_transformers_pipeline",
    "classify": "earful.classify.inference:load_classifier",
    "tts.piper": "earful.tts.piper_engine:load_piper_voice",
    "tts.offline": "earful.tts.clone:load_offline_cloner",
    "tts.xtts": "earful.tts.xtts:load_xtts",
    "speaker-encoder": "earful.tts.similarity:load_speaker_encoder",
}

Key = tuple[str, tuple[tuple[str, Hashable], ...]]


class ModelRegistry:
    """A cache of loaded models keyed by kind and loader arguments."""

    def __init__(self, loaders: dict[str, str] | None = None) -> None:
        self._loaders: dict[str, str | Callable[..., Any]] = dict(loaders or LOADERS)
        self._models: dict[Key, Any] = {}
        self._locks: dict[Key, threading.Lock] = {}
        self._guard = threading.Lock()

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

    def get(self, kind: str, **params: Hashable) -> Any:
        """Return the model for ``kind`` and ``params``, loading it on first use."""
        key: Key = (kind, tuple(sorted(params.items())))
        model = self._models.get(key)
        if model is not None:
            return model
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key in self._models:
                return self._models[key]
            start = time.perf_counter()
            model = self._resolve(kind)(**params)
            self._models[key] = model
            logger.info("loaded %s %s in %.2f s", kind, dict(params),
                        time.perf_counter() - start)
            return model

    def loaded(self) -> list[dict[str, Any]]:
        """Describe the models currently in memory."""
        return [{"kind": kind, **dict(params)} for kind, params in list(self._models)]

    def is_loaded(self, kind: str, **params: Hashable) -> bool:
        """Whether the model for ``kind`` and ``params`` is already in memory."""
        return (kind, tuple(sorted(params.items()))) in self._models

    def clear(self) -> None:
        """Forget every loaded model (they are freed once no caller holds them)."""
        with self._guard:
            self._models.clear()
            self._locks.clear()


#: The process-wide registry.
registry = ModelRegistry()
