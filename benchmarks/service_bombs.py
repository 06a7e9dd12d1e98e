"""Decompression bombs against a real `earful serve` process on loopback: per format, the
time to the 413 and the rise of the server's peak memory (VmHWM) over its idle level.

Run: .venv/bin/python benchmarks/service_bombs.py
Default limits (25 MB uploads, 3600 s of audio); each bomb holds or claims hours.
Targets: 413 in < 2 s, peak memory + < 200 MB.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx

from _common import save, table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.audio import bombs  # noqa: E402
from tests.service.server_process import ServerProcess  # noqa: E402

HOURS = 3600.0


def main() -> None:
    rows, raw = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {
            "FLAC, 10 h of silence": bombs.flac_silence(work / "a.flac", 10 * HOURS, 16000),
            "FLAC, 10 h, length hidden": bombs.flac_silence(work / "b.flac", 10 * HOURS,
                                                            16000, hide_length=True),
            "Ogg/Opus, 1.5 h": bombs.opus_silence(work / "c.ogg", 1.5 * HOURS),
            "MP3, 2 h at 8 kHz": bombs.mp3_silence(work / "d.mp3", 2 * HOURS),
            "WAV, 100 min of 8-bit 4 kHz, data chunk claims 4 GB": bombs.wav_claiming(
                work / "e.wav", 6000, 0xFFFFFFF0, rate=4000, subtype="PCM_U8"),
            "M4A, header claims 10 h (11 s inside)": bombs.mp4_claiming_hours(
                work / "f.m4a", ROOT / "tests" / "data" / "jfk.m4a"),
        }
        with ServerProcess(work) as server:
            idle = server.rss()
            for name, path in files.items():
                server.reset_peak()
                start = time.perf_counter()
                with path.open("rb") as fh:
                    resp = httpx.post(f"{server.url}/transcribe", timeout=300,
                                      files={"file": (path.name, fh)})
                seconds = time.perf_counter() - start
                rise = (server.peak_rss() - idle) / 1e6
                rows.append([name, f"{path.stat().st_size / 1e6:.1f} MB", resp.status_code,
                             f"{seconds:.2f} s", f"{rise:.0f} MB"])
                raw[name] = {"bytes": path.stat().st_size, "status": resp.status_code,
                             "seconds": seconds, "peak_rss_rise_mb": rise}
                print(rows[-1], flush=True)
    md = ("### Upload bombs (default limits: 25 MB, 3600 s; `earful serve` on loopback)\n\n"
          + table(["upload", "size", "status", "time to answer", "peak RSS rise"], rows)
          + "\n\nThe M4A's sample tables hold 11 s, which is what FFmpeg decodes whatever the "
            "header says, so it is transcribed (200); its rise includes loading tiny.en.")
    save("service_bombs", md, raw)


if __name__ == "__main__":
    main()
