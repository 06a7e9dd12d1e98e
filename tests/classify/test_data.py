"""Data-set loaders and splits: layouts, folds, and no speaker ever in two splits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from earful.classify import data
from earful.errors import DatasetError


def speakers_by_split(examples: list[data.Example]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {s: set() for s in data.SPLITS}
    for e in examples:
        if e.group:
            out[e.split].add(e.group)
    return out


def assert_disjoint(examples: list[data.Example]) -> None:
    by = speakers_by_split(examples)
    assert not (by["train"] & by["val"]) and not (by["train"] & by["test"])
    assert not (by["val"] & by["test"])


def test_shared_speech_commands_split_by_speaker(shared_data: Path) -> None:
    ex = data.speech_commands(shared_data / "speech_commands")
    assert len(ex) == 3554
    assert data.labels_of(ex) == sorted([*data.KWS_WORDS, data.UNKNOWN, data.SILENCE])
    assert_disjoint(ex)
    counts = Counter(e.split for e in ex)
    assert counts["train"] > 0.7 * len(ex) and counts["val"] > 0 and counts["test"] > 0


def test_official_speech_commands_lists_and_tasks(sc_full_tree: Path) -> None:
    ex12 = data.speech_commands(sc_full_tree, "12")
    assert {e.split for e in ex12 if e.group == "cccc3333"} == {"val"}
    assert {e.split for e in ex12 if e.group == "dddd4444"} == {"test"}
    assert {e.label for e in ex12} == {"yes", "no", data.UNKNOWN, data.SILENCE}
    silence = [e for e in ex12 if e.label == data.SILENCE]
    assert silence and all(e.path.parent.name == "_background_noise_" for e in silence)
    ex35 = data.speech_commands(sc_full_tree, "35")
    assert {e.label for e in ex35} == {"yes", "no", "marvin", "sheila"}
    assert_disjoint(ex12)


@pytest.mark.parametrize("fold", [1, 3, 5])
def test_esc50_folds(esc50_tree: Path, fold: int) -> None:
    ex = data.esc50(esc50_tree, fold)
    val_fold = fold % 5 + 1
    for e in ex:
        file_fold = int(e.path.name.split("-")[0])
        expected = "test" if file_fold == fold else "val" if file_fold == val_fold else "train"
        assert e.split == expected
    assert_disjoint(ex)
    assert Counter(e.split for e in ex) == {"train": 36, "val": 12, "test": 12}


def test_esc50_needs_meta(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"esc50\.csv"):
        data.esc50(tmp_path)


def test_fsdd_splits(shared_data: Path) -> None:
    official = data.fsdd(shared_data / "fsdd")
    assert Counter(e.split for e in official) == {"test": 300, "val": 300, "train": 2400}
    for spk in ("george", "theo"):
        ex = data.fsdd(shared_data / "fsdd", "speaker", spk)
        assert_disjoint(ex)
        assert speakers_by_split(ex)["test"] == {spk}
    with pytest.raises(DatasetError):
        data.fsdd(shared_data / "fsdd", "speaker", "nobody")


def test_folder_tree_groups(tone_tree: Path) -> None:
    ex = data.folder_tree(tone_tree, r"^(spk\d+)_")
    assert_disjoint(ex)
    assert data.labels_of(ex) == ["high", "low", "mid"]
    assert len({e.group for e in ex}) == 20  # the pattern, not the file, is the group


def test_leak_check_catches_a_leak(tone_tree: Path) -> None:
    a = data.Example(tone_tree / "x.wav", "a", "train", "spk1")
    b = data.Example(tone_tree / "y.wav", "a", "test", "spk1")
    with pytest.raises(DatasetError, match="spk1"):
        data.check_no_group_leak([a, b])


def test_hash_split_is_stable() -> None:
    assert [data.hash_split(f"s{i}") for i in range(50)] == \
        [data.hash_split(f"s{i}") for i in range(50)]
