"""Soak: 8 clients on loopback for a bounded time, mixing every kind of request, against a
real `earful serve` process with default settings (models preloaded at start-up, as
`earful serve` does unless EARFUL_PRELOAD=false).

Run: .venv/bin/python benchmarks/service_soak.py [seconds=600] [clients=8] [name=service_soak]
(EARFUL_* settings and MKL_DISABLE_FAST_MM in the environment reach the server, and the
report names them; for example MKL_DISABLE_FAST_MM=0 ... 600 8 service_soak_mkl_cache.)
Reports requests and errors by kind, p50/p95 per route, the server's RSS (with every model
loaded; at the start, after a minute of the same traffic; half way, under load; at the
end; the idle ones after the server's periodic heap trim), and the staged uploads and
half-written outputs left. Targets: RSS growth < 10% over the run, 0 temp files left, 0
server errors (5xx other than 503 admission refusals).
Traffic goes only to 127.0.0.1; each client stops at the deadline or after 5000 requests.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from _common import save, table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.service.server_process import ServerProcess  # noqa: E402

DATA = ROOT / "tests" / "data"
#: Seconds of the same traffic before the soak's starting RSS is taken.
WARM_SECONDS = 60.0
#: Longer than the server's heap-trim period (EARFUL_MEMORY_TRIM_SECONDS, 30 s by default).
TRIM_WAIT_SECONDS = 32.0
TEXTS = ["Hello there.", "The quick brown fox jumps over the lazy dog.",
         "Dr. Smith met Mr. Jones at five."]


def requests_for(voice_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, route, httpx keyword arguments) for every kind of traffic, good and bad."""
    jfk, yes = (DATA / "jfk.flac").read_bytes(), (DATA / "yes.wav").read_bytes()
    return [
        ("transcribe", "/transcribe", {"files": {"file": ("jfk.flac", jfk, "audio/flac")}}),
        ("transcribe", "/v1/audio/transcriptions",
         {"files": {"file": ("yes.wav", yes, "audio/wav")}, "data": {"model": "whisper-1"}}),
        ("classify", "/classify", {"files": {"file": ("yes.wav", yes, "audio/wav")}}),
        ("synthesize", "/synthesize", {"json": {"text": random.choice(TEXTS)}}),
        ("clone", "/clone-voice", {"data": {"text": random.choice(TEXTS)},
                                   "files": {"reference": ("jfk.flac", jfk, "audio/flac")}}),
        ("saved voice", "/v1/audio/speech",
         {"json": {"model": "offline", "input": random.choice(TEXTS), "voice": voice_id,
                   "response_format": "wav"}}),
        ("bad input", "/transcribe", {"files": {"file": ("x.wav", b"RIFFjunk", "audio/wav")}}),
        ("bad input", "/transcribe", {"files": {"file": ("x.wav", yes, "audio/wav")},
                                      "data": {"language": "xx"}}),
        ("bad input", "/clone-voice", {"data": {"text": "Hi."},
                                       "files": {"reference": ("y.wav", yes, "audio/wav")}}),
    ]


def idle_rss(server: ServerProcess) -> float:
    """The server's RSS in MB once idle long enough for its periodic heap trim to run."""
    time.sleep(TRIM_WAIT_SECONDS)
    return server.rss() / 1e6


