"""The model registry loads each model once, lazily, under concurrency."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from earful.errors import ModelNotAvailableError
from earful.models import ModelRegistry


def test_loads_once_under_concurrency() -> None:
    calls: list[str] = []

    def loader(name: str) -> object:
        calls.append(name)
        time.sleep(0.05)  # widen the race window
        return object()

    reg = ModelRegistry({})
    reg.register("thing", loader)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(reg.get("thing", name="a")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["a"] and len({id(r) for r in results}) == 1
    assert reg.get("thing", name="b") is not results[0]
    assert reg.is_loaded("thing", name="a") and len(reg.loaded()) == 2
    reg.clear()
    assert not reg.is_loaded("thing", name="a")


def test_unknown_kind_is_typed_error() -> None:
    with pytest.raises(ModelNotAvailableError, match="unknown model kind"):
        ModelRegistry({}).get("nope")


def test_importing_earful_loads_no_heavy_modules() -> None:
    import subprocess

    code = ("import sys, earful, earful.cli, earful.models, earful.config;"
            "print(','.join(m for m in ('torch','ctranslate2','transformers','faster_whisper')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
