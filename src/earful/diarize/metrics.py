"""DER and JER with ``pyannote.metrics``, per recording and overall; how well overlapped
speech was found.

The collar follows NIST md-eval's convention: ``collar=0.25`` forgives 0.25 s on *each*
side of every reference boundary (pyannote's ``collar`` is the total width, so it is given
twice this). Overlapped speech is scored (``skip_overlap=False``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from earful.diarize.result import Turn
from earful.errors import DependencyMissingError


def _pyannote() -> Any:
    try:
        import pyannote.core as core
        import pyannote.metrics.diarization as diar
    except ImportError as e:
        raise DependencyMissingError("pyannote.metrics", "diarize", "DER and JER") from e
    return core, diar


def annotation(turns: Iterable[Turn]) -> Any:
    """A ``pyannote.core.Annotation`` of ``turns``."""
    core, _ = _pyannote()
    ann = core.Annotation()
    for i, t in enumerate(turns):
        if t.end > t.start:
            ann[core.Segment(t.start, t.end), i] = t.speaker
    return ann


@dataclass
class FileScore:
    """One recording's scores."""

    uri: str
    der: float
    jer: float
    missed: float
    """Seconds of reference speech the hypothesis missed."""
    false_alarm: float
    """Seconds of hypothesis speech where the reference has none."""
    confusion: float
    """Seconds given to the wrong speaker."""
    total: float
    """Seconds of reference speech scored."""
    ref_speakers: int
    hyp_speakers: int

    @property
    def count_right(self) -> bool:
        """Whether the hypothesis found as many speakers as the reference has."""
        return self.ref_speakers == self.hyp_speakers


@dataclass
class Report:
    """Scores of many recordings; ``der`` and ``jer`` pooled over all of them."""

    files: list[FileScore] = field(default_factory=list)
    der: float = 0.0
    jer: float = 0.0
    count_accuracy: float = 0.0
    """Share of recordings whose speaker count was found right."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"der": self.der, "jer": self.jer, "count_accuracy": self.count_accuracy,
                "files": [asdict(f) for f in self.files]}


def score(pairs: Iterable[tuple[str, list[Turn], list[Turn]]], collar: float = 0.25) -> Report:
    """Score ``(uri, reference, hypothesis)`` triples.

    Args:
        pairs: Each recording's name, reference turns and hypothesis turns.
        collar: Seconds forgiven on each side of each reference boundary.
    """
    _, diar = _pyannote()
    der_metric = diar.DiarizationErrorRate(collar=2 * collar, skip_overlap=False)
    jer_metric = diar.JaccardErrorRate(collar=2 * collar, skip_overlap=False)
    report = Report()
    for uri, ref_turns, hyp_turns in pairs:
        ref, hyp = annotation(ref_turns), annotation(hyp_turns)
        uem = ref.get_timeline().union(hyp.get_timeline()).extent()
        parts = der_metric(ref, hyp, uem=uem, detailed=True)
        jer = jer_metric(ref, hyp, uem=uem)
        report.files.append(FileScore(
            uri=uri, der=round(float(parts["diarization error rate"]), 4),
            jer=round(float(jer), 4), missed=round(parts["missed detection"], 3),
            false_alarm=round(parts["false alarm"], 3), confusion=round(parts["confusion"], 3),
            total=round(parts["total"], 3), ref_speakers=len(ref.labels()),
            hyp_speakers=len(hyp.labels())))
    if report.files:
        report.der = round(float(abs(der_metric)), 4)
        report.jer = round(float(abs(jer_metric)), 4)
        report.count_accuracy = round(sum(f.count_right for f in report.files)
                                      / len(report.files), 4)
    return report


def speaker_mapping(reference: list[Turn], hypothesis: list[Turn]) -> dict[str, str]:
    """The hypothesis-to-reference speaker mapping that minimises confusion."""
    _, diar = _pyannote()
    mapping: dict[str, str] = diar.DiarizationErrorRate().optimal_mapping(
        annotation(reference), annotation(hypothesis))
    return mapping


def overlap_regions(turns: Iterable[Turn]) -> list[tuple[float, float]]:
    """The stretches where two or more of ``turns`` of different speakers run at once."""
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for t in turns:
        by_speaker.setdefault(t.speaker, []).append((t.start, t.end))
    events: list[tuple[float, int]] = []
    for spans in by_speaker.values():  # one speaker's own turns merged first
        spans.sort()
        merged: list[list[float]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        events += [(a, 1) for a, _ in merged] + [(b, -1) for _, b in merged]
    out: list[tuple[float, float]] = []
    active, since = 0, 0.0
    for when, step in sorted(events):
        if step > 0 and active == 1:
            since = when
        elif step < 0 and active == 2 and when > since:
            out.append((since, when))
        active += step
    return out


def _shared(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(x1, y1) - max(x0, y0)) for x0, x1 in a for y0, y1 in b)


@dataclass
class OverlapReport:
    """How well overlapped speech was found, over many recordings."""

    reference: int = 0
    """Stretches of overlapped speech in the references."""
    detected: int = 0
    """Stretches reported."""
    precision: float = 0.0
    """Share of the reported seconds that are overlapped speech."""
    recall: float = 0.0
    """Share of the overlapped seconds that were reported."""
    hit_precision: float = 0.0
    """Share of the reported stretches that touch a reference overlap."""
    hit_recall: float = 0.0
    """Share of the reference overlaps that a reported stretch touches."""

    @property
    def f1(self) -> float:
        """Harmonic mean of the time-based precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**asdict(self), "f1": round(self.f1, 4)}


def overlap_scores(pairs: Iterable[tuple[list[Turn], list[tuple[float, float]]]],
                   ) -> OverlapReport:
    """Score reported overlaps against reference turns.

    Args:
        pairs: Each recording's reference turns and reported ``(start, end)`` overlaps.
    """
    shared = reported = truth = 0.0
    hits = touched = 0
    rep = OverlapReport()
    for ref_turns, found in pairs:
        ref = overlap_regions(ref_turns)
        shared += _shared(ref, found)
        reported += sum(b - a for a, b in found)
        truth += sum(b - a for a, b in ref)
        rep.reference += len(ref)
        rep.detected += len(found)
        hits += sum(_shared([r], found) > 0 for r in ref)
        touched += sum(_shared([f], ref) > 0 for f in found)
    rep.precision = round(shared / reported, 4) if reported else 0.0
    rep.recall = round(shared / truth, 4) if truth else 0.0
    rep.hit_precision = round(touched / rep.detected, 4) if rep.detected else 0.0
    rep.hit_recall = round(hits / rep.reference, 4) if rep.reference else 0.0
    return rep
