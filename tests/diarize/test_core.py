"""Options, results, metrics, clustering and the simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earful.diarize.cluster import cluster_windows
from earful.diarize.metrics import score, speaker_mapping
from earful.diarize.options import DiarizeOptions, speaker_counts
from earful.diarize.result import Diarization, Turn, read_rttm, write_diarization
from earful.diarize.simulate import Piece, SimOptions, simulate, split_at_pauses
from earful.errors import InvalidOptionError


@pytest.mark.parametrize("kwargs", [
    {"num_speakers": 0}, {"min_speakers": 3, "max_speakers": 2}, {"threshold": 0.0},
    {"window": 1.0, "step": 1.5}, {"chunk_seconds": 5.0}, {"threads": 0},
])
def test_options_refuse_bad_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidOptionError):
        DiarizeOptions(**kwargs)


def test_speaker_counts() -> None:
    assert DiarizeOptions(num_speakers=3).speaker_range() == (3, 3)
    assert DiarizeOptions(min_speakers=2, max_speakers=4).speaker_range() == (2, 4)
    assert speaker_counts(None, 2, None) == {"min_speakers": 2, "max_speakers": 8}
    assert speaker_counts(None, 9, None) == {"min_speakers": 9, "max_speakers": 9}
    with pytest.raises(InvalidOptionError, match="not both"):
        speaker_counts(2, 1, None)


def test_rttm_round_trip(tmp_path: Path) -> None:
    d = Diarization([Turn("SPEAKER_1", 0.5, 2.25), Turn("SPEAKER_2", 2.0, 4.0)], 5.0)
    path = write_diarization(d, tmp_path / "talk.rttm", "rttm")
    text = path.read_text()
    assert text.splitlines()[0] == "SPEAKER talk 1 0.500 1.750 <NA> <NA> SPEAKER_1 <NA> <NA>"
    assert read_rttm(path) == {"talk": d.turns}
    js = write_diarization(d, tmp_path / "talk.json", "json").read_text()
    assert '"speakers": [\n    "SPEAKER_1",\n    "SPEAKER_2"\n  ]' in js
    with pytest.raises(InvalidOptionError):
        write_diarization(d, tmp_path / "talk.txt", "txt")


def test_speaker_at_prefers_most_overlap_then_nearest() -> None:
    d = Diarization([Turn("A", 0.0, 2.0), Turn("B", 1.8, 4.0), Turn("A", 6.0, 7.0)], 8.0)
    assert d.speaker_at(1.7, 2.5) == "B"
    assert d.speaker_at(0.1, 0.3) == "A"
    assert d.speaker_at(5.0, 5.2) == "A"  # in a pause: the nearest turn
    assert Diarization([], 1.0).speaker_at(0.0, 1.0) is None


def test_metrics_known_values() -> None:
    ref = [Turn("a", 0.0, 10.0), Turn("b", 10.0, 20.0)]
    assert score([("same", ref, [Turn("x", 0.0, 10.0), Turn("y", 10.0, 20.0)])]).der == 0.0
    # Half of a's speech given to b's label: 5 s confused of 20 s (the collar forgives
    # 0.25 s each side of the reference boundaries only, not this inner change).
    rep = score([("half", ref, [Turn("x", 0.0, 5.0), Turn("y", 5.0, 20.0)])], collar=0.0)
    assert rep.der == pytest.approx(0.25)
    assert rep.files[0].confusion == pytest.approx(5.0)
    assert rep.count_accuracy == 1.0
    missed = score([("miss", ref, [Turn("x", 0.0, 10.0)])], collar=0.0)
    assert missed.der == pytest.approx(0.5) and missed.count_accuracy == 0.0
    assert speaker_mapping(ref, [Turn("x", 10.0, 20.0), Turn("y", 0.0, 10.0)]) == \
        {"x": "b", "y": "a"}


def test_clustering_separates_and_respects_counts() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 32))
    emb = np.concatenate([c + 0.25 * rng.normal(size=(40, 32)) for c in centres])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    durations = np.full(len(emb), 1.5)
    labels = cluster_windows(emb, durations, DiarizeOptions())
    assert len(set(labels.tolist())) == 3
    for block in range(3):  # each true speaker is one label
        assert len(set(labels[block * 40:(block + 1) * 40].tolist())) == 1
    assert len(set(cluster_windows(emb, durations, DiarizeOptions(num_speakers=2)).tolist())) \
        == 2
    assert len(set(cluster_windows(emb, durations, DiarizeOptions(max_speakers=2)).tolist())) \
        == 2


def test_split_at_pauses() -> None:
    sr = 16000
    rng = np.random.default_rng(1)
    burst = (0.3 * rng.normal(size=int(1.2 * sr))).astype(np.float32)
    gap = np.zeros(int(0.5 * sr), np.float32)
    audio = np.concatenate([gap, burst, gap, burst, np.zeros(int(0.1 * sr), np.float32),
                            burst, gap])
    pieces = split_at_pauses(audio, "s", SimOptions())
    assert len(pieces) == 2  # the 0.1 s pause does not split
    assert pieces[0].audio.size / sr == pytest.approx(1.2, abs=0.05)
    assert pieces[1].speech[0][1] == pytest.approx(2.5, abs=0.05)


def test_simulator_is_seeded_and_consistent(pieces: dict[str, list[Piece]]) -> None:
    a1, t1 = simulate(pieces, np.random.default_rng(5))
    a2, t2 = simulate(pieces, np.random.default_rng(5))
    a3, _ = simulate(pieces, np.random.default_rng(6))
    assert np.array_equal(a1, a2) and t1 == t2
    assert a3.size != a1.size or not np.array_equal(a1, a3)
    assert {t.speaker for t in t1} == set(pieces)
    assert all(0 <= t.start < t.end <= a1.size / 16000 for t in t1)
    assert np.max(np.abs(a1)) <= 0.95 + 1e-6
    with pytest.raises(InvalidOptionError):
        SimOptions(pieces_per_speaker=(3, 2))
