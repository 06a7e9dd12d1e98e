"""Naming speakers from short reference clips of known voices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from earful.diarize.embed import embed_windows, speech_regions
from earful.diarize.options import DiarizeOptions
from earful.diarize.pipeline import speaker_encoder
from earful.diarize.result import Diarization, Turn
from earful.errors import InvalidOptionError

#: A diarized speaker takes a known name only if their embeddings' cosine similarity is at
#: least this (Resemblyzer: same speaker about 0.8 to 0.95, different speakers 0.4 to 0.75).
MIN_SIMILARITY = 0.75


def voice_embedding(audio: np.ndarray, opts: DiarizeOptions | None = None) -> np.ndarray:
    """The mean speaker embedding of a 16 kHz clip of one voice.

    Raises:
        InvalidOptionError: The clip holds less than half a second of speech.
    """
    opts = opts or DiarizeOptions()
    audio = np.asarray(audio, dtype=np.float32)
    regions = speech_regions(audio, opts)
    if sum(b - a for a, b in regions) < 0.5:
        raise InvalidOptionError("a known-speaker reference needs at least 0.5 s of speech")
    with speaker_encoder() as encoder:
        w = embed_windows(encoder, audio, regions, opts)
    mean = w.embeddings.mean(axis=0)
    out: np.ndarray = mean / (np.linalg.norm(mean) + 1e-9)
    return out


def name_speakers(d: Diarization, known: Mapping[str, np.ndarray],
                  min_similarity: float = MIN_SIMILARITY) -> Diarization:
    """``d`` with speakers renamed after the known voices they match.

    Each known name goes to at most one speaker and each speaker takes at most one name
    (the pairing with the highest total similarity); a pair below ``min_similarity`` is
    not made, and that speaker keeps its ``SPEAKER_n`` label.
    """
    from scipy.optimize import linear_sum_assignment

    speakers = [s for s in d.speakers if s in d.embeddings]
    names = list(known)
    if not speakers or not names:
        return d
    sims = np.array([[float(d.embeddings[s] @ known[n]) for n in names] for s in speakers])
    rows, cols = linear_sum_assignment(-sims)
    rename = {speakers[r]: names[c] for r, c in zip(rows, cols, strict=True)
              if sims[r, c] >= min_similarity}
    return replace(d, turns=[Turn(rename.get(t.speaker, t.speaker), t.start, t.end)
                             for t in d.turns],
                   overlaps=[replace(o, speakers=(rename.get(o.speakers[0], o.speakers[0]),
                                                  rename.get(o.speakers[1], o.speakers[1])))
                             for o in d.overlaps],
                   embeddings={rename.get(s, s): e for s, e in d.embeddings.items()})
