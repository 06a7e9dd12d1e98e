"""Helpers shared by the benchmark scripts: data location, tables, result files, memory."""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from earful.config import Settings

RESULTS = Path(__file__).resolve().parent / "results"


def data_dir() -> Path:
    """The shared data folder from EARFUL_DATA; exits with a clear message without it."""
    data = Settings().data
    if data is None or not data.is_dir():
        sys.exit("set EARFUL_DATA to the shared data folder (make sets ../shared/data)")
    return data


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def save(name: str, markdown: str, data: object) -> None:
    """Print the markdown and write it with the raw figures to benchmarks/results/."""
    RESULTS.mkdir(exist_ok=True)
    header = (f"<!-- written by benchmarks/{name}.py on {time.strftime('%Y-%m-%d')}, "
              f"{platform.processor() or platform.machine()}, python {platform.python_version()}"
              " -->\n")
    (RESULTS / f"{name}.md").write_text(header + markdown + "\n")
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    print(markdown)


def player_waits(ready: list[float], durations: list[float]) -> float:
    """Seconds a player that starts the first piece of a stream as soon as it is there waits,
    in all, for pieces not yet there: ``ready[i]`` is when piece ``i`` arrived, and it plays
    for ``durations[i]`` seconds."""
    played_to, waited = ready[0], 0.0
    for at, seconds in zip(ready, durations, strict=True):
        waited += max(0.0, at - played_to)
        played_to = max(played_to, at) + seconds
    return waited


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB.

    Read from /proc (VmHWM), not getrusage: on Linux ru_maxrss survives execve, so a child
    started by a big parent would report the parent's peak.
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_isolated(code: str, *args: str) -> dict:
    """Run Python code in a fresh interpreter (so peak RSS is its own); it prints JSON last."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    return json.loads(out.stdout.strip().splitlines()[-1])
