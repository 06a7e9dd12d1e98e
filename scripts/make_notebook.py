"""Write notebooks/audio_processing_basics.ipynb (stored without outputs).

Run: .venv/bin/python scripts/make_notebook.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

CELLS: list[tuple[str, str]] = [
    ("md", "# Audio processing basics\n\nA walk through `earful.audio` on a real recording: "
           "J. F. Kennedy's 1961 inaugural address (public domain), `samples/jfk.flac`."),
    ("code", """from pathlib import Path

from IPython.display import Audio as Play
from IPython.display import Image, display

from earful.audio import (
    add_noise,
    decode,
    mel_spectrogram,
    mfcc,
    resample,
    snr_db,
    spectrogram,
    time_stretch,
)
from earful.audio.plots import figure_png, plot_feature, plot_waveform


def show(fig):
    display(Image(figure_png(fig)))


ROOT = Path.cwd() if (Path.cwd() / "samples").exists() else Path.cwd().parent
clip = decode(ROOT / "samples" / "jfk.flac", sample_rate=16000)
y, sr = clip.samples, clip.sample_rate
print(f"{clip.duration:.2f} s; source {clip.source_sample_rate} Hz, "
      f"{clip.source_channels} channels; now mono at {sr} Hz")"""),
    ("md", "## Waveform\nThe waveform is air pressure against time. Loud syllables are tall, "
           "pauses are flat; it says little about *which* sounds were spoken."),
    ("code", "show(plot_waveform(y, sr, 'JFK, 16 kHz mono'))\ndisplay(Play(y, rate=sr))"),
    ("md", "## Spectrogram\nCutting the signal into short overlapping frames and taking the "
           "Fourier transform of each shows how much energy each frequency has over time. "
           "Vowels appear as stacks of horizontal harmonics; fricatives like *s* as broad "
           "high-frequency noise."),
    ("code", "spec = spectrogram(y, sr)\nprint(spec.values.shape, '(frequency bins, frames)')\n"
             "show(plot_feature(spec))"),
    ("md", "## Mel spectrogram\nHearing resolves low frequencies finely and high ones coarsely. "
           "The mel scale pools FFT bins into bands that are narrow at the bottom and wide "
           "at the top: fewer numbers, closer to perception. This is what Whisper reads."),
    ("code", "mel = mel_spectrogram(y, sr)\nprint(mel.values.shape, '(mel bands, frames)')\n"
             "show(plot_feature(mel))"),
    ("md", "## MFCC\nTaking a cosine transform of each log-mel frame and keeping the first "
           "coefficients summarises the spectral envelope (the shape of the vocal tract) "
           "in about 13 numbers per frame."),
    ("code", "coeffs = mfcc(y, sr)\nprint(coeffs.values.shape, '(coefficients, frames)')\n"
             "show(plot_feature(coeffs))"),
    ("md", "## Changing the sampling rate\nAt 8 kHz nothing above 4 kHz (the Nyquist "
           "frequency) survives: the top half of the spectrogram goes dark, as on a phone."),
    ("code", "y8 = resample(y, sr, 8000)\nprint(len(y), '->', len(y8), 'samples')\n"
             "show(plot_feature(spectrogram(y8, 8000), 'Spectrogram at 8 kHz'))"),
    ("md", "## Adding noise at a chosen SNR\nThe noise is scaled so the signal-to-noise ratio "
           "is exactly what we ask for. At 0 dB noise is as loud as the speech; the "
           "harmonics are still visible, which is why people (and models) cope."),
    ("code", "for target in (20, 5, 0):\n    noisy = add_noise(y, target, 'pink', seed=0)\n"
             "    print(f'asked {target:>2} dB, measured {snr_db(y, noisy - y):.2f} dB')\n"
             "show(plot_feature(spectrogram(noisy, sr), 'Spectrogram with pink noise at 0 dB'))"),
    ("md", "## Time stretching\nA phase vocoder changes the speed without changing the pitch: "
           "the harmonics stay at the same heights while the time axis shrinks."),
    ("code", "fast = time_stretch(y, 1.5)\nprint(f'{len(y)/sr:.2f} s -> {len(fast)/sr:.2f} s')\n"
             "show(plot_feature(mel_spectrogram(fast, sr), 'Mel spectrogram at 1.5x speed'))"),
]


def main() -> None:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                for kind, src in CELLS]
    out = ROOT / "notebooks" / "audio_processing_basics.ipynb"
    out.parent.mkdir(exist_ok=True)
    nbformat.write(nb, out)
    print("wrote", out)


if __name__ == "__main__":
    main()
