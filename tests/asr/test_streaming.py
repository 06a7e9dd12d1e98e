"""Segments streamed as they are decoded agree with the whole-file transcript."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from earful.asr.options import TranscribeOptions
from earful.asr.streaming import stream_file
from earful.asr.transcribe import transcribe_file
from earful.models import manager


def test_streamed_segments_equal_the_transcript(test_data: Path) -> None:
    opts = TranscribeOptions(word_timestamps=True)
    whole = transcribe_file(test_data / "jfk.flac", opts)
    streamed = list(stream_file(test_data / "jfk.flac", opts))
    assert [s.text for s in streamed] == [s.text for s in whole.segments]
    assert [s.id for s in streamed] == list(range(len(streamed)))
    assert streamed[-1].words and streamed[-1].end <= whole.duration


def test_stopping_early_releases_the_model(tmp_path: Path, test_data: Path) -> None:
    audio, rate = sf.read(test_data / "jfk.wav", dtype="float32")
    long = tmp_path / "long.flac"
    sf.write(long, np.tile(audio, 6), rate)
    stop = threading.Event()
    seen = []
    for seg in stream_file(long, TranscribeOptions(), stop=stop):
        seen.append(seg)
        stop.set()
    assert len(seen) == 1
    assert all(m["in_use"] == 0 for m in manager.loaded())
