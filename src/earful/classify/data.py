"""Data sets for audio classification, with splits that never leak a speaker.

Every loader returns a list of :class:`Example` with its split already assigned:

* Speech Commands: the official ``validation_list.txt``/``testing_list.txt`` when present
  (the full v0.02 release), otherwise a speaker-hash split of whatever clips are there
  (the shared 12-class subset). 12-class or 35-word task.
* ESC-50: the five official folds from ``meta/esc50.csv``.
* FSDD: the dataset's own split (takes 0-4 test) or a speaker-independent one.
* Any folder-per-class tree, split by a hash of each file's group (speaker) name.

:class:`DatasetSpec` names one of these with its split settings; :func:`load`,
:func:`describe` and :func:`background_noise` give its examples, the description stored
in checkpoints and the clips it provides for noise-mixing augmentation.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from earful.audio.io import AUDIO_EXTENSIONS
from earful.errors import DatasetError

SPLITS = ("train", "val", "test")
KWS_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN, SILENCE = "_unknown_", "_silence_"
DATASETS = ("speech_commands", "esc50", "fsdd", "folder")
"""The data sets :func:`load` knows; ``folder`` is any folder-per-class tree."""


@dataclass(frozen=True)
class Example:
    """One labelled clip (or a window of a longer file, for background-noise silence)."""

    path: Path
    label: str
    split: str
    group: str = ""
    """Speaker or source id; all clips of a group share a split."""
    offset: float = 0.0
    """Start of the clip inside ``path`` in seconds (non-zero only for silence windows)."""


def hash_position(group: str) -> float:
    """A group's stable position in [0, 100), from a hash of its name; splits are ranges."""
    return int(hashlib.sha1(group.encode("utf-8")).hexdigest(), 16) % 10_000 / 100.0


def hash_split(group: str, val_percent: float = 10.0, test_percent: float = 10.0) -> str:
    """Assign a group to a split by a stable hash of its name (as Speech Commands does)."""
    value = hash_position(group)
    if value < val_percent:
        return "val"
    if value < val_percent + test_percent:
        return "test"
    return "train"


def labels_of(examples: Iterable[Example]) -> list[str]:
    """The sorted label list."""
    return sorted({e.label for e in examples})


def check_no_group_leak(examples: Iterable[Example]) -> None:
    """Raise :class:`DatasetError` if any group appears in more than one split."""
    seen: dict[str, str] = {}
    for e in examples:
        if e.group and seen.setdefault(e.group, e.split) != e.split:
            raise DatasetError(f"group {e.group!r} is in both {seen[e.group]} and {e.split}")


def _require_dir(root: str | Path, what: str) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{what} folder not found: {root}")
    return root


def _sc_speaker(path: Path) -> str:
    return path.name.split("_nohash_")[0].split("_")[-1] if "_nohash_" in path.name else ""


