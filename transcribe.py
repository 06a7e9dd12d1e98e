#!/usr/bin/env python3
"""Print the transcript of an audio file: ``python transcribe.py file.wav``.

Shorthand for ``earful transcribe``; every option of that command works here too. If the
running Python has no earful installed, the project's ``.venv`` is used instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _reexec_in_venv() -> None:
    venv = ROOT / ".venv"
    venv_python = venv / "bin" / "python"
    # Compare prefixes, not interpreters: a venv's python is a symlink to the system one.
    if venv_python.exists() and Path(sys.prefix).resolve() != venv.resolve():
        os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])
    sys.exit("earful is not installed: run `make setup` (or pip install -e '.[asr]') first")


try:
    from earful.cli import main
except ImportError:
    _reexec_in_venv()

if __name__ == "__main__":
    sys.exit(main(["--quiet", "transcribe", *sys.argv[1:]]))
