"""Draw the figures used in docs/concepts.md with earful's own functions.

Run: .venv/bin/python scripts/make_concept_figures.py
"""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
from matplotlib.figure import Figure

from earful.audio import add_noise, decode, mel_spectrogram, mfcc, spectrogram
from earful.audio.plots import plot_feature, plot_waveform, save_figure

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    clip = decode(ROOT / "samples" / "jfk.flac", 16000)
    y, sr = clip.samples[: 4 * 16000], 16000  # "And so, my fellow Americans"
    save_figure(plot_waveform(y, sr, "Waveform: 'And so, my fellow Americans'"),
                OUT / "waveform.png")
    save_figure(plot_feature(spectrogram(y, sr), "Spectrogram (STFT magnitude, dB)"),
                OUT / "spectrogram.png")
    save_figure(plot_feature(mel_spectrogram(y, sr), "Mel spectrogram (64 bands, dB)"),
                OUT / "mel.png")
    save_figure(plot_feature(mfcc(y, sr), "MFCC (13 coefficients)"), OUT / "mfcc.png")
    save_figure(plot_feature(spectrogram(add_noise(y, 0, "pink", seed=0), sr),
                             "Same words with pink noise at 0 dB SNR"), OUT / "noisy.png")
    fig = Figure(figsize=(10, 3), layout="constrained")
    ax = fig.add_subplot()
    bank = librosa.filters.mel(sr=sr, n_fft=512, n_mels=16, fmin=20)
    freqs = np.linspace(0, sr / 2, bank.shape[1])
    for row in bank:
        ax.plot(freqs, row / row.max())
    ax.set(title="16 mel filters: narrow at low frequencies, wide at high",
           xlabel="Frequency (Hz)", ylabel="Weight")
    save_figure(fig, OUT / "mel_filters.png")
    print("wrote", sorted(p.name for p in OUT.glob("*.png")))


if __name__ == "__main__":
    main()