def speech_commands(root: str | Path, task: str = "12") -> list[Example]:
    """Speech Commands in its folder-per-word layout.

    Args:
        root: The data set folder (``yes/``, ``no/``, ... and optionally
            ``validation_list.txt``, ``testing_list.txt``, ``_background_noise_/``).
        task: ``"12"`` (ten words, ``_unknown_``, ``_silence_``) or ``"35"`` (every word).
    """
    root = _require_dir(root, "Speech Commands")
    if task not in ("12", "35"):
        raise DatasetError(f"task must be '12' or '35', got {task!r}")
    lists = _official_lists(root)
    official = lists is not None
    listed = {}
    if lists is not None:
        for name, split in zip(lists, ("val", "test"), strict=True):
            listed.update({line.strip(): split for line in name.read_text().splitlines()
                           if line.strip()})
    examples: list[Example] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name == "_background_noise_":
            continue
        for f in sorted(folder.glob("*.wav")):
            word = folder.name
            if word == UNKNOWN:  # the 12-class subset's layout: {word}_{speaker}_nohash_n
                word = f.name.split("_")[0]
            label = _kws_label(word, folder.name) if task == "12" else word
            if task == "35" and folder.name in (UNKNOWN, SILENCE):
                continue
            speaker = _sc_speaker(f)
            rel = f"{folder.name}/{f.name}"
            split = (listed.get(rel, "train") if official
                     else hash_split(speaker or f"{folder.name}/{f.stem}"))
            examples.append(Example(f, label, split, speaker))
    if official and task == "12":
        examples += _background_silence(root, len(examples) // 11)
    if not examples:
        raise DatasetError(f"no clips found under {root}")
    check_no_group_leak(examples)
    return examples


def _official_lists(root: Path) -> tuple[Path, Path] | None:
    """The full release's validation and test lists, when both are there."""
    lists = root / "validation_list.txt", root / "testing_list.txt"
    return lists if all(f.is_file() for f in lists) else None


def speech_commands_noise(root: str | Path, examples: Iterable[Example]) -> list[Example]:
    """Background clips from a Speech Commands tree, for noise-mixing augmentation.

    These are the training split's ``_silence_`` examples (the 12-class subset's silence
    clips, or 1 s windows of the full release's noise recordings) and then every whole
    recording in ``_background_noise_/``, all as training examples labelled ``_silence_``.

    Silence examples of the validation and test splits are left out so no test clip is
    mixed into training audio. The whole recordings are all taken, though: with the
    official lists, a recording whose windows are validation or test silence is also mixed
    into training audio as background noise.

    Args:
        root: The data set folder given to :func:`speech_commands`.
        examples: What :func:`speech_commands` returned for ``root``.
    """
    noise = [e for e in examples if e.split == "train" and e.label == SILENCE]
    folder = Path(root) / "_background_noise_"
    if folder.is_dir():
        noise += [Example(f, SILENCE, "train") for f in sorted(folder.glob("*.wav"))]
    return noise


def noise_folder(folder: str | Path, label: str = "noise") -> list[Example]:
    """Every WAV file directly in ``folder`` as a training clip of background noise."""
    folder = _require_dir(folder, "noise")
    return [Example(f, label, "train") for f in sorted(folder.glob("*.wav"))]


def _kws_label(word: str, folder: str) -> str:
    if folder == SILENCE:
        return SILENCE
    return word if word in KWS_WORDS else UNKNOWN


def _background_silence(root: Path, count: int) -> list[Example]:
    """1 s windows of the full release's background-noise recordings as ``_silence_``."""
    import soundfile as sf

    files = sorted((root / "_background_noise_").glob("*.wav"))
    if not files or count <= 0:
        return []
    out: list[Example] = []
    for i in range(count):
        f = files[i % len(files)]
        seconds = sf.info(f).duration
        offset = (i // len(files)) * 1.0 % max(seconds - 1.0, 1.0)
        # Split by recording so no noise recording feeds two splits.
        out.append(Example(f, SILENCE, hash_split(f.name, 15, 15), f"noise:{f.name}", offset))
    return out


def esc50(root: str | Path, test_fold: int = 1) -> list[Example]:
    """ESC-50 with ``test_fold`` held out, the next fold for validation, the rest to train."""
    root = _require_dir(root, "ESC-50")
    meta = root / "meta" / "esc50.csv"
    if not meta.is_file():
        raise DatasetError(f"ESC-50 metadata not found: {meta}")
    if not 1 <= test_fold <= 5:
        raise DatasetError(f"test_fold must be 1..5, got {test_fold}")
    val_fold = test_fold % 5 + 1
    examples = []
    with open(meta, newline="") as fh:
        for row in csv.DictReader(fh):
            fold = int(row["fold"])
            split = "test" if fold == test_fold else "val" if fold == val_fold else "train"
            # Clips cut from one freesound recording share its src_file and stay in one fold.
            examples.append(Example(root / "audio" / row["filename"], row["category"], split,
                                    f"src:{row['src_file']}"))
    check_no_group_leak(examples)
    return examples


_FSDD_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)$")


def fsdd(root: str | Path, split: str = "official", test_speaker: str | None = None,
         ) -> list[Example]:
    """Free Spoken Digit Dataset.

    Args:
        root: Folder holding ``recordings/`` (or the recordings themselves).
        split: ``"official"`` (takes 0-4 test, 5-9 validation, the rest train: speakers
            shared across splits by design) or ``"speaker"`` (``test_speaker`` held out,
            the next speaker in alphabetical order for validation).
        test_speaker: The held-out speaker for ``"speaker"``.
    """
    root = _require_dir(root, "FSDD")
    folder = root / "recordings" if (root / "recordings").is_dir() else root
    parsed = []
    for f in sorted(folder.glob("*.wav")):
        m = _FSDD_NAME.match(f.stem)
        if m:
            parsed.append((f, m.group(1), m.group(2), int(m.group(3))))
    if not parsed:
        raise DatasetError(f"no FSDD recordings ({{digit}}_{{speaker}}_{{n}}.wav) in {folder}")
    speakers = sorted({s for _, _, s, _ in parsed})
    if split == "official":
        return [Example(f, d, "test" if n < 5 else "val" if n < 10 else "train")
                for f, d, _, n in parsed]
    if split != "speaker":
        raise DatasetError(f"FSDD split must be 'official' or 'speaker', got {split!r}")
    if test_speaker not in speakers:
        raise DatasetError(f"test_speaker must be one of {speakers}, got {test_speaker!r}")
    val_speaker = speakers[(speakers.index(test_speaker) + 1) % len(speakers)]
    examples = [Example(f, d, "test" if s == test_speaker else "val" if s == val_speaker
                        else "train", s) for f, d, s, _ in parsed]
    check_no_group_leak(examples)
    return examples


def folder_tree(root: str | Path, group_pattern: str | None = None) -> list[Example]:
    """Any folder-per-class tree, split 80/10/10 by a hash of each file's group.

    Args:
        root: Folder whose sub-folders are the classes.
        group_pattern: Regular expression whose first group extracts the speaker/source from
            a file name (for example ``r"^([^_]+)_"``); default: each file is its own group.
    """
    root = _require_dir(root, "data")
    pattern = re.compile(group_pattern) if group_pattern else None
    examples = []
    for cls in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(cls.rglob("*")):
            if f.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            m = pattern.search(f.name) if pattern else None
            group = m.group(1) if m else f"{cls.name}/{f.stem}"
            examples.append(Example(f, cls.name, hash_split(group), group))
    if not examples:
        raise DatasetError(f"no audio files in class folders under {root}")
    check_no_group_leak(examples)
    return examples


def with_split(examples: list[Example], split: str) -> list[Example]:
    """The examples of one split."""
    return [e for e in examples if e.split == split]


def relabel(examples: list[Example], split: str) -> list[Example]:
    """A copy with every example moved to ``split`` (for scoring a whole folder)."""
    return [replace(e, split=split) for e in examples]


@dataclass(frozen=True)
class DatasetSpec:
    """One data set in its folder, with how to split it.

    Each field after ``root`` belongs to one data set (named in its description) and is
    ignored by the others, so one spec type serves every loader.
    """

    name: str
    """One of :data:`DATASETS`."""
    root: Path
    """The data set's folder."""
    task: str = "12"
    """Speech Commands: ``"12"`` (ten words, unknown, silence) or ``"35"`` (every word)."""
    fold: int = 1
    """ESC-50: the test fold (1-5); the next one is the validation fold."""
    split: str = "official"
    """FSDD: ``"official"`` (by take number) or ``"speaker"`` (``test_speaker`` held out)."""
    test_speaker: str | None = None
    """FSDD: the held-out speaker of the ``"speaker"`` split."""
    group_pattern: str | None = None
    """Folder trees: regular expression whose group 1 is the speaker in a file name."""

    def __post_init__(self) -> None:
        if self.name not in DATASETS:
            raise DatasetError(f"unknown data set {self.name!r}; known: {', '.join(DATASETS)}")


def load(spec: DatasetSpec) -> list[Example]:
    """The examples of ``spec``'s data set, splits assigned, from its loader above."""
    if spec.name == "speech_commands":
        return speech_commands(spec.root, spec.task)
    if spec.name == "esc50":
        return esc50(spec.root, spec.fold)
    if spec.name == "fsdd":
        return fsdd(spec.root, spec.split, spec.test_speaker)
    return folder_tree(spec.root, spec.group_pattern)


def describe(spec: DatasetSpec) -> dict[str, Any]:
    """What a checkpoint records about its training data: name, folder, split and task.

    ``split`` says in words how the splits were made; ``task`` is the Speech Commands task
    and ``None`` for the other data sets.
    """
    if spec.name == "speech_commands":
        split = "official lists" if _official_lists(spec.root) else "speaker hash"
    elif spec.name == "esc50":
        split = f"official folds, test fold {spec.fold}"
    elif spec.name == "fsdd":
        split = spec.split + (f", test speaker {spec.test_speaker}" if spec.test_speaker
                              else "")
    else:
        split = "group hash 80/10/10"
    return {"name": spec.name, "data_dir": str(spec.root), "split": split,
            "task": spec.task if spec.name == "speech_commands" else None}


def background_noise(spec: DatasetSpec, examples: Iterable[Example]) -> list[Example]:
    """The noise clips ``spec``'s data set provides for augmentation (training data only).

    Only Speech Commands has any (see :func:`speech_commands_noise`); the others give none.

    Args:
        spec: The data set.
        examples: What :func:`load` returned for ``spec``.
    """
    if spec.name == "speech_commands":
        return speech_commands_noise(spec.root, examples)
    return []
