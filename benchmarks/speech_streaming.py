"""Streamed speech: time to the first audio byte for a three-sentence text against the time
to synthesise all of it, for Piper and Kokoro, through `/synthesize` on loopback; and how
long a player that starts at the first byte would wait, in all, for audio that is late.

Run: .venv/bin/python benchmarks/speech_streaming.py [repeats=5]
Targets: first byte <= 0.5 s on 2 cores (Piper), first audio <= 1 s (Kokoro, issue #16).
"""

from __future__ import annotations

import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _common import player_waits, save, table
from earful.tts.stream import stream_pieces

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.service.conftest import LiveServer, make_settings  # noqa: E402

TEXT = ("Printing, in the only sense with which we are at present concerned, differs from "
        "most if not from all the arts and crafts. The earliest book printed with movable "
        "types was produced in Germany. The art spread quickly to the rest of Europe.")


def stalls(arrivals: list[tuple[float, int]]) -> float:
    """Seconds a player starting at the first byte waits for audio, in all: ``arrivals`` are
    (seconds, bytes) of a 24 kHz 16-bit WAV stream (44-byte header)."""
    ends = itertools.accumulate(size for _, size in arrivals)
    audio = [max(0, min(size, end - 44)) for (_, size), end in zip(arrivals, ends, strict=True)]
    return player_waits([at for at, _ in arrivals], [n / 2 / 24000 for n in audio])


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows, raw = [], {}
    with tempfile.TemporaryDirectory() as tmp, LiveServer(make_settings(Path(tmp))) as srv:
        url = f"{srv.url}/synthesize"
        for engine in ("piper", "kokoro"):
            body = {"text": TEXT, "format": "wav", "engine": engine}
            httpx.post(url, json=body, timeout=300)  # load the model
            first, whole, waits = [], [], []
            for _ in range(repeats):
                start = time.perf_counter()
                arrivals = []
                with httpx.stream("POST", url, json={**body, "stream": True},
                                  timeout=300) as resp:
                    for chunk in resp.iter_raw():
                        arrivals.append((time.perf_counter() - start, len(chunk)))
                first.append(arrivals[0][0])
                waits.append(stalls(arrivals))
                start = time.perf_counter()
                httpx.post(url, json=body, timeout=300)
                whole.append(time.perf_counter() - start)
            rows.append([engine, f"{statistics.median(first):.2f} s",
                         f"{statistics.median(waits):.2f} s",
                         f"{statistics.median(whole):.2f} s"])
            raw[engine] = {"first_byte_s": first, "waits_s": waits, "whole_s": whole}
            print(rows[-1], flush=True)
    pieces = stream_pieces(TEXT)
    md = ("### Streamed speech (three sentences, `/synthesize` on loopback, median of "
          f"{repeats})\n\n" + table(["engine", "first audio byte (streamed)",
                                     "waits for late audio after it (streamed)",
                                     "whole answer (not streamed)"], rows)
          + f"\n\nStreamed in {len(pieces)} pieces, the first \"{pieces[0].text}\" "
            f"({len(pieces[0].text)} characters; `earful.tts.stream`). Waits: the time, in "
            "all, a player that starts at the first byte would stall for audio not yet "
            "sent.")
    save("speech_streaming", md, raw)


if __name__ == "__main__":
    main()
