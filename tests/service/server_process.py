"""``earful serve`` in a real subprocess on loopback, for tests that measure the server's own
memory (VmHWM) or send it signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``python -m earful serve --no-demo`` with ``EARFUL_*`` overrides; stopped on exit."""

    def __init__(self, workdir: Path, **settings: str) -> None:
        self.port = _free_port()
        self.workdir = workdir
        env = {**os.environ, "EARFUL_PRELOAD": "false", "EARFUL_DEMO": "false",
               "EARFUL_TEMP_DIR": str(workdir / "staging"),
               "EARFUL_OUTPUT_DIR": str(workdir / "outputs"),
               "EARFUL_VOICE_STORE": str(workdir / "voices"),
               **{f"EARFUL_{k.upper()}": v for k, v in settings.items()}}
        self.log = open(workdir / f"server-{self.port}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "earful", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--no-demo"], env=env, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 60.0) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field} in /proc/{self.pid}/status")

    def peak_rss(self) -> int:
        """The server's peak resident memory since start or :meth:`reset_peak` (bytes)."""
        return self._status("VmHWM")

    def rss(self) -> int:
        """The server's resident memory now (bytes)."""
        return self._status("VmRSS")

    def reset_peak(self) -> None:
        """Start a new peak-memory window (Linux: write 5 to clear_refs)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def output(self) -> str:
        self.log.flush()
        return (self.workdir / f"server-{self.port}.log").read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def __enter__(self) -> ServerProcess:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.log.close()
