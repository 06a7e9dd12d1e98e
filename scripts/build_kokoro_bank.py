"""Build the Kokoro voice bank that cloning starts from (earful/tts/shipped/kokoro_bank.npz).

Run: .venv/bin/python scripts/build_kokoro_bank.py --size 280 --seed 0 [--out PATH]
Draws random voices (mixes of the five bundled packs plus offsets), has each say the bank
sentences, and stores each voice's parameters with the Resemblyzer embedding of its speech.
Nothing outside the installed packages is used: no speaker's recordings go into the bank.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from earful.tts.kokoro_engine import SAMPLE_RATE, load_kokoro
from earful.tts.kokoro_style import BANK_FILE, VoiceBank, bank_meta, iter_bank
from earful.tts.similarity import embed, load_speaker_encoder

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/earful/tts/shipped" / BANK_FILE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=280)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", force=True)
    model = load_kokoro(threads=args.threads)
    encoder = load_speaker_encoder()
    phonemes: dict[str, str] = {}

    def speak(table: np.ndarray, sentence: str) -> np.ndarray:
        ph = phonemes.setdefault(sentence, model.phonemes(sentence))
        audio, _ = model.kokoro.create(ph, voice=table, speed=1.0, is_phonemes=True)
        return np.asarray(audio, dtype=np.float32)

    start = time.perf_counter()
    names = sorted(model.packs)
    params: list[np.ndarray] = []
    embeddings: list[np.ndarray] = []

    def save() -> None:
        meta = {**bank_meta(args.seed, len(params)), "seconds": round(time.perf_counter() - start)}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        VoiceBank(np.stack(params), np.stack(embeddings), names, meta).save(args.out)

    for vec, emb in iter_bank(speak, lambda a: embed(encoder, a, SAMPLE_RATE), model.packs,
                              args.size, args.seed):
        params.append(vec)
        embeddings.append(emb)
        if len(params) % 20 == 0:  # a partial bank is usable while the rest is drawn
            save()
            logging.info("%d voices, %.0f s", len(params), time.perf_counter() - start)
    save()
    logging.info("wrote %s (%d voices)", args.out, len(params))


if __name__ == "__main__":
    main()
