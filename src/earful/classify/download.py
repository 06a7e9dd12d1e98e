"""Download and unpack public data sets (for users with internet).

Each download streams to a temporary file with a progress bar, is unpacked into a
temporary folder beside the destination and renamed into place only when complete, so an
interrupted download never leaves a half data set behind. Any URL urllib understands works,
``file://`` included (which is how the tests exercise this code offline).
"""

from __future__ import annotations

import logging
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from earful.errors import DatasetError

logger = logging.getLogger(__name__)

URLS = {
    "speech_commands": "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
    "esc50": "https://github.com/karoldvl/ESC-50/archive/master.zip",
}


def _fetch(url: str, dest: Path) -> None:
    from tqdm import tqdm

    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=Path(url).name) as bar:
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
    except OSError as e:
        raise DatasetError(f"cannot download {url}: {e}") from e


def _safe_extract(archive: Path, into: Path) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if not (into / name).resolve().is_relative_to(into.resolve()):
                    raise DatasetError(f"archive member escapes the folder: {name}")
            zf.extractall(into)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")  # refuses absolute paths, .. and links out
    else:
        raise DatasetError(f"{archive} is neither a zip nor a tar archive")


def download_dataset(name: str, dest: str | Path, url: str | None = None) -> Path:
    """Download ``name`` (``speech_commands`` or ``esc50``) into ``dest``.

    Returns:
        The data set root (for ESC-50 the folder holding ``meta/`` and ``audio/``).
    """
    if name not in URLS:
        raise DatasetError(f"unknown data set {name!r}; known: {', '.join(URLS)}")
    target = Path(dest)
    if target.exists() and any(target.iterdir()):
        logger.info("%s already present in %s", name, target)
        return _root_of(name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}-") as tmp:
        archive = Path(tmp) / "archive"
        _fetch(url or URLS[name], archive)
        unpacked = Path(tmp) / "unpacked"
        unpacked.mkdir()
        _safe_extract(archive, unpacked)
        if target.exists():
            target.rmdir()
        shutil.move(str(unpacked), str(target))
    return _root_of(name, target)


def _root_of(name: str, target: Path) -> Path:
    if name == "esc50":
        metas = sorted(target.rglob("meta/esc50.csv"))
        if not metas:
            raise DatasetError(f"no meta/esc50.csv under {target}")
        return metas[0].parent.parent
    return target
