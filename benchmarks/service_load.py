"""Service load on loopback: N clients for a fixed time, and /transcribe's overhead.

Traffic goes only to 127.0.0.1, with a bounded number of requests and a time limit.
Run: .venv/bin/python benchmarks/service_load.py [clients] [seconds]
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _common import save, table
from earful.asr.options import TranscribeOptions
from earful.asr.transcribe import transcribe_file
from earful.config import Settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.service.conftest import LiveServer  # noqa: E402

CLIP = ROOT / "tests" / "data" / "jfk.flac"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    clients = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    data = CLIP.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(temp_dir=Path(tmp), preload=True, workers=1, queue_size=64)
        with LiveServer(settings) as server:
            url = f"{server.url}/transcribe"
            httpx.post(url, files={"file": ("w.flac", data, "audio/flac")}, timeout=120)
            before = rss_mb(os.getpid())
            deadline = time.monotonic() + seconds
            max_requests = 2000

            def client(_: int) -> list[tuple[float, int]]:
                out = []
                with httpx.Client(timeout=120) as c:
                    while time.monotonic() < deadline and len(out) < max_requests:
                        t0 = time.perf_counter()
                        r = c.post(url, files={"file": ("jfk.flac", data, "audio/flac")})
                        out.append((time.perf_counter() - t0, r.status_code))
                return out

            t0 = time.perf_counter()
            with cf.ThreadPoolExecutor(clients) as pool:
                results = [x for batch in pool.map(client, range(clients)) for x in batch]
            wall = time.perf_counter() - t0
            after = rss_mb(os.getpid())
            # Overhead: the same 5 s clip through HTTP and through the library, alternating.
            five = Path(tmp) / "five.flac"
            import soundfile as sf

            audio, sr = sf.read(CLIP)
            sf.write(five, audio[: 5 * sr], sr)
            five_bytes = five.read_bytes()
            opts = TranscribeOptions()
            http_t, lib_t = [], []
            with httpx.Client(timeout=120) as c:
                for _ in range(15):
                    s = time.perf_counter()
                    c.post(url, files={"file": ("five.flac", five_bytes, "audio/flac")})
                    http_t.append(time.perf_counter() - s)
                    s = time.perf_counter()
                    transcribe_file(five, opts)
                    lib_t.append(time.perf_counter() - s)
    lat = sorted(t for t, _ in results)
    errors = sum(1 for _, code in results if code != 200)

    def pct(p: float) -> float:
        return 1000 * lat[min(len(lat) - 1, int(p * len(lat)))]

    audio_s = 11.0 * (len(results) - errors)
    h, lib = statistics.median(http_t), statistics.median(lib_t)
    md = (f"### Service load ({clients} clients, {seconds:g} s, 11 s clip, 1 worker, tiny.en)\n\n"
          + table(["requests", "errors", "throughput", "audio/s", "p50", "p95", "p99",
                   "RSS before -> after"], [[
                       len(results), errors, f"{len(results) / wall:.2f} req/s",
                       f"{audio_s / wall:.1f}x real time", f"{pct(0.5):.0f} ms",
                       f"{pct(0.95):.0f} ms", f"{pct(0.99):.0f} ms",
                       f"{before:.0f} -> {after:.0f} MB"]])
          + "\n\n" + table(["5 s clip", "median"], [
              ["POST /transcribe (loopback, multipart)", f"{1000 * h:.0f} ms"],
              ["library call transcribe_file", f"{1000 * lib:.0f} ms"],
              ["overhead", f"{100 * (h / lib - 1):.1f}% (target <= 15%)"]])
          + "\n\n(Server and clients share this process and its 2 cores; RSS is the process's.)")
    save("service_load", md, {"latencies_s": lat, "errors": errors, "wall_s": wall,
                              "http_s": http_t, "library_s": lib_t})


if __name__ == "__main__":
    main()
