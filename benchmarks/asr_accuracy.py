"""WER/CER of the bundled Whisper models on real speech, and WER against SNR.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/asr_accuracy.py
Published Whisper figures on LibriSpeech test-other: tiny.en ~14.9%, base ~12.4%
(normalisation differs between sources). Our test-other set is a 30-utterance subset.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _common import data_dir, save, table
from earful.asr.evaluate import evaluate, plot_wer_curve, read_manifest
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.audio.plots import save_figure

SNRS = [20.0, 10.0, 5.0, 0.0]


def main() -> None:
    data = data_dir()
    speech = data / "speech"
    with tempfile.TemporaryDirectory() as tmp:
        jfk_manifest = Path(tmp) / "jfk.tsv"
        jfk_manifest.write_text(f"file\ttext\n{speech / 'jfk.flac'}\t"
                                f"{(speech / 'jfk.txt').read_text().strip()}\n")
        sets = {
            "LibriSpeech test-other (30 utt.)": read_manifest(
                speech / "librispeech_test_other" / "transcripts.tsv"),
            "read_speech (141 sentences)": read_manifest(speech / "read_speech" /
                                                         "transcripts.tsv"),
            "jfk.flac": read_manifest(jfk_manifest),
        }
        rows, raw = [], {}
        opts = TranscribeOptions(language="en")
        for model in ("tiny.en", "base"):
            spec = ModelSpec(name=model)
            for name, manifest in sets.items():
                r = evaluate(manifest, opts, spec=spec, progress=False)
                raw[f"{model}/{name}"] = r.to_dict()
                rows.append([model, name, f"{100 * r.scores.wer:.1f}%",
                             f"{100 * r.scores.cer:.1f}%", len(r.utterances),
                             f"{r.audio_seconds / r.wall_seconds:.1f}x"])
                print(rows[-1], flush=True)
        curve_rows = []
        libri = sets["LibriSpeech test-other (30 utt.)"]
        for model in ("tiny.en",):  # the curve's shape is the point; base would double the time
            spec = ModelSpec(name=model)
            reports = [evaluate(libri, opts, None, spec=spec, progress=False)]
            reports += [evaluate(libri, opts, snr, spec=spec, progress=False, seed=0)
                        for snr in SNRS]
            curve_rows.append([model] + [f"{100 * r.scores.wer:.1f}%" for r in reports])
            raw[f"{model}/snr"] = [{k: v for k, v in r.to_dict().items() if k != "rows"}
                                   for r in reports]
            save_figure(plot_wer_curve(reports, f"WER against white-noise SNR ({model}, "
                                       "LibriSpeech test-other subset)"),
                        Path(__file__).parent / "results" / f"wer_vs_snr_{model}.png")
    md = ("### ASR accuracy (int8, beam 5, VAD on, English normaliser)\n\n"
          + table(["model", "data", "WER", "CER", "utterances", "speed"], rows)
          + "\n\n### WER against SNR (white noise, LibriSpeech test-other subset)\n\n"
          + table(["model", "clean"] + [f"{s:g} dB" for s in SNRS], curve_rows))
    save("asr_accuracy", md, raw)


if __name__ == "__main__":
    main()
