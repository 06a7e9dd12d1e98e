"""Whisper hallucination: isolated FSDD digits, silence and noise, before and after.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/asr_hallucination.py

"before" is faster-whisper as shipped (beam 5, its default thresholds, no VAD) on the
same audio; "earful" adds its defaults (VAD, short-clip padding and single-segment decoding,
the hallucination guard); "+ prompt" also gives a vocabulary prompt naming the digits.
The digits are the FSDD test split (takes 0-4 of every speaker and digit: 300 clips).
"""

from __future__ import annotations

import time

import numpy as np

from _common import data_dir, save, table
from earful.asr.engines import get_model
from earful.asr.evaluate import get_normaliser, score
from earful.asr.options import TranscribeOptions
from earful.asr.transcribe import transcribe
from earful.audio.io import load_audio
from earful.audio.transforms import pink_noise, white_noise

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
PROMPT = "Counting: zero, one, two, three, four, five, six, seven, eight, nine."


def main() -> None:
    data = data_dir()
    files = sorted(p for p in (data / "fsdd" / "recordings").glob("*.wav")
                   if int(p.stem.split("_")[2]) < 5)
    refs = [WORDS[int(p.stem.split("_")[0])] for p in files]
    audios = [load_audio(p) for p in files]
    rng = np.random.default_rng(0)
    bg = sorted((data / "speech_commands" / "_silence_").glob("*.wav"))
    non_speech = ([np.zeros(16000 * s, np.float32) for s in (1, 3, 8, 20)]
                  + [0.05 * white_noise(16000 * 5, rng) for _ in range(5)]
                  + [0.1 * pink_noise(16000 * 5, rng) for _ in range(5)]
                  + [np.resize(load_audio(p), 16000 * 5) for p in bg[:10]])
    norm = get_normaliser("english")
    opts = TranscribeOptions(language="en")
    model = get_model(opts)

    def raw(a: np.ndarray) -> str:
        segments, _ = model.transcribe(a, language="en", beam_size=5)
        return " ".join(s.text for s in segments).strip()

    systems = {
        "faster-whisper as shipped (before)": raw,
        "earful defaults": lambda a: transcribe(a, opts).text,
        "earful defaults + digit prompt": lambda a: transcribe(
            a, opts.with_(initial_prompt=PROMPT)).text,
    }
    rows, raw_out = [], {}
    for name, fn in systems.items():
        t0 = time.perf_counter()
        hyps = [fn(a) for a in audios]
        s = score(refs, hyps, norm)
        invented = [fn(a) for a in non_speech]
        nonempty = sum(bool(h) for h in invented)
        rows.append([name, f"{100 * s.wer:.1f}%", sum(not h for h in hyps),
                     f"{nonempty}/{len(non_speech)}", f"{time.perf_counter() - t0:.0f} s"])
        raw_out[name] = {"wer": s.wer, "empty_digit_outputs": rows[-1][2],
                         "non_speech_with_text": nonempty, "non_speech_outputs": invented,
                         "examples": [(r, h) for r, h in zip(refs, hyps, strict=True)
                                      if norm(r) != norm(h)][:20]}
        print(rows[-1], flush=True)
    md = ("### Hallucination (tiny.en): FSDD isolated digits, 300 test clips; 24 clips of "
          "silence and noise\n\n"
          + table(["system", "digit WER", "empty digit outputs",
                   "silence/noise clips with text", "time"], rows))
    save("asr_hallucination", md, raw_out)


if __name__ == "__main__":
    main()
