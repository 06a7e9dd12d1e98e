"""Copy the tables written by the benchmark scripts into README.md.

Run after the benchmarks: .venv/bin/python scripts/update_readme_results.py
The README's results section lies between the two RESULTS markers; each table is pasted
verbatim from benchmarks/results/NAME.md (the scripts write those files).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["asr_accuracy", "asr_hallucination", "asr_speed", "asr_long_audio",
         "asr_long_wer_librispeech", "asr_long_wer_read_speech", "asr_long_wer_test_clips",
         "asr_long_wer_test_clips_gap05", "diarization",
         "classify_results", "kws_encoder", "kws_recipes", "fsdd_speakers", "service_load",
         "service_bombs", "service_soak", "service_soak_mkl_cache", "asr_batching",
         "asr_batching_heldout", "asr_window_sharing", "asr_window_sharing_speakers50",
         "asr_window_sharing_heldout", "realtime",
         "sse_latency", "speech_streaming",
         "tts_kokoro", "tts_kokoro_clone_dev", "tts_kokoro_clone",
         "tts_clone", "tts_speed", "ray_scaling"]
START, END = "<!-- RESULTS:START -->", "<!-- RESULTS:END -->"
#: Tables written by a script run with options (the default is benchmarks/NAME.py).
SOURCES = {"asr_long_wer_librispeech": "asr_long_wer.py --corpus librispeech",
           "asr_long_wer_read_speech": "asr_long_wer.py --corpus read_speech",
           "asr_long_wer_test_clips": "asr_long_wer.py --corpus test_clips",
           "asr_long_wer_test_clips_gap05": "asr_long_wer.py --corpus test_clips --gap 0.5 "
                                            "--name asr_long_wer_test_clips_gap05",
           "service_soak_mkl_cache": "service_soak.py 600 8 service_soak_mkl_cache "
                                     "(with MKL_DISABLE_FAST_MM=0)",
           "asr_batching_heldout": "asr_batching.py --corpus read_speech --threads 0 "
                                   "--rounds 2 --name asr_batching_heldout",
           "asr_window_sharing_speakers50": "asr_window_sharing.py --corpus speakers50 "
                                            "--name asr_window_sharing_speakers50",
           "asr_window_sharing_heldout": "asr_window_sharing.py --corpus read_speech --seeds 4 "
                                         "--name asr_window_sharing_heldout",
           "tts_kokoro_clone_dev": "tts_kokoro_clone.py --split dev --dev-count 8 --engines "
                                   "plain,bank,lookup,kokoro "
                                   "--name tts_kokoro_clone_dev"}


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    parts = []
    for name in ORDER:
        f = ROOT / "benchmarks" / "results" / f"{name}.md"
        if f.is_file():
            body = re.sub(r"^<!--.*?-->\n", "", f.read_text())
            for png in sorted((ROOT / "benchmarks" / "results").glob("wer_vs_snr_*.png")
                              if name == "asr_accuracy" else []):
                body += f"\n\n![{png.stem}](benchmarks/results/{png.name})"
            source = SOURCES.get(name, f"{name}.py")
            parts.append(f"{body.strip()}\n\n_Source: `benchmarks/{source}`._")
    block = f"{START}\n" + "\n\n".join(parts) + f"\n{END}"
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text,
                      flags=re.S)
    else:
        text = text.replace("RESULTS_PLACEHOLDER", block)
    readme.write_text(text)
    print(f"README.md: {len(parts)} result tables")


if __name__ == "__main__":
    main()
