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


def test_spec_load_uses_each_loader(esc50_tree: Path, tone_tree: Path,
                                    sc_full_tree: Path) -> None:
    assert data.load(data.DatasetSpec("esc50", esc50_tree, fold=3)) == data.esc50(esc50_tree, 3)
    assert data.load(data.DatasetSpec("folder", tone_tree, group_pattern=r"^(spk\d+)_")) == \
        data.folder_tree(tone_tree, r"^(spk\d+)_")
    ex35 = data.load(data.DatasetSpec("speech_commands", sc_full_tree, task="35"))
    assert data.labels_of(ex35) == ["marvin", "no", "sheila", "yes"]
    with pytest.raises(DatasetError, match="unknown data set 'librispeech'"):
        data.DatasetSpec("librispeech", tone_tree)


def test_describe_says_how_the_splits_were_made(sc_full_tree: Path, tmp_path: Path) -> None:
    official = data.describe(data.DatasetSpec("speech_commands", sc_full_tree))
    assert official == {"name": "speech_commands", "data_dir": str(sc_full_tree),
                        "split": "official lists", "task": "12"}
    (tmp_path / "yes").mkdir()
    subset = data.describe(data.DatasetSpec("speech_commands", tmp_path, task="35"))
    assert (subset["split"], subset["task"]) == ("speaker hash", "35")
    esc = data.describe(data.DatasetSpec("esc50", tmp_path, fold=4))
    assert (esc["split"], esc["task"]) == ("official folds, test fold 4", None)
    assert data.describe(data.DatasetSpec("fsdd", tmp_path))["split"] == "official"
    held_out = data.DatasetSpec("fsdd", tmp_path, split="speaker", test_speaker="theo")
    assert data.describe(held_out)["split"] == "speaker, test speaker theo"
    assert data.describe(data.DatasetSpec("folder", tmp_path))["split"] == "group hash 80/10/10"


def test_speech_commands_noise_takes_training_silence_and_whole_recordings(
        tmp_path: Path) -> None:
    def clip(name: str, label: str, split: str, offset: float = 0.0) -> data.Example:
        return data.Example(tmp_path / name, label, split, name, offset)

    examples = [clip("s0.wav", data.SILENCE, "train"), clip("s1.wav", data.SILENCE, "val"),
                clip("s2.wav", data.SILENCE, "test"), clip("s3.wav", data.SILENCE, "train", 2.0),
                clip("yes.wav", "yes", "train")]
    # Without a _background_noise_ folder: the training split's silence only.
    assert data.speech_commands_noise(tmp_path, examples) == [examples[0], examples[3]]
    (tmp_path / "_background_noise_").mkdir()
    for name in ("pink.wav", "dishes.wav", "README.md"):
        (tmp_path / "_background_noise_" / name).write_bytes(b"")
    noise = data.speech_commands_noise(tmp_path, examples)
    assert noise[:2] == [examples[0], examples[3]]
    assert [(e.path.name, e.label, e.split) for e in noise[2:]] == [
        ("dishes.wav", data.SILENCE, "train"), ("pink.wav", data.SILENCE, "train")]


def test_background_noise_only_from_speech_commands(sc_full_tree: Path,
                                                    esc50_tree: Path) -> None:
    spec = data.DatasetSpec("speech_commands", sc_full_tree)
    examples = data.load(spec)
    noise = data.background_noise(spec, examples)
    assert noise == data.speech_commands_noise(sc_full_tree, examples)
    assert {e.path.name for e in noise if e.offset == 0.0} == {"noise0.wav", "noise1.wav"}
    assert all(e.split == "train" for e in noise)
    esc = data.DatasetSpec("esc50", esc50_tree)
    assert data.background_noise(esc, data.load(esc)) == []


def test_noise_folder(tmp_path: Path) -> None:
    for name in ("b.wav", "a.wav", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert data.noise_folder(tmp_path) == [data.Example(tmp_path / "a.wav", "noise", "train"),
                                           data.Example(tmp_path / "b.wav", "noise", "train")]
    with pytest.raises(DatasetError, match="noise folder not found"):
        data.noise_folder(tmp_path / "missing")


def test_folder_tree_takes_every_audio_extension(tmp_path: Path) -> None:
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for name in ("x.wav", "y.FLAC", "z.aiff", "notes.txt", "cover.jpg"):
            (tmp_path / cls / name).write_bytes(b"")
    ex = data.folder_tree(tmp_path)
    assert sorted(e.path.name for e in ex if e.label == "a") == ["x.wav", "y.FLAC", "z.aiff"]
