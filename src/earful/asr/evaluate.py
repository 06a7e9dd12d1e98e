"""WER and CER against reference transcripts, optionally under added noise.

Text is normalised the way the Whisper paper does (``whisper-normalizer``'s English
normaliser: case, punctuation, numbers, British/American spellings) before jiwer counts
errors, so the numbers measure recognition rather than formatting.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe
from earful.audio.constants import SAMPLE_RATE
from earful.audio.io import load_audio
from earful.audio.transforms import add_noise
from earful.errors import DatasetError, DependencyMissingError, EarfulError, InvalidOptionError

logger = logging.getLogger(__name__)

NORMALISERS = ("english", "basic", "none")


def get_normaliser(name: str = "english") -> Callable[[str], str]:
    """The text normaliser applied to both reference and hypothesis."""
    if name == "none":
        return lambda s: " ".join(s.split())
    try:
        from whisper_normalizer.basic import BasicTextNormalizer
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError as e:
        raise DependencyMissingError("whisper-normalizer", "asr", "WER evaluation") from e
    if name == "english":
        return EnglishTextNormalizer()
    if name == "basic":
        return BasicTextNormalizer()
    raise InvalidOptionError(f"normaliser must be one of {NORMALISERS}, got {name!r}")


@dataclass(frozen=True)
class Scores:
    """Corpus-level error rates and the counts behind them."""

    wer: float
    cer: float
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int


def score(references: Sequence[str], hypotheses: Sequence[str],
          normaliser: Callable[[str], str]) -> Scores:
    """Corpus WER and CER of normalised hypotheses against normalised references.

    Utterances whose reference normalises to nothing are left out (jiwer cannot score them).
    """
    import jiwer

    pairs = [(normaliser(r), normaliser(h)) for r, h in zip(references, hypotheses, strict=True)]
    pairs = [(r, h) for r, h in pairs if r.strip()]
    if not pairs:
        raise InvalidOptionError("no non-empty references to score against")
    refs, hyps = [r for r, _ in pairs], [h for _, h in pairs]
    words = jiwer.process_words(refs, hyps)
    chars = jiwer.process_characters(refs, hyps)
    return Scores(round(words.wer, 4), round(chars.cer, 4), words.substitutions,
                  words.deletions, words.insertions,
                  words.hits + words.substitutions + words.deletions)


def read_manifest(path: str | Path) -> list[tuple[Path, str]]:
    """Read a TSV with ``file`` and ``text`` columns; files are relative to the manifest."""
    manifest = Path(path)
    if not manifest.is_file():
        raise DatasetError(f"manifest not found: {manifest}")
    with open(manifest, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not reader.fieldnames or not {"file", "text"} <= set(reader.fieldnames):
            raise DatasetError(f"{manifest} needs a header with 'file' and 'text' columns")
        rows = [(manifest.parent / row["file"], row["text"] or "") for row in reader]
    if not rows:
        raise DatasetError(f"{manifest} lists no files")
    return rows


@dataclass(frozen=True)
class Utterance:
    """One file's reference, hypothesis and error rate."""

    file: str
    reference: str
    hypothesis: str
    wer: float
    duration: float


