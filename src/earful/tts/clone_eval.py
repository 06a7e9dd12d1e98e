"""Judging a clone by the person, not by the clip it was made from.

A cloning engine sees one reference recording and is often guided by a speaker encoder, so
its output's similarity to *that clip*, measured by *that encoder*, flatters it. This module
scores what a listener would: each clone's similarity to the speaker's **other** recordings,
on sentences the engine never said while enrolling; the same after an MP3 round trip and
20 dB of noise (a clone tuned to the encoder rather than the voice loses more there); the
human ceiling (the reference against the speaker's other recordings); WER with earful's ASR;
DNSMOS; enrolment time and real-time factor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from earful.audio.io import AUDIO_EXTENSIONS, decode, encode_audio
from earful.audio.transforms import add_noise
from earful.tts.evaluate import SENTENCES, dnsmos, intelligibility
from earful.tts.result import Speech

logger = logging.getLogger(__name__)

#: (samples, sample rate) -> L2-normalised speaker embedding.
Embed = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class SpeakerCase:
    """One reference recording of a speaker and that speaker's other recordings."""

    speaker: str
    reference: tuple[np.ndarray, int]
    others: tuple[tuple[np.ndarray, int], ...]
    name: str = ""


def speaker_cases(folder: Path, min_seconds: float = 6.0, max_seconds: float = 15.0,
                  per_speaker: int = 2) -> list[SpeakerCase]:
    """Cases from ``folder/<speaker>/<files>``: up to ``per_speaker`` references per speaker
    (the first recordings lasting ``min_seconds`` to ``max_seconds``), each with every other
    recording of that speaker as what the clone is judged against."""
    cases = []
    for spk in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(p for p in spk.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
        audio = {p: decode(p, 16000) for p in files}
        refs = [p for p in files
                if min_seconds <= audio[p].duration <= max_seconds][:per_speaker]
        for ref in refs:
            others = tuple((audio[p].samples, 16000) for p in files if p != ref)
            cases.append(SpeakerCase(spk.name, (audio[ref].samples, 16000), others,
                                     name=ref.stem))
    return cases


def degrade(samples: np.ndarray, sample_rate: int, snr: float = 20.0,
            seed: int = 0) -> np.ndarray:
    """MP3 (libsndfile's default bit rate) and back, then white noise at ``snr`` dB."""
    mp3 = encode_audio(samples, sample_rate, "mp3")
    back = decode(mp3, sample_rate).samples
    return add_noise(back, snr, "white", seed=seed)


@dataclass
class CaseScore:
    """One reference's results."""

    speaker: str
    reference: str
    similarity: float
    """Mean cosine of the clones to the speaker's other recordings."""
    degraded_similarity: float
    """The same after MP3 and 20 dB noise."""
    reference_similarity: float
    """Mean cosine of the clones to the reference clip itself (what enrolment saw)."""
    ceiling: float
    """The reference clip against the speaker's other recordings."""
    wer: float
    dnsmos: float
    enrol_seconds: float
    real_time_factor: float


@dataclass
class CloneJudgement:
    """Every case of one engine, and means."""

    engine: str
    sentences: list[str]
    cases: list[CaseScore] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """Means over cases; ``drop`` is similarity lost to MP3 and noise."""
        if not self.cases:
            return {}
        keys = ("similarity", "degraded_similarity", "reference_similarity", "ceiling", "wer",
                "dnsmos", "enrol_seconds", "real_time_factor")
        out = {k: round(float(np.mean([getattr(c, k) for c in self.cases])), 4) for k in keys}
        out["drop"] = round(out["similarity"] - out["degraded_similarity"], 4)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"engine": self.engine, "sentences": self.sentences, "summary": self.summary(),
                "cases": [asdict(c) for c in self.cases]}


def judge_clones(cases: Sequence[SpeakerCase], enrol: Callable[[np.ndarray, int], Any],
                 speak: Callable[[str, Any], Speech], embed: Embed, engine: str,
                 sentences: Sequence[str] = SENTENCES,
                 progress: Callable[[str], None] | None = None) -> CloneJudgement:
    """Enrol each case's reference, clone ``sentences``, and score against the others.

    Args:
        cases: References with their speakers' other recordings.
        enrol: (samples, rate) -> whatever ``speak`` needs (timed as enrolment).
        speak: (text, enrolled voice) -> cloned speech.
        embed: The judging speaker encoder.
        engine: Name recorded in the report.
        sentences: What every clone says (none of them heard during enrolment).
        progress: Called with each case's name as it starts.
    """
    out = CloneJudgement(engine, list(sentences))
    for case in cases:
        if progress:
            progress(f"{case.speaker}/{case.name}")
        ref_emb = embed(*case.reference)
        others = np.stack([embed(*o) for o in case.others])
        start = time.perf_counter()
        voice = enrol(*case.reference)
        enrol_s = time.perf_counter() - start
        start = time.perf_counter()
        clones = [speak(s, voice) for s in sentences]
        elapsed = time.perf_counter() - start
        embs = np.stack([embed(c.samples, c.sample_rate) for c in clones])
        noisy = np.stack([embed(degrade(c.samples, c.sample_rate, seed=i), c.sample_rate)
                          for i, c in enumerate(clones)])
        wer, _ = intelligibility(clones)
        out.cases.append(CaseScore(
            speaker=case.speaker, reference=case.name,
            similarity=round(float((embs @ others.T).mean()), 4),
            degraded_similarity=round(float((noisy @ others.T).mean()), 4),
            reference_similarity=round(float((embs @ ref_emb).mean()), 4),
            ceiling=round(float((others @ ref_emb).mean()), 4),
            wer=round(wer, 4), dnsmos=round(float(np.mean([dnsmos(c) for c in clones])), 3),
            enrol_seconds=round(enrol_s, 2),
            real_time_factor=round(elapsed / sum(c.duration for c in clones), 4)))
        logger.info("%s: %s", case.name, out.cases[-1])
    return out
