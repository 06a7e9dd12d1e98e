"""Streamed speech: time to the first audio byte for a three-sentence text against the time
to synthesise all of it, for Piper and Kokoro, through `/synthesize` on loopback.

Run: .venv/bin/python benchmarks/speech_streaming.py [repeats=5]
Target: first byte <= 0.5 s on 2 cores (Piper).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _common import save, table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.service.conftest import LiveServer, make_settings  # noqa: E402

TEXT = ("Printing, in the only sense with which we are at present concerned, differs from "
        "most if not from all the arts and crafts. The earliest book printed with movable "
        "types was produced in Germany. The art spread quickly to the rest of Europe.")


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows, raw = [], {}
    with tempfile.TemporaryDirectory() as tmp, LiveServer(make_settings(Path(tmp))) as srv:
        url = f"{srv.url}/synthesize"
        for engine in ("piper", "kokoro"):
            body = {"text": TEXT, "format": "wav", "engine": engine}
            httpx.post(url, json=body, timeout=300)  # load the model
            first, whole = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                with httpx.stream("POST", url, json={**body, "stream": True},
                                  timeout=300) as resp:
                    chunks = resp.iter_raw()
                    next(chunks)
                    first.append(time.perf_counter() - start)
                    for _ in chunks:
                        pass
                start = time.perf_counter()
                httpx.post(url, json=body, timeout=300)
                whole.append(time.perf_counter() - start)
            rows.append([engine, f"{statistics.median(first):.2f} s",
                         f"{statistics.median(whole):.2f} s"])
            raw[engine] = {"first_byte_s": first, "whole_s": whole}
            print(rows[-1], flush=True)
    md = ("### Streamed speech (three sentences, `/synthesize` on loopback, median of "
          f"{repeats})\n\n" + table(["engine", "first audio byte (streamed)",
                                     "whole answer (not streamed)"], rows))
    save("speech_streaming", md, raw)


if __name__ == "__main__":
    main()
