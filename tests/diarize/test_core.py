"""Options, results, metrics, clustering and the simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earful.diarize.cluster import cluster_windows
from earful.diarize.embed import mel_power
from earful.diarize.metrics import overlap_regions, overlap_scores, score, speaker_mapping
from earful.diarize.options import DiarizeOptions, speaker_counts
from earful.diarize.overlap import find_overlaps, frame_levels, snap_to_pauses
from earful.diarize.result import (
    Diarization,
    Overlap,
    Turn,
    read_rttm,
    to_rttm,
    write_diarization,
)
from earful.diarize.simulate import Piece, SimOptions, simulate, split_at_pauses
from earful.errors import InvalidOptionError


@pytest.mark.parametrize("kwargs", [
    {"num_speakers": 0}, {"min_speakers": 3, "max_speakers": 2}, {"threshold": 0.0},
    {"window": 1.0, "step": 1.5}, {"chunk_seconds": 5.0}, {"threads": 0},
    {"precision": "float16"}, {"overlap": "yes"}, {"pause_min": 0.0}, {"snap_search": -1.0},
    {"overlap_before": 0.0, "overlap_after": 0.0},
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
    assert len(set(cluster_windows(emb, durations, DiarizeOptions(min_speakers=4)).tolist())) \
        == 4


def test_mel_matches_resemblyzer() -> None:
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(2)
    wav = (0.1 * rng.normal(size=16000 * 2 + 123)).astype(np.float32)
    ref = librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400, hop_length=160,
                                         n_mels=40).T
    ours = mel_power(wav)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    assert np.allclose(ours, ref, rtol=1e-4, atol=1e-6 * ref.max())


def _levels(pause_at: float | None, seconds: float = 4.0) -> np.ndarray:
    """Loudness frames: speech (30 dB above the floor) throughout, with a 0.2 s pause."""
    lv = np.full(int(seconds * 100), 30, np.uint8)
    if pause_at is not None:
        a = int(pause_at * 100)
        lv[a - 10:a + 10] = 1
    return lv


def test_changes_snap_into_pauses_and_overlaps_are_found() -> None:
    turns = [Turn("A", 0.0, 2.0), Turn("B", 2.0, 4.0)]
    opts = DiarizeOptions(pause_db=3.0, pause_min=0.1, snap_search=0.75, overlap_search=0.8,
                          overlap_before=0.3, overlap_after=0.4)
    snapped = snap_to_pauses(turns, _levels(2.4), opts)
    assert snapped == [Turn("A", 0.0, 2.4), Turn("B", 2.4, 4.0)]
    assert find_overlaps(snapped, _levels(2.4), opts) == (snapped, [])
    assert snap_to_pauses(turns, _levels(3.5), opts) == turns  # beyond snap_search
    # No pause near the change: overlapped speech, the turns left as they are...
    same, found = find_overlaps(turns, _levels(None), opts)
    assert same == turns
    assert found == [Overlap(2.0 - opts.overlap_before, 2.0 + opts.overlap_after, ("A", "B"))]
    # ...or both speakers given a turn there.
    both, _ = find_overlaps(turns, _levels(None), opts.with_(overlap="assign"))
    assert both == [Turn("A", 0.0, 2.0 + opts.overlap_after),
                    Turn("B", 2.0 - opts.overlap_before, 4.0)]
    assert find_overlaps(turns, _levels(None), opts.with_(overlap="off")) == (turns, [])
    # A gap between the turns is a pause the VAD saw; one speaker is no change.
    assert find_overlaps([Turn("A", 0.0, 1.9), Turn("B", 2.0, 4.0)], _levels(None), opts)[1] \
        == []
    assert find_overlaps([Turn("A", 0.0, 2.0), Turn("A", 2.0, 4.0)], _levels(None), opts)[1] \
        == []
    d = Diarization(both, 4.0, overlaps=found)
    assert d.to_dict()["overlaps"] == [{"start": 1.7, "end": 2.4, "speakers": ["A", "B"]}]
    assert overlap_regions(read_rttm_text(d.to_rttm("x"))) == [(1.7, 2.4)]


def read_rttm_text(text: str) -> list[Turn]:
    """The turns of RTTM text."""
    return [Turn(p[7], float(p[3]), round(float(p[3]) + float(p[4]), 3))
            for p in (line.split() for line in text.splitlines())]


def test_frame_levels_measure_from_the_noise_floor() -> None:
    rng = np.random.default_rng(4)
    noise = 0.001 * rng.normal(size=16000 * 3).astype(np.float32)
    audio = noise.copy()
    audio[16000:32000] += 0.1 * rng.normal(size=16000).astype(np.float32)  # 40 dB louder
    lv = frame_levels(audio, [(1.0, 2.0)])
    assert lv.dtype == np.uint8 and lv.size == 300
    assert np.median(lv[:90]) <= 2 and np.median(lv[210:]) <= 2
    assert 37 <= np.median(lv[110:190]) <= 43
    assert frame_levels(np.zeros(16000, np.float32), []).max() == 0  # digital silence


def test_overlap_regions_and_scores() -> None:
    ref = [Turn("a", 0.0, 2.0), Turn("b", 1.5, 3.0), Turn("a", 3.0, 4.0), Turn("a", 3.5, 5.0),
           Turn("c", 4.5, 6.0)]
    assert overlap_regions(ref) == [(1.5, 2.0), (4.5, 5.0)]
    rep = overlap_scores([(ref, [(1.75, 2.25), (3.2, 3.4)])])
    assert (rep.reference, rep.detected) == (2, 2)
    assert rep.precision == pytest.approx(0.25 / 0.7, abs=1e-4)
    assert rep.recall == pytest.approx(0.25, abs=1e-4)
    assert (rep.hit_precision, rep.hit_recall) == (0.5, 0.5)
    assert overlap_scores([]).f1 == 0.0


def test_named_speakers_carry_into_overlaps() -> None:
    from earful.diarize.known import name_speakers

    a, b = np.eye(4)[0], np.eye(4)[1]
    d = Diarization([Turn("SPEAKER_1", 0.0, 2.0), Turn("SPEAKER_2", 2.0, 3.0)], 3.0,
                    overlaps=[Overlap(1.8, 2.2, ("SPEAKER_1", "SPEAKER_2"))],
                    embeddings={"SPEAKER_1": a, "SPEAKER_2": b})
    named = name_speakers(d, {"Ann": a})
    assert named.overlaps == [Overlap(1.8, 2.2, ("Ann", "SPEAKER_2"))]
    assert to_rttm(named.turns).splitlines()[0].split()[7] == "Ann"


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
