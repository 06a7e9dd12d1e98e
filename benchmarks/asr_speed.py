"""ASR speed: earful against a plain faster-whisper loop, batched against sequential, and
real-time factor and peak memory per model and precision.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/asr_speed.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from _common import data_dir, run_isolated, save, table
from earful.asr.batch import expand_inputs, run_batch
from earful.asr.engines import get_model
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe
from earful.audio.io import load_audio, save_audio

ISOLATED = """
import json, sys, time
from _common import peak_rss_mb
import numpy as np
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe_file
model, compute, path = sys.argv[1:4]
opts = TranscribeOptions(language="en")
spec = ModelSpec(name=model, compute_type=compute)
t0 = time.perf_counter(); transcribe_file(path, opts, spec); first = time.perf_counter() - t0
t0 = time.perf_counter(); r = transcribe_file(path, opts, spec); wall = time.perf_counter() - t0
print(json.dumps({"rtf": wall / r.duration, "x_real_time": r.duration / wall,
                  "first_call_s": first,
                  "peak_rss_mb": peak_rss_mb()}))
"""


def main() -> None:
    data = data_dir()
    files = sorted((data / "speech" / "read_speech").glob("*.flac"))[:30]
    opts = TranscribeOptions(language="en")
    model = get_model(ModelSpec())
    kw = {"language": "en", "beam_size": 5, "vad_filter": True}

    def plain() -> float:
        t0 = time.perf_counter()
        for f in files:
            from faster_whisper import decode_audio

            audio = decode_audio(str(f))
            segments, _ = model.transcribe(audio, without_timestamps=len(audio) <= 5 * 16000,
                                           **kw)
            " ".join(s.text for s in segments)
        return time.perf_counter() - t0

    jobs = list(expand_inputs([str(f) for f in files]))

    def ours() -> float:
        t0 = time.perf_counter()
        run_batch(jobs, opts, progress=False)
        return time.perf_counter() - t0

    plain()  # warm-up
    times = {"plain": [], "earful": []}
    for _ in range(3):
        times["plain"].append(plain())
        times["earful"].append(ours())
    p, e = min(times["plain"]), min(times["earful"])
    audio_s = sum(len(load_audio(f)) for f in files) / 16000

    with tempfile.TemporaryDirectory() as tmp:
        long = np.concatenate([load_audio(f) for f in sorted(
            (data / "speech" / "read_speech").glob("*.flac"))[:45]])
        seq_t0 = time.perf_counter()
        transcribe(long, opts)
        seq = time.perf_counter() - seq_t0
        bat_t0 = time.perf_counter()
        transcribe(long, opts.with_(batch_size=8))
        bat = time.perf_counter() - bat_t0
        clip = Path(tmp) / "minute.flac"
        save_audio(clip, long[: 60 * 16000], 16000)
        per_model = []
        raw = {}
        for model_name in ("tiny.en", "base"):
            for compute in ("int8", "float32"):
                r = run_isolated(ISOLATED, model_name, compute, str(clip))
                raw[f"{model_name}/{compute}"] = r
                per_model.append([model_name, compute, f"{r['x_real_time']:.1f}x",
                                  f"{r['rtf']:.3f}", f"{r['peak_rss_mb']:.0f} MB"])
                print(per_model[-1], flush=True)
    md = ("### ASR speed (2 CPU cores)\n\n"
          + table(["comparison", "A", "B", "ratio"], [
              [f"earful batch vs plain faster-whisper loop, {len(files)} read-speech files "
               f"({audio_s:.0f} s), same options", f"{e:.1f} s", f"{p:.1f} s",
               f"{e / p:.3f} (target <= 1.05)"],
              [f"sequential vs batched (batch 8), {len(long) / 16000:.0f} s of speech",
               f"{seq:.1f} s", f"{bat:.1f} s", f"{seq / bat:.2f}x faster batched "
               "(target >= 1.5x)"]])
          + "\n\n" + table(["model", "weights", "speed", "RTF", "peak RSS"], per_model)
          + "\n\n(60 s of read speech, second call in a fresh process; RSS includes Python, "
            "numpy and the decoder.)")
    save("asr_speed", md, {"plain_s": times["plain"], "earful_s": times["earful"],
                           "sequential_s": seq, "batched_s": bat, "per_model": raw})


if __name__ == "__main__":
    main()
