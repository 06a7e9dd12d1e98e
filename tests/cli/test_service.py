"""``earful serve``: the demo is mounted as a client of the address the server binds."""

from __future__ import annotations

from typing import Any

import pytest

from earful.cli import main
from earful.service.address import local_url


def test_local_url() -> None:
    assert local_url("0.0.0.0", 7860) == "http://127.0.0.1:7860"
    assert local_url("::", 80) == "http://127.0.0.1:80"
    assert local_url("10.1.2.3", 8000) == "http://10.1.2.3:8000"


@pytest.mark.parametrize(("flags", "demo_url"), [
    (["--host", "0.0.0.0", "--port", "9123"], "http://127.0.0.1:9123"),
    (["--no-demo"], None),
])
def test_serve_mounts_the_demo_at_the_local_url(monkeypatch: pytest.MonkeyPatch,
                                                flags: list[str], demo_url: str | None) -> None:
    pytest.importorskip("uvicorn", reason="serving needs the service extra")
    import earful.demo.ui
    import earful.service.app
    import earful.service.server
    from earful.config import get_settings

    calls: dict[str, Any] = {}
    app = object()

    def mount_demo(app: object, api_url: str, api_key: str | None) -> bool:
        calls["demo"] = (app, api_url)
        return True

    def serve(app: object, host: str, port: int, grace_seconds: float) -> None:
        calls["run"] = (app, {"host": host, "port": port, "grace": grace_seconds})

    monkeypatch.setattr(earful.service.app, "create_app", lambda settings: app)
    monkeypatch.setattr(earful.demo.ui, "mount_demo", mount_demo)
    monkeypatch.setattr(earful.service.server, "serve", serve)
    assert main(["serve", *flags]) == 0
    settings = get_settings()
    served, bound = calls["run"]
    assert served is app
    assert bound["host"] == ("0.0.0.0" if demo_url else settings.host)
    assert bound["port"] == (9123 if demo_url else settings.port)
    assert calls.get("demo") == ((app, demo_url) if demo_url else None)
    assert bound["grace"] == settings.shutdown_grace_seconds
