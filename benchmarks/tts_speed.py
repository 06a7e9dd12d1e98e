"""Speech synthesis speed on this machine: Piper, Kokoro, and the two offline cloning engines.

Run: .venv/bin/python benchmarks/tts_speed.py [--first-only]   (on an otherwise idle machine)
Speed is seconds of audio per second of computing (x real time), best of 3 runs after a
warm-up, on a 60-word paragraph. Clones are timed with the reference voice already
analysed or enrolled (as for a saved voice); the one-off analysis and enrolment are timed on
their own. Two first-audio times, best of 3:

* Kokoro's first sentence, not streamed: from the call to the whole first sentence's audio
  (27 words here), what `speak_kokoro`'s ``on_sentence`` sees;
* the first streamed piece (Kokoro and Piper): from the call to the audio of the first piece
  a streamed request sends (:mod:`earful.tts.stream`: the first sentence cut short at a
  clause mark or before a phrase), what a player could start on.

``--first-only`` times just those two and prints them (results/tts_speed.md is left alone).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from _common import peak_rss_mb, save, table
from earful.config import Settings
from earful.models import manager
from earful.tts.clone import CloneOptions
from earful.tts.kokoro_engine import KokoroOptions, speak_kokoro
from earful.tts.piper_engine import speak
from earful.tts.reference import load_reference
from earful.tts.result import Speech
from earful.tts.stream import speak_pieces, stream_pieces
from earful.tts.synth import (
    TtsConfig,
    clone,
    enrol_kokoro,
    speak_text,
    use_kokoro,
    use_offline_cloner,
)
from earful.tts.text import clean_text

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


def first_piece(say: Callable[[str], Speech]) -> float:
    """Seconds from the call to the first streamed piece's audio (cutting included)."""
    start = time.perf_counter()
    pieces = speak_pieces(stream_pieces(clean_text(TEXT)), say)
    next(pieces)
    seconds = time.perf_counter() - start
    pieces.close()
    return seconds


def first_audio(settings: TtsConfig) -> dict[str, list[float]]:
    """Kokoro's whole first sentence (not streamed), and the first streamed piece of Kokoro
    and Piper, three times each after a warm-up."""
    out: dict[str, list[float]] = {"kokoro_first_sentence": [], "kokoro_first_piece": [],
                                   "piper_first_piece": []}
    with use_kokoro(settings) as model:
        say_kokoro = lambda t: speak_kokoro(model, t, settings.kokoro_voice)  # noqa: E731
        say_kokoro("Warm up.")
        for _ in range(3):
            start = time.perf_counter()
            marks: list[float] = []
            speak_kokoro(model, TEXT, settings.kokoro_voice, KokoroOptions(),
                         on_sentence=lambda _a, m=marks, t0=start: m.append(
                             time.perf_counter() - t0))
            out["kokoro_first_sentence"].append(marks[0])
            out["kokoro_first_piece"].append(first_piece(say_kokoro))
    with manager.use("tts.piper", label="en_US-joe-medium", name="en_US-joe-medium",
                     voices_dir=None) as voice:
        speak(voice, "Warm up.")
        out["piper_first_piece"] = [first_piece(lambda t: speak(voice, t)) for _ in range(3)]
    return out


def first_audio_text(firsts: dict[str, list[float]]) -> str:
    pieces = stream_pieces(clean_text(TEXT))
    return (f"Kokoro's whole first sentence ({len(TEXT.split('.')[0].split())} words, not "
            f"streamed) ready after {min(firsts['kokoro_first_sentence']):.2f} s; streamed, "
            f"the first piece (\"{pieces[0].text}\", {len(pieces[0].text)} characters) "
            f"ready after {min(firsts['kokoro_first_piece']):.2f} s with Kokoro and "
            f"{min(firsts['piper_first_piece']):.2f} s with Piper (best of 3; target 1 s).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-only", action="store_true",
                        help="time only the first sentence and the first streamed piece")
    args = parser.parse_args()
    settings = Settings().tts_config()
    if args.first_only:  # printed only: results/tts_speed.md stays the whole run's
        firsts = first_audio(settings)
        print(first_audio_text(firsts), {k: [round(x, 3) for x in v] for k, v in firsts.items()})
        return
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
    firsts = first_audio(settings)
    rows = [["Piper en_US-joe-medium", f"{seconds:.1f}", f"{piper:.1f}x", "20x"],
            ["offline clone (Piper + WORLD)", f"{seconds:.1f}", f"{cloned:.1f}x", "3x"],
            [f"Kokoro {settings.kokoro_voice}", f"{k_seconds:.1f}", f"{kokoro:.1f}x", "2x"],
            ["Kokoro clone (style + equaliser)", f"{kc_seconds:.1f}", f"{k_cloned:.1f}x", "2x"]]
    md = "### Speech synthesis speed (2 CPU cores, best of 3)\n\n"
    md += table(["engine", "audio s", "speed (x real time)", "target"], rows)
    md += (f"\n\nAn 11 s reference, once per voice: analysed for the offline engine in "
           f"{analysis:.2f} s, enrolled for Kokoro in {enrolment:.2f} s (target 60 s). "
           + first_audio_text(firsts) + f" Peak memory {peak_rss_mb():.0f} MB.")
    save("tts_speed", md, {"piper_x_real_time": piper, "clone_x_real_time": cloned,
                           "kokoro_x_real_time": kokoro, "kokoro_clone_x_real_time": k_cloned,
                           "kokoro_enrolment_seconds": enrolment,
                           "kokoro_first_sentence_seconds": firsts["kokoro_first_sentence"],
                           "kokoro_first_piece_seconds": firsts["kokoro_first_piece"],
                           "piper_first_piece_seconds": firsts["piper_first_piece"],
                           "audio_seconds": seconds, "reference_analysis_seconds": analysis})


if __name__ == "__main__":
    main()
