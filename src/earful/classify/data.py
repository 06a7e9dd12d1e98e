"""Data sets for audio classification, with splits that never leak a speaker.

Every loader returns a list of :class:`Example` with its split already assigned:

* Speech Commands: the official ``validation_list.txt``/``testing_list.txt`` when present
  (the full v0.02 release), otherwise a speaker-hash split of whatever clips are there
  (the shared 12-class subset). 12-class or 35-word task.
* ESC-50: the five official folds from ``meta/esc50.csv``.
* FSDD: the dataset's own split (takes 0-4 test) or a speaker-independent one.
* Any folder-per-class tree, split by a hash of each file's group (speaker) name.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from earful.errors import DatasetError

SPLITS = ("train", "val", "test")
KWS_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN, SILENCE = "_unknown_", "_silence_"
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".webm"})


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
    val_list, test_list = root / "validation_list.txt", root / "testing_list.txt"
    official = val_list.is_file() and test_list.is_file()
    listed = {}
    if official:
        for name, split in ((val_list, "val"), (test_list, "test")):
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
            if f.suffix.lower() not in AUDIO_SUFFIXES:
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
