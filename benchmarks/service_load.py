"""Service load on loopback: 1, 4 and 16 clients sending 5-15 s clips, default settings.

Run: .venv/bin/python benchmarks/service_load.py [seconds=60]
A real `earful serve` process (default settings: 1 worker, admission by work) gets POST
/transcribe from N clients for a fixed time each; clips are the shared LibriSpeech test-other
utterances of 5 to 15 s (EARFUL_DATA). Reported per N: requests, errors by status,
throughput in seconds of audio per wall second, latency p50/p95/p99, and the server's RSS.
Targets: 0 errors and 0 timeouts with defaults at 16 clients. Traffic goes only to
127.0.0.1; each client stops at the deadline.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import sys
import tempfile
import time
from pathlib import Path

import httpx
import soundfile as sf

from _common import data_dir, save, table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.service.server_process import ServerProcess  # noqa: E402


def clips() -> list[tuple[bytes, float]]:
    from earful.asr.evaluate import read_manifest

    rows = read_manifest(data_dir() / "speech" / "librispeech_test_other" / "transcripts.tsv")
    out = []
    for path, _ in rows:
        seconds = sf.info(path).duration
        if 5.0 <= seconds <= 15.0:
            out.append((Path(path).read_bytes(), seconds))
    return out


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    pool = clips()
    rows, raw = [], {}
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp)) as server:
        url = f"{server.url}/transcribe"
        httpx.post(url, files={"file": ("w.flac", pool[0][0])}, timeout=120)  # load the model
        for clients in (1, 4, 16):
            results: list[tuple[float, int, float]] = []
            deadline = time.monotonic() + seconds

            def client(index: int, until: float = deadline,
                       step: int = clients) -> list[tuple[float, int, float]]:
                out = []
                with httpx.Client(timeout=300) as c:
                    i = index
                    while time.monotonic() < until and len(out) < 1000:
                        data, audio = pool[i % len(pool)]
                        i += step
                        t0 = time.perf_counter()
                        code = c.post(url, files={"file": ("c.flac", data)}).status_code
                        out.append((time.perf_counter() - t0, code, audio))
                return out

            start = time.perf_counter()
            with cf.ThreadPoolExecutor(clients) as ex:
                for batch in ex.map(client, range(clients)):
                    results += batch
            wall = time.perf_counter() - start
            ok = [r for r in results if r[1] == 200]
            lat = sorted(r[0] for r in ok) or [0.0]
            codes = collections.Counter(r[1] for r in results)

            def pct(p: float, xs: list[float] = lat) -> str:
                return f"{xs[min(len(xs) - 1, int(p * len(xs)))]:.2f} s"

            rows.append([clients, len(results), ", ".join(f"{c}: {n}" for c, n in
                                                          sorted(codes.items())),
                         f"{sum(r[2] for r in ok) / wall:.1f}x", pct(0.5), pct(0.95),
                         pct(0.99), f"{server.rss() / 1e6:.0f} MB"])
            raw[str(clients)] = {"wall_s": wall, "codes": dict(codes),
                                 "latencies_s": lat, "audio_s": sum(r[2] for r in ok)}
            print(rows[-1], flush=True)
    md = (f"### Service load (default settings, `earful serve` on loopback, {seconds:g} s per "
          f"row, LibriSpeech clips of 5-15 s, tiny.en)\n\n"
          + table(["clients", "requests", "status counts", "throughput (audio s / s)", "p50",
                   "p95", "p99", "server RSS"], rows))
    save("service_load", md, raw)


if __name__ == "__main__":
    main()
