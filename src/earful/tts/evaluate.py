"""How good is a clone? Speaker similarity, intelligibility, quality and speed.

* **similarity**: cosine of Resemblyzer embeddings between the reference and the output
  (:mod:`earful.tts.similarity`), next to the same score for the unconverted Piper voice,
  the baseline a cloning engine must beat;
* **WER**: earful's own ASR (Whisper tiny.en) transcribes the output and is scored against
  the text, after Whisper's English normalisation;
* **DNSMOS**: Microsoft's no-reference estimate of the mean opinion score (1 to 5) from
  ``speechmos``;
* **real-time factor**: seconds of computing per second of output (below 1 is faster than
  real time; the speed-up is its inverse).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from earful.audio.io import AUDIO_EXTENSIONS
from earful.audio.transforms import resample
from earful.errors import DependencyMissingError, ReferenceAudioError, UnsupportedFormatError
from earful.tts.result import Speech

logger = logging.getLogger(__name__)

#: Harvard sentences (lists 2 and 3), none of them in the offline engine's calibration text.
SENTENCES = (
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
)


def intelligibility(speeches: Sequence[Speech], model: str | None = None
                    ) -> tuple[float, list[str]]:
    """Corpus WER of the ASR's transcripts of ``speeches`` against their texts.

    Args:
        speeches: English speech with the text it was made from.
        model: The Whisper model that listens (default earful's, tiny.en); a second,
            larger listener tells the speech's faults from the listener's.
    """
    from earful.asr.evaluate import get_normaliser, score
    from earful.asr.options import ModelSpec, TranscribeOptions
    from earful.asr.transcribe import transcribe

    spec = ModelSpec() if model is None else ModelSpec(name=model)
    opts = TranscribeOptions(language=None if spec.english_only else "en")
    heard = [transcribe(resample(s.samples, s.sample_rate, 16000), opts, spec).text
             for s in speeches]
    return score([s.text for s in speeches], heard, get_normaliser()).wer, heard


def dnsmos(speech: Speech) -> float:
    """DNSMOS overall quality (1 to 5) of one output."""
    try:
        from speechmos import dnsmos as model
    except ImportError as e:
        raise DependencyMissingError("speechmos", "eval", "DNSMOS quality scores") from e
    x = np.clip(resample(speech.samples, speech.sample_rate, 16000), -1.0, 1.0)
    return float(model.run(x, 16000)["ovrl_mos"])


def _rtf(speeches: Sequence[Speech]) -> float:
    busy = sum(sum(s.timings.values()) for s in speeches)
    return busy / max(sum(s.duration for s in speeches), 1e-9)


@dataclass
class VoiceScore:
    """One reference voice's results."""

    voice: str
    reference_seconds: float
    similarity: float
    baseline_similarity: float
    wer: float
    dnsmos: float
    real_time_factor: float
    reference_analysis_seconds: float


@dataclass
class CloneReport:
    """Everything ``earful eval-clone`` measured."""

    engine: str
    sentences: list[str]
    voices: list[VoiceScore] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    piper: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """Means over voices."""
        if not self.voices:
            return {}
        keys = ("similarity", "baseline_similarity", "wer", "dnsmos", "real_time_factor",
                "reference_analysis_seconds")
        out = {k: round(float(np.mean([getattr(v, k) for v in self.voices])), 4) for k in keys}
        out["gain"] = round(out["similarity"] - out["baseline_similarity"], 4)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"engine": self.engine, "sentences": self.sentences, "summary": self.summary(),
                "piper": self.piper, "voices": [asdict(v) for v in self.voices],
                "skipped": self.skipped}


def reference_files(folder: Path) -> list[Path]:
    """Audio files directly in ``folder``, sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)


def evaluate_clones(references: Sequence[Path], speak: Callable[[str], Speech],
                    clone: Callable[[str, Any], Speech], encoder: Any,
                    sentences: Sequence[str] = SENTENCES, engine: str = "offline",
                    progress: Callable[[str], None] | None = None,
                    prepare: Callable[[Any], Any] | None = None) -> CloneReport:
    """Clone ``sentences`` toward every reference and score the results.

    Args:
        references: Reference recordings (3 to 30 s; others are reported as skipped).
        speak: Text -> plain speech from the base voice (the baseline).
        clone: (text, reference) -> cloned speech.
        encoder: A speaker encoder from :func:`earful.tts.similarity.load_speaker_encoder`.
        sentences: What every voice says.
        engine: Name recorded in the report.
        progress: Called with each reference's name as it starts.
        prepare: Called with each reference before timing starts: the one-off analysis of a
            voice (what saving a voice does), timed and reported on its own.
    """
    from earful.tts.reference import load_reference
    from earful.tts.similarity import cosine, embed

    report = CloneReport(engine=engine, sentences=list(sentences))
    plain = [speak(s) for s in sentences]
    plain_wer, _ = intelligibility(plain)
    report.piper = {"wer": round(plain_wer, 4), "real_time_factor": round(_rtf(plain), 4),
                    "dnsmos": round(float(np.mean([dnsmos(s) for s in plain])), 3)}
    plain_emb = [embed(encoder, s.samples, s.sample_rate) for s in plain]
    for path in references:
        if progress:
            progress(path.name)
        try:
            ref = load_reference(path, name=path.name)
        except (ReferenceAudioError, UnsupportedFormatError) as e:
            report.skipped[path.name] = str(e)
            logger.info("skipping %s: %s", path.name, e)
            continue
        ref_emb = embed(encoder, ref.samples, ref.sample_rate)
        start = time.perf_counter()
        if prepare is not None:
            prepare(ref)
        analysis = time.perf_counter() - start
        start = time.perf_counter()
        outs = [clone(s, ref) for s in sentences]
        elapsed = time.perf_counter() - start
        wer, _ = intelligibility(outs)
        report.voices.append(VoiceScore(
            voice=path.name, reference_seconds=round(ref.duration, 2),
            similarity=round(float(np.mean([cosine(ref_emb, embed(encoder, o.samples,
                                                                  o.sample_rate))
                                            for o in outs])), 4),
            baseline_similarity=round(float(np.mean([cosine(ref_emb, e) for e in plain_emb])),
                                      4),
            wer=round(wer, 4), dnsmos=round(float(np.mean([dnsmos(o) for o in outs])), 3),
            real_time_factor=round(elapsed / sum(o.duration for o in outs), 4),
            reference_analysis_seconds=round(analysis, 3)))
    return report
