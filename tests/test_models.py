"""The model manager loads each model once, lazily, under concurrency; unloads idle models
after their time-to-live, never one in use; and keeps under its cap."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from earful.errors import ModelBusyError, ModelNotAvailableError, NotFoundError
from earful.models import ModelManager


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_manager(**kwargs: float) -> tuple[ModelManager, list[str], Clock]:
    calls: list[str] = []
    clock = Clock()

    def loader(name: str) -> object:
        calls.append(name)
        return object()

    mgr = ModelManager({}, clock=clock, **kwargs)  # type: ignore[arg-type]
    mgr.register("thing", loader)
    return mgr, calls, clock


def test_loads_once_under_concurrency() -> None:
    calls: list[str] = []

    def loader(name: str) -> object:
        calls.append(name)
        time.sleep(0.05)  # widen the race window
        return object()

    reg = ModelManager({})
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
        ModelManager({}).get("nope")


def test_idle_model_is_unloaded_after_its_ttl_and_loaded_again() -> None:
    mgr, calls, clock = counting_manager(ttl_seconds=60)
    first = mgr.get("thing", label="a", name="a")
    clock.now += 59
    assert mgr.sweep() == [] and mgr.is_loaded("thing", name="a")
    clock.now += 2
    assert mgr.sweep() == ["thing:a"] and not mgr.is_loaded("thing", name="a")
    assert mgr.get("thing", label="a", name="a") is not first and calls == ["a", "a"]


def test_model_in_use_is_never_unloaded() -> None:
    mgr, _, clock = counting_manager(ttl_seconds=10, max_loaded=1)
    with mgr.use("thing", label="a", name="a") as held:
        clock.now += 100
        assert mgr.sweep() == []
        assert mgr.loaded()[0]["in_use"] == 1
        with pytest.raises(ModelBusyError):
            mgr.unload("thing:a")
        # The cap cannot make room by pulling it away either.
        with pytest.raises(ModelNotAvailableError, match="in use or pinned"):
            mgr.get("thing", label="b", name="b")
        assert mgr.get("thing", label="a", name="a") is held
    # Released now, and its idle time counts from the release.
    assert mgr.loaded()[0]["in_use"] == 0 and mgr.sweep() == []
    clock.now += 11
    assert mgr.sweep() == ["thing:a"]


def test_pinned_model_stays_and_cap_evicts_least_recently_used() -> None:
    mgr, _, clock = counting_manager(ttl_seconds=10, max_loaded=2)
    mgr.get("thing", label="a", name="a", pin=True)
    mgr.get("thing", label="b", name="b")
    clock.now += 5
    mgr.get("thing", label="c", name="c")  # the cap drops b, the idle unpinned one
    assert {m["id"] for m in mgr.loaded()} == {"thing:a", "thing:c"}
    clock.now += 100
    assert mgr.sweep() == ["thing:c"]
    assert [m["id"] for m in mgr.loaded()] == ["thing:a"] and mgr.loaded()[0]["pinned"]


def test_unload_by_id_and_descriptions() -> None:
    mgr, _, _ = counting_manager()
    mgr.get("thing", label="tiny.en", name="/some/server/path")
    mgr.get("thing", label="tiny.en", name="/another/path")
    info = mgr.loaded()
    ids = [m["id"] for m in info]
    # Same name with other parameters: ids stay unique; no parameter (path) is shown.
    assert ids[0] == "thing:tiny.en" and ids[1].startswith("thing:tiny.en@")
    assert "path" not in repr(info)
    assert set(info[0]) == {"id", "kind", "name", "loaded_at", "last_used", "idle_seconds",
                            "in_use", "pinned", "memory_mb_estimate"}
    mgr.unload(ids[1])
    assert [m["id"] for m in mgr.loaded()] == ["thing:tiny.en"]
    with pytest.raises(NotFoundError):
        mgr.unload("thing:nope")


def test_importing_earful_loads_no_heavy_modules() -> None:
    import subprocess

    code = ("import sys, earful, earful.cli, earful.models, earful.config;"
            "print(','.join(m for m in ('torch','ctranslate2','transformers','faster_whisper')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
