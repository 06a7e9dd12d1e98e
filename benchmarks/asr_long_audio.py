"""One hour of real speech through `earful transcribe`: wall time and peak memory.

The hour is built by concatenating the shared read-speech and LibriSpeech clips (looped)
into one FLAC; it is transcribed in a fresh process so peak RSS is its own.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/asr_long_audio.py [minutes]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from _common import data_dir, run_isolated, save, table
from earful.audio.io import load_audio

ISOLATED = """
import json, sys, time
from _common import peak_rss_mb
from earful.asr.options import TranscribeOptions
from earful.asr.transcribe import transcribe_file
t0 = time.perf_counter()
r = transcribe_file(sys.argv[1], TranscribeOptions(language="en", beam_size=1))
wall = time.perf_counter() - t0
print(json.dumps({"duration_s": r.duration, "wall_s": wall, "segments": len(r.segments),
                  "words": len(r.text.split()),
                  "peak_rss_mb": peak_rss_mb()}))
"""


def main() -> None:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    data = data_dir()
    clips = sorted((data / "speech" / "read_speech").glob("*.flac")) + sorted(
        (data / "speech" / "librispeech_test_other").rglob("*.flac"))
    target = int(minutes * 60 * 16000)
    gap = np.zeros(8000, np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.flac"
        written = 0
        with sf.SoundFile(path, "w", 16000, 1, "PCM_16") as out:  # streamed, never in RAM
            while written < target:
                for c in clips:
                    chunk = np.concatenate([load_audio(c), gap])[: target - written]
                    out.write(chunk)
                    written += chunk.size
                    if written >= target:
                        break
        result = run_isolated(ISOLATED, str(path))
    md = (f"### Long audio ({minutes:g} min of real speech, tiny.en int8, greedy, VAD on)\n\n"
          + table(["audio", "wall time", "speed", "peak RSS", "segments", "words"], [[
              f"{result['duration_s'] / 60:.1f} min", f"{result['wall_s']:.0f} s",
              f"{result['duration_s'] / result['wall_s']:.1f}x real time",
              f"{result['peak_rss_mb']:.0f} MB", result["segments"], result["words"]]])
          + "\n\nDecoded as a stream and transcribed in 10-minute pieces cut at quiet points, "
            "so memory does not grow with the file's length.")
    save("asr_long_audio", md, result)


if __name__ == "__main__":
    main()