def traffic(url: str, voice: str, clients: int, seconds: float,
            seed: int) -> list[tuple[str, str, int, float]]:
    """``clients`` threads send random requests of every kind for ``seconds``; each result
    is (kind, route, status, latency)."""
    results: list[tuple[str, str, int, float]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        rng = random.Random(seed + index)
        with httpx.Client(timeout=300) as c:
            for _ in range(5000):
                if time.monotonic() >= deadline:
                    return
                kind, route, kwargs = rng.choice(requests_for(voice))
                t0 = time.perf_counter()
                code = c.post(f"{url}{route}", **kwargs).status_code
                with lock:
                    results.append((kind, route, code, time.perf_counter() - t0))

    with cf.ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return results


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    name = sys.argv[3] if len(sys.argv) > 3 else "service_soak"
    # Settings that reach the server: earful's own, and MKL's buffer cache (which the
    # server turns off unless told otherwise; see earful.service.memory).
    changed = sorted(f"{k}={v}" for k, v in os.environ.items()
                     if (k.startswith("EARFUL_") and k != "EARFUL_DATA")
                     or k == "MKL_DISABLE_FAST_MM")
    # The test helper turns preloading off to start fast; the soak runs the real default.
    preload = os.environ.get("EARFUL_PRELOAD", "true")
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp), preload=preload) as server:
        url = server.url
        with (DATA / "jfk.flac").open("rb") as fh:
            voice = httpx.post(f"{url}/voices", data={"name": "jfk"},
                               files={"reference": ("jfk.flac", fh)}, timeout=120).json()["id"]
        for _, route, kwargs in requests_for(voice):  # load every model once
            httpx.post(f"{url}{route}", timeout=300, **kwargs)
        rss = {"loaded": idle_rss(server)}
        # The same traffic for a minute first: each route's first concurrent use takes a
        # step of memory that stays (onnxruntime and CTranslate2 keep buffers sized by the
        # largest batch and input they have seen); the soak measures what happens after.
        warm = traffic(url, voice, clients, WARM_SECONDS, seed=1000)
        rss["start"] = idle_rss(server)
        start = time.monotonic()

        def sample_middle() -> None:
            time.sleep(seconds / 2)
            rss["middle (under load)"] = server.rss() / 1e6

        threading.Thread(target=sample_middle, daemon=True).start()
        results = traffic(url, voice, clients, seconds, seed=0)
        wall = time.monotonic() - start
        rss["end"] = idle_rss(server)
        staged = list((Path(tmp) / "staging").glob("earful-req-*"))
        partial = list((Path(tmp) / "outputs").glob(".part-*"))
    by_route: dict[str, list[float]] = collections.defaultdict(list)
    codes: collections.Counter[tuple[str, int]] = collections.Counter()
    for kind, route, code, secs in results:
        by_route[f"{kind} {route}"].append(secs)
        codes[(kind, code)] += 1

    def pct(xs: list[float], p: float) -> str:
        xs = sorted(xs)
        return f"{1000 * xs[min(len(xs) - 1, int(p * len(xs)))]:.0f} ms"

    server_errors = sum(n for (_, code), n in codes.items() if code >= 500 and code != 503)
    rows = [[name, len(xs), pct(xs, 0.5), pct(xs, 0.95)] for name, xs in sorted(by_route.items())]
    code_rows = [[kind, code, n] for (kind, code), n in sorted(codes.items())]
    growth = 100 * (rss["end"] / rss["start"] - 1)
    overall = 100 * (rss["end"] / rss["loaded"] - 1)
    step = 100 * (rss["start"] / rss["loaded"] - 1)
    warm_errors = sum(1 for _, _, code, _ in warm if code >= 500 and code != 503)
    settings = f"{', '.join(changed)}, default otherwise" if changed else "default settings"
    md = (f"### Soak: {clients} clients, {wall:.0f} s, {settings}\n\n"
          f"{len(results)} requests; server errors (5xx but 503): {server_errors}; "
          f"staged uploads left: {len(staged)}; half-written outputs left: {len(partial)}.\n\n"
          f"Server RSS (idle ones taken after the server's heap trim): {rss['loaded']:.0f} MB "
          f"with every model loaded; {rss['start']:.0f} MB after {WARM_SECONDS:.0f} s of the "
          f"same traffic ({len(warm)} requests, {warm_errors} server errors; a step of "
          f"{step:+.1f}%); {rss.get('middle (under load)', 0):.0f} MB half way, under load; "
          f"{rss['end']:.0f} MB at the end: **{growth:+.1f}% over the soak** "
          f"({overall:+.1f}% from the first idle reading).\n\n"
          + table(["request", "count", "p50", "p95"], rows) + "\n\n"
          + table(["kind", "status", "count"], code_rows))
    save(name, md, {"settings": changed, "growth_from_loaded_percent": round(overall, 1),
                    "seconds": wall, "clients": clients, "rss_mb": rss,
                    "server_errors": server_errors, "staged_left": len(staged),
                    "partial_outputs_left": len(partial),
                    "codes": {f"{k} {c}": n for (k, c), n in codes.items()}})


if __name__ == "__main__":
    main()