@dataclass
class EvalReport:
    """The result of evaluating a manifest under one condition."""

    snr_db: float | None
    scores: Scores
    utterances: list[Utterance] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (per-utterance rows included)."""
        return {
            "snr_db": self.snr_db, **self.scores.__dict__,
            "utterances": len(self.utterances), "failed": self.failed,
            "audio_seconds": round(self.audio_seconds, 2),
            "wall_seconds": round(self.wall_seconds, 2),
            "real_time_factor": round(self.wall_seconds / self.audio_seconds, 4)
            if self.audio_seconds else None,
            "rows": [u.__dict__ for u in self.utterances],
        }


def evaluate(rows: Sequence[tuple[Path, str]], opts: TranscribeOptions,
             snr_db: float | None = None, *, spec: ModelSpec | None = None,
             normaliser: str = "english", seed: int = 0, progress: bool = True) -> EvalReport:
    """Transcribe every file (with white noise at ``snr_db`` if given) and score it."""
    from tqdm import tqdm

    spec = spec or ModelSpec()
    opts.check_for(spec)
    norm = get_normaliser(normaliser)
    utterances: list[Utterance] = []
    failed: list[tuple[str, str]] = []
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    label = "clean" if snr_db is None else f"{snr_db:g} dB"
    for path, reference in tqdm(rows, desc=label, unit="file", disable=not progress,
                                leave=False):
        try:
            audio = load_audio(path, SAMPLE_RATE)
            if snr_db is not None:
                audio = add_noise(audio, snr_db, "white", seed=rng)
            hyp = transcribe(audio, opts, spec).text
        except EarfulError as e:
            failed.append((str(path), str(e)))
            logger.error("skipped %s: %s", path, e)
            continue
        utterances.append(utterance(str(path), reference, hyp, len(audio) / SAMPLE_RATE, norm))
    return build_report(snr_db, utterances, failed, time.perf_counter() - start, norm)


def build_report(snr_db: float | None, utterances: list[Utterance],
                 failed: list[tuple[str, str]], wall_seconds: float,
                 norm: Callable[[str], str]) -> EvalReport:
    """Corpus scores over transcribed utterances (shared by local and Ray evaluation)."""
    if not utterances:
        raise DatasetError("no file in the manifest could be transcribed")
    scores = score([u.reference for u in utterances], [u.hypothesis for u in utterances], norm)
    return EvalReport(snr_db, scores, utterances, failed,
                      sum(u.duration for u in utterances), wall_seconds)


def utterance(path: str, reference: str, hypothesis: str, duration: float,
              norm: Callable[[str], str]) -> Utterance:
    """One scored utterance."""
    one = score([reference], [hypothesis], norm).wer if norm(reference).strip() else 0.0
    return Utterance(path, reference, hypothesis, one, round(duration, 3))


def plot_wer_curve(reports: Sequence[EvalReport], title: str = "WER against SNR") -> Figure:
    """A figure of WER (%) against SNR; the clean condition is drawn as a dashed line."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    noisy = sorted((r for r in reports if r.snr_db is not None), key=lambda r: r.snr_db or 0)
    ax.plot([float(r.snr_db or 0.0) for r in noisy], [100 * r.scores.wer for r in noisy], "o-",
            label="noisy")
    for r in reports:
        if r.snr_db is None:
            ax.axhline(100 * r.scores.wer, linestyle="--", color="gray", label="clean")
    ax.set(title=title, xlabel="SNR (dB, white noise)", ylabel="WER (%)")
    ax.invert_xaxis()
    ax.legend()
    return fig


def word_diff(reference: str, hypothesis: str,
              normaliser: Callable[[str], str] | None = None) -> list[tuple[str, str | None]]:
    """A word-level alignment of two texts for display, as ``(text, label)`` pairs.

    Labels: ``None`` for a matching word, ``"substituted"`` (shown as ``ref→hyp``),
    ``"deleted"`` (a reference word the hypothesis lacks) and ``"inserted"``.
    """
    import jiwer

    norm = normaliser or get_normaliser()
    ref, hyp = norm(reference), norm(hypothesis)
    if not ref.strip():
        return [(w, "inserted") for w in hyp.split()]
    out = jiwer.process_words(ref, hyp if hyp.strip() else "")
    refs, hyps = out.references[0], out.hypotheses[0]
    pairs: list[tuple[str, str | None]] = []
    for chunk in out.alignments[0]:
        r = refs[chunk.ref_start_idx:chunk.ref_end_idx]
        h = hyps[chunk.hyp_start_idx:chunk.hyp_end_idx]
        if chunk.type == "equal":
            pairs += [(w, None) for w in r]
        elif chunk.type == "substitute":
            pairs += [(f"{a}→{b}", "substituted") for a, b in zip(r, h, strict=True)]
        elif chunk.type == "delete":
            pairs += [(w, "deleted") for w in r]
        else:
            pairs += [(w, "inserted") for w in h]
    return pairs
