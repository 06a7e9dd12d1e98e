"""Features: shapes, frequencies and option validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earful.audio.analyze import analyze
from earful.audio.features import (
    MelOptions,
    MfccOptions,
    StftOptions,
    log_mel,
    mel_spectrogram,
    mfcc,
    spectrogram,
)
from earful.errors import InvalidOptionError
from tests.conftest import tone


def test_spectrogram_peak_bin_is_the_tone() -> None:
    feat = spectrogram(tone(1000), 16000, StftOptions(n_fft=512, hop_length=160))
    assert feat.values.shape == (257, 101)
    peak_bin = int(np.argmax(feat.values.mean(axis=1)))
    assert peak_bin * 16000 / 512 == pytest.approx(1000, abs=16000 / 512)
    assert feat.values.max() == pytest.approx(0.0) and feat.values.min() >= -80.0


def test_mel_higher_tone_lands_in_higher_band() -> None:
    low = mel_spectrogram(tone(300), 16000).values.mean(axis=1).argmax()
    high = mel_spectrogram(tone(3000), 16000).values.mean(axis=1).argmax()
    assert high > low


def test_mfcc_shape_and_log_mel_loudness() -> None:
    x = tone(500)
    assert mfcc(x, 16000, MfccOptions(n_mfcc=20)).values.shape[0] == 20
    # log_mel keeps absolute level: a copy 20 dB quieter is never louder, and in the tone's
    # band its log power is lower by ln(100).
    quiet, loud = log_mel(0.1 * x, 16000), log_mel(x, 16000)
    assert (quiet <= loud + 1e-5).all()
    band = int(loud.mean(axis=1).argmax())
    assert (loud[band] - quiet[band]).mean() == pytest.approx(np.log(100), abs=0.05)
    assert log_mel(x, 16000, MelOptions(n_mels=40)).dtype == np.float32


@pytest.mark.parametrize("bad", [
    lambda: StftOptions(n_fft=0), lambda: StftOptions(win_length=1024, n_fft=512),
    lambda: MelOptions(n_mels=0), lambda: MelOptions(fmin=4000, fmax=100),
    lambda: MfccOptions(n_mfcc=100),
])
def test_invalid_options_are_rejected(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidOptionError):
        bad()


def test_empty_audio_rejected() -> None:
    with pytest.raises(InvalidOptionError):
        spectrogram(np.zeros(0, dtype=np.float32), 16000)


def test_analyze_writes_figures_and_summary(test_data: Path, tmp_path: Path) -> None:
    written = analyze(test_data / "jfk_stereo_44k.flac", tmp_path)
    for key in ("waveform", "spectrogram", "mel", "mfcc"):
        assert written[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads(written["summary"].read_text())
    assert summary["channels"] == 2 and summary["sample_rate"] == 44100
    assert summary["duration"] == pytest.approx(2.5, abs=1e-3)
    assert summary["peak_dbfs"] <= 0 and summary["rms_dbfs"] < summary["peak_dbfs"]
