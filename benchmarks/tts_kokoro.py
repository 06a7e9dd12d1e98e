"""Kokoro-82M per bundled voice: intelligibility, quality, speed, time to the first sentence.

For each voice, 20 sentences of the shared read_speech set (their texts only, every 7th row so
chapters, names and numbers are all represented) are synthesised on 2 ONNX Runtime threads
and scored:

* **WER**: earful's ASR (Whisper tiny.en) transcribes the speech; scored against the text
  after Whisper's English normalisation (:func:`earful.tts.evaluate.intelligibility`);
  again with Whisper base, a larger listener, which tells the speech's faults from the
  listener's (on the human recordings tiny.en alone errs often);
* **DNSMOS**: overall quality estimate, 1 to 5 (:func:`earful.tts.evaluate.dnsmos`);
* **RTF**: synthesis seconds per second of speech (below 0.5 is 2x real time);
* **first sentence**: seconds from the call until the first sentence's audio is ready
  (text normalisation, splitting, phonemes and inference), median and worst.

The bundled Piper voice and the human recordings of the same sentences are scored alongside
for scale. Run: ``EARFUL_DATA=../shared/data python benchmarks/tts_kokoro.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path

from _common import RESULTS, data_dir, peak_rss_mb, save, table
from earful.asr.evaluate import read_manifest
from earful.audio.io import load_audio
from earful.config import Settings
from earful.tts.evaluate import dnsmos, intelligibility
from earful.tts.kokoro_engine import KokoroOptions, kokoro_voices, speak_kokoro
from earful.tts.result import Speech
from earful.tts.synth import TtsConfig, speak_text, use_kokoro

logger = logging.getLogger("tts_kokoro")
THREADS = 2
#: The second, larger listener.
SECOND_LISTENER = "base"


def _scores(speeches: list[Speech]) -> dict[str, float]:
    wer, _ = intelligibility(speeches)
    wer_base, _ = intelligibility(speeches, SECOND_LISTENER)
    busy = sum(s.timings["synthesis"] for s in speeches)
    return {"wer": round(wer, 4), "wer_base": round(wer_base, 4),
            "dnsmos": round(statistics.mean(dnsmos(s) for s in speeches), 3),
            "rtf": round(busy / sum(s.duration for s in speeches), 3),
            "speech_seconds": round(sum(s.duration for s in speeches), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20)
    parser.add_argument("--voices", nargs="*", default=None, help="default: every voice")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the markdown from results/tts_kokoro.json")
    args = parser.parse_args()
    if args.render:
        data = json.loads((RESULTS / "tts_kokoro.json").read_text())
        save("tts_kokoro", render(data), data)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    rows = read_manifest(data_dir() / "speech" / "read_speech" / "transcripts.tsv")
    picked = rows[::7][:args.sentences]
    texts = [t for _, t in picked]
    config = TtsConfig(cache_dir=Settings().cache_dir, kokoro_threads=THREADS)
    results: dict[str, dict[str, float]] = {}

    humans = [_from_file(path, text) for path, text in picked]  # decoded once
    results["human reader"] = {
        "wer": round(intelligibility(humans)[0], 4),
        "wer_base": round(intelligibility(humans, SECOND_LISTENER)[0], 4),
        "dnsmos": round(statistics.mean(dnsmos(h) for h in humans), 3)}
    piper = [speak_text(t, config) for t in texts]
    results["piper joe"] = _scores(piper)
    logger.info("human %s, piper %s", results["human reader"], results["piper joe"])

    start = time.perf_counter()
    with use_kokoro(config) as model:
        load = time.perf_counter() - start
        for voice in args.voices or sorted(kokoro_voices()):
            speeches, firsts = [], []
            for text in texts:
                marks: list[float] = []

                def mark(_: object, marks: list[float] = marks) -> None:
                    marks.append(time.perf_counter())

                t0 = time.perf_counter()
                speeches.append(speak_kokoro(model, text, voice, KokoroOptions(), mark))
                firsts.append(marks[0] - t0)
            results[voice] = {**_scores(speeches),
                              "first_sentence_median": round(statistics.median(firsts), 3),
                              "first_sentence_max": round(max(firsts), 3)}
            logger.info("%s %s", voice, results[voice])

    data = {"sentences": texts, "threads": THREADS, "load_seconds": round(load, 2),
            "peak_rss_mb": round(peak_rss_mb()), "results": results}
    save("tts_kokoro", render(data), data)


def render(data: dict) -> str:
    """The README section for the figures in ``data`` (what :func:`main` saves)."""
    results = data["results"]
    headers = ["voice", "WER (tiny.en)", "WER (base)", "DNSMOS",
               f"RTF ({data['threads']} threads)", "speed-up",
               "first sentence median / worst (s)"]
    labels = {"human reader": "human reader (the recordings)",
              "piper joe": "Piper joe (load control)"}
    lines = []
    for name, r in results.items():
        rtf = r.get("rtf")
        lines.append([labels.get(name, name), f"{r['wer']:.1%}",
                      f"{r['wer_base']:.1%}" if "wer_base" in r else "-", f"{r['dnsmos']:.2f}",
                      f"{rtf:.2f}" if rtf else "-", f"{1 / rtf:.1f}x" if rtf else "-",
                      f"{r['first_sentence_median']:.2f} / {r['first_sentence_max']:.2f}"
                      if "first_sentence_median" in r else "-"])
    voices = {k: v for k, v in results.items() if k not in labels}
    wers = [v["wer"] for v in voices.values()]
    wers_base = [v["wer_base"] for v in voices.values() if "wer_base" in v]
    return (f"### Kokoro-82M voices ({len(data['sentences'])} read_speech sentences each, "
            f"{data['threads']} ONNX Runtime threads)\n\n" + table(headers, lines) + "\n\n"
            "Texts only (every 7th row of `speech/read_speech`, names, numbers and archaic "
            "spellings included), synthesised, then transcribed by Whisper tiny.en (earful's "
            "default) and by Whisper base, and scored after English normalisation; the human "
            "row scores the original recordings of the "
            "same sentences. \"First sentence\": from the call until the first sentence's "
            "audio is ready (normalising, splitting, phonemes, inference); each text here is "
            "one sentence of 5 to 10 s of audio. Targets (issue #16): WER <= 5%, >= 2x real "
            "time on 2 cores, first sentence <= 1 s. "
            f"WER {min(wers):.1%} to {max(wers):.1%} (tiny.en)"
            + (f", {min(wers_base):.1%} to {max(wers_base):.1%} (base)" if wers_base else "")
            + ". Timed on 2 cores: "
            "the Piper row is the load control (compare it with Piper alone under "
            "*Speech synthesis speed*). "
            f"Model load {data['load_seconds']:.1f} s; peak memory of the whole run (ASR, "
            f"DNSMOS, Piper, Kokoro) {data['peak_rss_mb']} MB.")


def _from_file(path: Path, text: str) -> Speech:
    """A recording of ``text`` as a :class:`Speech`, scored like synthesised speech."""
    return Speech(samples=load_audio(path), sample_rate=16000, text=text, voice="human",
                  engine="human")


if __name__ == "__main__":
    main()
