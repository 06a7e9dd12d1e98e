"""The hub download path for non-bundled models, exercised on a local hub cache.

faster-whisper resolves a name like ``Systran/faster-whisper-tiny.en`` through
huggingface_hub. Offline, with the files already in a hub cache laid out as the hub writes
it, the same code finds them; with an empty cache it must fail with a clear message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from earful.asr.bundled import resolve_model

CODE = """
import sys
from earful.asr.engines import load_faster_whisper
from earful.errors import ModelNotAvailableError
try:
    model = load_faster_whisper(sys.argv[1])
    print("LOADED", model.model.is_multilingual)
except ModelNotAvailableError as e:
    print("CLEAR ERROR", e)
"""


def _run(name: str, cache: Path) -> str:
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", CODE, name], env=env, capture_output=True,
                          text=True, check=True, timeout=120).stdout


def test_hub_name_resolves_from_local_cache(tmp_path: Path) -> None:
    bundled = Path(resolve_model("tiny.en", tmp_path))
    snapshot = tmp_path / "models--Systran--faster-whisper-tiny.en" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    for f in bundled.iterdir():
        (snapshot / f.name).symlink_to(f)
    refs = snapshot.parents[1] / "refs"
    refs.mkdir()
    (refs / "main").write_text("a" * 40)
    assert "LOADED False" in _run("Systran/faster-whisper-tiny.en", tmp_path)


def test_missing_hub_model_gives_clear_error(tmp_path: Path) -> None:
    out = _run("small.en", tmp_path)
    assert "CLEAR ERROR" in out and "needs internet" in out
