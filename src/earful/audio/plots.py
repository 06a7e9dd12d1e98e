"""Headless matplotlib figures of audio and its features.

Functions build and return :class:`matplotlib.figure.Figure` objects; :func:`save_figure`
writes one to PNG. The Agg backend is used so no display is ever needed.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: must precede pyplot's import

import librosa.display
import numpy as np
from matplotlib.figure import Figure

from earful.audio.features import Feature
from earful.fsutil import atomic_write

_TITLES = {"stft_db": "Spectrogram (dB)", "mel_db": "Mel spectrogram (dB)", "mfcc": "MFCC"}


def plot_waveform(samples: np.ndarray, sample_rate: int, title: str = "Waveform") -> Figure:
    """Amplitude against time."""
    fig = Figure(figsize=(10, 3), layout="constrained")
    ax = fig.add_subplot()
    t = np.arange(len(samples)) / sample_rate
    ax.plot(t, samples, linewidth=0.5)
    ax.set(title=title, xlabel="Time (s)", ylabel="Amplitude", xlim=(0, t[-1] if t.size else 1))
    return fig


def plot_feature(feature: Feature, title: str | None = None) -> Figure:
    """A spectrogram-like feature as an image with labelled axes and a colour bar."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.add_subplot()
    y_axis = {"stft_db": "linear", "mel_db": "mel", "mfcc": None}[feature.kind]
    kwargs: dict[str, Any] = {}
    if feature.kind == "mel_db":
        kwargs = {"fmin": feature.fmin, "fmax": feature.fmax}
    img = librosa.display.specshow(feature.values, sr=feature.sample_rate,
                                   hop_length=feature.hop_length, x_axis="time", y_axis=y_axis,
                                   ax=ax, **kwargs)
    if feature.kind == "mfcc":
        ax.set_ylabel("Coefficient")
    fig.colorbar(img, ax=ax, format="%+2.0f dB" if feature.kind != "mfcc" else "%+2.0f")
    ax.set_title(title or _TITLES[feature.kind])
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """Render a figure to PNG bytes (for notebooks, HTTP responses and files)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Write a figure to PNG atomically."""
    dest = Path(path)
    with atomic_write(dest, "wb") as fh:
        fh.write(figure_png(fig, dpi))
    return dest
