"""Offline cloning quality: speaker similarity, WER, DNSMOS (speed: tts_speed.py).

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/tts_clone.py
Scores every reference in speech/voices and speech/voices_librispeech with
``earful.tts.evaluate.evaluate_clones`` (the same code as ``earful eval-clone``).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from _common import data_dir, peak_rss_mb, save, table
from earful.config import Settings
from earful.tts.clone import CloneOptions
from earful.tts.evaluate import evaluate_clones, reference_files
from earful.tts.similarity import load_speaker_encoder
from earful.tts.synth import clone, profile_reference, speak_text


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    data = data_dir() / "speech"
    settings = Settings().tts_config()
    encoder = load_speaker_encoder()
    opts = CloneOptions(engine="offline")
    speak_text("Warm up.", settings)
    rows, raw = [], {}
    for folder in ("voices", "voices_librispeech"):
        refs = reference_files(data / folder)
        start = time.perf_counter()
        report = evaluate_clones(refs, lambda t: speak_text(t, settings),
                                 lambda t, r: clone(t, settings, opts, reference=r), encoder,
                                 prepare=lambda r: profile_reference(r, settings,
                                                                     opts.base_voice))
        s = report.summary()
        raw[folder] = {**report.to_dict(), "seconds": round(time.perf_counter() - start, 1)}
        rows.append([folder, len(report.voices), len(report.skipped),
                     f"{s['similarity']:.3f}", f"{s['baseline_similarity']:.3f}",
                     f"{s['gain']:+.3f}", f"{100 * s['wer']:.1f}%", f"{s['dnsmos']:.2f}"])
        rows.append([f"{folder}: Piper alone", "", "", "", "", "",
                     f"{100 * report.piper['wer']:.1f}%", f"{report.piper['dnsmos']:.2f}"])
    every = [v for f in raw.values() for v in f["voices"]]
    overall = {k: float(np.mean([v[k] for v in every]))
               for k in ("similarity", "baseline_similarity", "wer")}
    raw["overall"] = {**overall, "voices": len(every), "peak_rss_mb": round(peak_rss_mb())}
    md = "### Offline voice cloning quality (Piper joe + WORLD conversion)\n\n"
    md += table(["references", "voices", "skipped (<3 s)", "similarity", "Piper baseline",
                "gain", "WER", "DNSMOS"], rows)
    gain = overall["similarity"] - overall["baseline_similarity"]
    md += (f"\n\nAll {len(every)} voices: similarity {overall['similarity']:.3f}, baseline "
           f"{overall['baseline_similarity']:.3f} (gain {gain:+.3f}), "
           f"WER {100 * overall['wer']:.1f}%. "
           f"Peak memory {raw['overall']['peak_rss_mb']} MB. 5 Harvard sentences per voice; "
           "WER: Whisper tiny.en after English normalisation. Targets: similarity 0.80 and "
           "+0.10 over Piper, WER <= 10% (Piper alone <= 5%).")
    save("tts_clone", md, raw)


if __name__ == "__main__":
    main()
