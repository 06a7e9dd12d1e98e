"""Generated data-set trees in the real layouts, built from real and synthetic audio."""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from earful.audio.transforms import white_noise


def tone_clip(freq: float, seed: int, sr: int = 16000, seconds: float = 1.0) -> np.ndarray:
    """A tone with random phase, level and a little noise, so classes are learnable."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    amp = rng.uniform(0.1, 0.5)
    x = amp * np.sin(2 * np.pi * freq * (1 + rng.uniform(-0.03, 0.03)) * t + rng.uniform(0, 6))
    return (x + 0.01 * white_noise(t.size, rng)).astype(np.float32)


def stable_seed(*parts: object) -> int:
    """A seed that is the same in every process (hash() of a str is salted per process)."""
    return zlib.crc32("|".join(map(str, parts)).encode())


FREQS = {"low": 300.0, "mid": 1200.0, "high": 3500.0}


@pytest.fixture(scope="session")
def tone_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder-per-class tree: 3 tone classes, 20 "speakers" each, 2 clips per speaker."""
    root = tmp_path_factory.mktemp("tones")
    for label, freq in FREQS.items():
        (root / label).mkdir()
        for spk in range(20):  # 20 groups: the 80/10/10 hash split leaves 2 each for val, test
            for take in range(2):
                sf.write(root / label / f"spk{spk}_{take}.wav",
                         tone_clip(freq, stable_seed(label, spk, take)), 16000)
    return root


@pytest.fixture(scope="session")
def esc50_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ESC-50 layout (meta/esc50.csv, audio/) with 3 categories x 5 folds x 2 sources."""
    root = tmp_path_factory.mktemp("esc50") / "ESC-50-master"
    (root / "audio").mkdir(parents=True)
    (root / "meta").mkdir()
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    for target, (cat, freq) in enumerate(FREQS.items()):
        for fold in range(1, 6):
            for src in range(2):
                for take in "AB":
                    src_file = f"{fold}{target}{src}"
                    name = f"{fold}-{src_file}-{take}-{target}.wav"
                    sf.write(root / "audio" / name, tone_clip(freq, stable_seed(name),
                                                              seconds=2.0), 16000)
                    rows.append(f"{name},{fold},{target},{cat},False,{src_file},{take}")
    (root / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="session")
def sc_full_tree(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> Path:
    """The full Speech Commands v0.02 layout with official lists and background noise."""
    root = tmp_path_factory.mktemp("sc_full")
    words = ["yes", "no", "marvin", "sheila"]
    val, test = [], []
    for w in words:
        (root / w).mkdir()
        for spk in ("aaaa1111", "bbbb2222", "cccc3333", "dddd4444"):
            name = f"{spk}_nohash_0.wav"
            shutil.copy(test_data / "yes.wav", root / w / name)
            if spk == "cccc3333":
                val.append(f"{w}/{name}")
            if spk == "dddd4444":
                test.append(f"{w}/{name}")
    (root / "validation_list.txt").write_text("\n".join(val) + "\n")
    (root / "testing_list.txt").write_text("\n".join(test) + "\n")
    (root / "_background_noise_").mkdir()
    for i in range(2):
        sf.write(root / "_background_noise_" / f"noise{i}.wav",
                 0.1 * white_noise(16000 * 5, i), 16000)
    return root
