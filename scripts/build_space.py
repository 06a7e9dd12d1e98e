"""Assemble a deployable Hugging Face Space folder (default: dist/space).

Run: python scripts/build_space.py [OUT]
The folder holds the Space's README (front matter), app.py and requirements.txt from
space/, plus what `pip install .` needs: pyproject.toml and src/ (the default keyword model ships
inside the package, as package data).
Push it to a Space repository (git push or `huggingface-cli upload`).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(out: Path) -> Path:
    """Write the Space folder to ``out`` (replacing it) and return it."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("README.md", "app.py", "requirements.txt"):
        shutil.copy(ROOT / "space" / name, out / name)
    shutil.copy(ROOT / "pyproject.toml", out / "pyproject.toml")
    shutil.copy(ROOT / "LICENSE", out / "LICENSE")
    shutil.copytree(ROOT / "src", out / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return out


if __name__ == "__main__":
    target = build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "space")
    print(target)
