"""Simulated conversations from the shared speech data, built once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earful.diarize.result import Turn
from earful.diarize.simulate import Piece, load_pieces, speech_corpus

SPEAKERS = ("lo1998", "lo2033", "read")


@pytest.fixture(scope="session")
def pieces(shared_data: Path) -> dict[str, list[Piece]]:
    """Pieces of three speakers with plenty of material (two LibriSpeech test-other
    speakers and the read-speech speaker)."""
    corpus = speech_corpus(shared_data / "speech")
    return {s: load_pieces(corpus[s][:4], s) for s in SPEAKERS}


@pytest.fixture(scope="session")
def conversation(pieces: dict[str, list[Piece]]) -> tuple[np.ndarray, list[Turn]]:
    """A seeded two-speaker conversation and its reference turns."""
    from earful.diarize.simulate import simulate

    return simulate({s: pieces[s] for s in SPEAKERS[:2]}, np.random.default_rng(3))
