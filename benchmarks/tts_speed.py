"""Speech synthesis speed on this machine: Piper, Kokoro, and the two offline cloning engines.

Run: .venv/bin/python benchmarks/tts_speed.py   (on an otherwise idle machine)
Speed is seconds of audio per second of computing (x real time), best of 3 runs after a
warm-up, on a 60-word paragraph. Clones are timed with the reference voice already
analysed or enrolled (as for a saved voice); the one-off analysis and enrolment are timed on
their own. Kokoro's first sentence: time from the call to its first sentence's audio.
"""

from __future__ import annotations

import time
from pathlib import Path

from _common import peak_rss_mb, save, table
from earful.config import Settings
from earful.tts.clone import CloneOptions
from earful.tts.kokoro_engine import KokoroOptions, speak_kokoro
from earful.tts.reference import load_reference
from earful.tts.synth import clone, enrol_kokoro, speak_text, use_kokoro, use_offline_cloner

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("Printing, in the only sense with which we are at present concerned, differs from most "
        "if not from all the arts and crafts represented in the exhibition. The earliest book "
        "printed with movable types was produced in Germany about fourteen fifty-five, and the "
        "art spread quickly to the rest of Europe.")


def best_speed(run, repeats: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    run()
    speeds = []
    for _ in range(repeats):
        start = time.perf_counter()
        speech = run()
        speeds.append(speech.duration / (time.perf_counter() - start))
    return max(speeds), speech.duration


def main() -> None:
    settings = Settings().tts_config()
    ref = load_reference(ROOT / "tests" / "data" / "jfk.flac")
    with use_offline_cloner(settings, settings.default_voice) as cloner:
        start = time.perf_counter()
        cloner.profile(ref)
        analysis = time.perf_counter() - start
    piper, seconds = best_speed(lambda: speak_text(TEXT, settings))
    cloned, _ = best_speed(lambda: clone(TEXT, settings, CloneOptions(engine="offline",
                                                                      match_rate=False),
                                         reference=ref))
    kokoro, k_seconds = best_speed(lambda: speak_text(TEXT, settings, engine="kokoro"))
    start = time.perf_counter()
    enrol_kokoro(ref, settings)
    enrolment = time.perf_counter() - start
    k_cloned, kc_seconds = best_speed(lambda: clone(TEXT, settings, CloneOptions(engine="kokoro"),
                                                    reference=ref))
    firsts = []
    with use_kokoro(settings) as model:
        for _ in range(3):
            start = time.perf_counter()
            marks: list[float] = []
            speak_kokoro(model, TEXT, settings.kokoro_voice, KokoroOptions(),
                         on_sentence=lambda _a, m=marks, t0=start: m.append(
                             time.perf_counter() - t0))
            firsts.append(marks[0])
    rows = [["Piper en_US-joe-medium", f"{seconds:.1f}", f"{piper:.1f}x", "20x"],
            ["offline clone (Piper + WORLD)", f"{seconds:.1f}", f"{cloned:.1f}x", "3x"],
            [f"Kokoro {settings.kokoro_voice}", f"{k_seconds:.1f}", f"{kokoro:.1f}x", "2x"],
            ["Kokoro clone (style + equaliser)", f"{kc_seconds:.1f}", f"{k_cloned:.1f}x", "2x"]]
    md = "### Speech synthesis speed (2 CPU cores, best of 3)\n\n"
    md += table(["engine", "audio s", "speed (x real time)", "target"], rows)
    md += (f"\n\nAn 11 s reference, once per voice: analysed for the offline engine in "
           f"{analysis:.2f} s, enrolled for Kokoro in {enrolment:.2f} s (target 60 s). Kokoro's "
           f"first sentence ready after {min(firsts):.2f} s (best of 3; target 1 s). "
           f"Peak memory {peak_rss_mb():.0f} MB.")
    save("tts_speed", md, {"piper_x_real_time": piper, "clone_x_real_time": cloned,
                           "kokoro_x_real_time": kokoro, "kokoro_clone_x_real_time": k_cloned,
                           "kokoro_enrolment_seconds": enrolment,
                           "kokoro_first_sentence_seconds": firsts,
                           "audio_seconds": seconds, "reference_analysis_seconds": analysis})


if __name__ == "__main__":
    main()
