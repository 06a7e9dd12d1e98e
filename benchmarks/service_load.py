"""Service load on loopback: 1, 4 and 16 clients sending 5-15 s clips, batched or not.

Run: .venv/bin/python benchmarks/service_load.py [seconds=60]
A real `earful serve` process gets POST /transcribe from N clients for a fixed time each,
first with batching across requests off (`EARFUL_ASR_BATCHING=false`: one transcription at
a time in the inference pool), then batched with one decoder (`EARFUL_ASR_DECODERS=1`: one
batch at a time on every core), then with the default settings (batching on, two decoders,
each on a model replica with half the cores); clips are
the shared LibriSpeech test-other utterances of 5 to 15 s (EARFUL_DATA). Reported per N:
requests, errors by status, throughput in seconds of audio per wall second, latency
p50/p95/p99, and the server's RSS. Targets: 0 errors and 0 timeouts with defaults at 16
clients, and at 16 clients at least twice the one-at-a-time throughput. Traffic goes only
to 127.0.0.1; each client stops at the deadline.
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


#: (label, server settings as environment) in the order run: batching across requests
#: (the default) against the one-at-a-time pool it replaced, and batching with one decoder,
#: to show what the second decoder adds.
MODES = (("one at a time", {"asr_batching": "false"}),
         ("batched, one decoder", {"asr_decoders": "1"}),
         ("batched (default)", {}))


def load(url: str, pool: list[tuple[bytes, float]], clients: int,
         seconds: float) -> list[tuple[float, int, float]]:
    """``clients`` threads post clips back to back until ``seconds`` have passed; each
    result is (latency, status, audio seconds)."""
    deadline = time.monotonic() + seconds

    def client(index: int) -> list[tuple[float, int, float]]:
        out = []
        with httpx.Client(timeout=300) as c:
            i = index
            while time.monotonic() < deadline and len(out) < 1000:
                data, audio = pool[i % len(pool)]
                i += clients
                t0 = time.perf_counter()
                code = c.post(url, files={"file": ("c.flac", data)}).status_code
                out.append((time.perf_counter() - t0, code, audio))
        return out

    results: list[tuple[float, int, float]] = []
    with cf.ThreadPoolExecutor(clients) as ex:
        for batch in ex.map(client, range(clients)):
            results += batch
    return results


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    pool = clips()
    rows, raw = [], {}
    speeds: dict[tuple[str, int], float] = {}
    for mode, env in MODES:
        with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp), **env) as server:
            url = f"{server.url}/transcribe"
            httpx.post(url, files={"file": ("w.flac", pool[0][0])}, timeout=120)  # load
            for clients in (1, 4, 16):
                start = time.perf_counter()
                results = load(url, pool, clients, seconds)
                wall = time.perf_counter() - start
                ok = [r for r in results if r[1] == 200]
                lat = sorted(r[0] for r in ok) or [0.0]
                codes = collections.Counter(r[1] for r in results)
                speed = sum(r[2] for r in ok) / wall
                speeds[mode, clients] = speed

                def pct(p: float, xs: list[float] = lat) -> str:
                    return f"{xs[min(len(xs) - 1, int(p * len(xs)))]:.2f} s"

                rows.append([mode, clients, len(results),
                             ", ".join(f"{c}: {n}" for c, n in sorted(codes.items())),
                             f"{speed:.1f}x", pct(0.5), pct(0.95), pct(0.99),
                             f"{server.rss() / 1e6:.0f} MB"])
                raw[f"{mode}/{clients}"] = {"wall_s": wall, "codes": dict(codes),
                                            "latencies_s": lat, "audio_s": sum(r[2] for r in ok)}
                print(rows[-1], flush=True)
    ratios = {c: speeds[MODES[-1][0], c] / speeds[MODES[0][0], c] for c in (1, 4, 16)}
    one = {c: speeds[MODES[1][0], c] / speeds[MODES[0][0], c] for c in (1, 4, 16)}
    raw["ratios"], raw["ratios_one_decoder"] = ratios, one
    md = (f"### Service load (`earful serve` on loopback, {seconds:g} s per row, LibriSpeech "
          "clips of 5-15 s, tiny.en; default settings, and the same with "
          "`EARFUL_ASR_BATCHING=false` and with `EARFUL_ASR_DECODERS=1`)\n\n"
          + table(["server", "clients", "requests", "status counts",
                   "throughput (audio s / s)", "p50", "p95", "p99", "server RSS"], rows)
          + "\n\nBatched throughput against one at a time: "
          + ", ".join(f"{c} client{'s' if c > 1 else ''} {r:.2f}x" for c, r in ratios.items())
          + "; with one decoder: "
          + ", ".join(f"{c} client{'s' if c > 1 else ''} {r:.2f}x" for c, r in one.items())
          + ".")
    save("service_load", md, raw)


if __name__ == "__main__":
    main()
