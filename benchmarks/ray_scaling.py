"""Ray scale-out on this machine: the local command vs. Ray with 1 and 2 workers, same files.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/ray_scaling.py
Corpus: the 141 read-speech sentences. Default options (tiny.en int8, beam 5, VAD). The
local command uses CTranslate2's default threads; each Ray worker reserves one CPU and runs
one thread. Throughput is audio hours per wall-clock hour, Ray start-up included.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

import ray

from _common import data_dir, save, table
from earful.asr.batch import expand_inputs, run_batch
from earful.asr.cluster import ClusterOptions, transcribe_on_ray
from earful.asr.options import TranscribeOptions


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    corpus = data_dir() / "speech" / "read_speech"
    opts = TranscribeOptions()
    work = Path(tempfile.mkdtemp(prefix="earful-ray-bench-"))
    rows, raw = [], {}
    try:
        start = time.perf_counter()
        local = run_batch(expand_inputs([str(corpus)]), opts, output_dir=work / "local",
                          progress=False)
        local_wall = time.perf_counter() - start
        audio_h = local.audio_seconds / 3600
        raw["local"] = {"files": local.succeeded, "audio_hours": audio_h, "wall": local_wall}
        base = audio_h / (local_wall / 3600)
        rows.append(["local command (1 process)", local.succeeded, f"{local_wall:.1f}",
                     f"{base:.1f}", "1.00"])
        for workers in (1, 2):
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
            start = time.perf_counter()
            summary = transcribe_on_ray([str(corpus)], opts, work / f"ray{workers}",
                                        cluster=ClusterOptions(workers=workers),
                                        progress=False)
            wall = time.perf_counter() - start
            ray.shutdown()
            throughput = (summary.audio_seconds / 3600) / (wall / 3600)
            raw[f"ray_{workers}"] = {"files": summary.succeeded, "wall": wall,
                                     "audio_hours_per_hour": throughput}
            rows.append([f"Ray, {workers} worker{'s' if workers > 1 else ''}",
                         summary.succeeded, f"{wall:.1f}", f"{throughput:.1f}",
                         f"{throughput / base:.2f}"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_worker = raw["ray_1"]["audio_hours_per_hour"]
    raw["per_worker_audio_hours_per_hour"] = per_worker
    md = "### Ray scale-out (read speech, 141 files, tiny.en int8, beam 5, 2 CPU cores)\n\n"
    md += table(["run", "files", "wall s", "audio h per h", "vs local"], rows)
    md += (f"\n\n{raw['local']['audio_hours'] * 60:.1f} minutes of audio. One worker with one "
           f"CPU transcribes {per_worker:.0f} audio hours per hour.")
    save("ray_scaling", md, raw)


if __name__ == "__main__":
    main()
