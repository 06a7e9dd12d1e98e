"""The audio-basics report: a JSON summary and four figures for one file."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from earful.audio.features import mel_spectrogram, mfcc, spectrogram
from earful.audio.io import Audio, AudioSource, decode
from earful.audio.plots import plot_feature, plot_waveform, save_figure
from earful.audio.transforms import dbfs
from earful.fsutil import atomic_write


@dataclass(frozen=True)
class AudioSummary:
    """Basic facts about a recording."""

    duration: float
    """Length in seconds."""
    sample_rate: int
    """The source's sample rate in Hz."""
    channels: int
    """The source's channel count."""
    rms_dbfs: float | None
    """RMS level of the mono mix, dB full scale (``None`` for digital silence)."""
    peak_dbfs: float | None
    """Peak level of the mono mix, dB full scale (``None`` for digital silence)."""


def summarize(audio: Audio) -> AudioSummary:
    """Summarise decoded audio (levels are measured on the mono mix)."""
    rms, peak = dbfs(audio.samples)
    return AudioSummary(round(audio.duration, 4), audio.source_sample_rate,
                        audio.source_channels, _finite(rms), _finite(peak))


def _finite(db: float) -> float | None:
    return round(db, 2) if math.isfinite(db) else None


def analyze(source: AudioSource, out_dir: str | os.PathLike[str], *, name: str | None = None,
            ) -> dict[str, Path]:
    """Write ``waveform.png``, ``spectrogram.png``, ``mel.png``, ``mfcc.png`` and ``summary.json``.

    The audio is analysed at its own sample rate.

    Returns:
        A mapping from artefact name to the written path.
    """
    audio = decode(source, None, name=name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    y, sr = audio.samples, audio.sample_rate
    figures = {
        "waveform": plot_waveform(y, sr),
        "spectrogram": plot_feature(spectrogram(y, sr)),
        "mel": plot_feature(mel_spectrogram(y, sr)),
        "mfcc": plot_feature(mfcc(y, sr)),
    }
    written = {key: save_figure(fig, out / f"{key}.png") for key, fig in figures.items()}
    summary = asdict(summarize(audio))
    summary["source"] = name or (os.fspath(source) if isinstance(source, str | os.PathLike)
                                 else "<bytes>")
    with atomic_write(out / "summary.json") as fh:
        json.dump(summary, fh, indent=2)
    written["summary"] = out / "summary.json"
    return written
