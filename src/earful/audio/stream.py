"""Streaming decode: long files in bounded memory, and cutting them at quiet points.

:func:`stream_audio` yields mono float32 blocks at the target rate without ever holding the
whole file; :func:`quiet_chunks` regroups blocks into pieces of about ``chunk_seconds``,
ending each at the quietest moment near its end so no word is cut in half.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np
import soundfile as sf
import soxr

from earful.audio.io import _reason, iter_pyav
from earful.errors import AudioDecodeError, UnsupportedFormatError


def _soundfile_blocks(path: str, seconds: float) -> Iterator[tuple[np.ndarray, int]]:
    with sf.SoundFile(path) as f:
        rate = f.samplerate
        for data in f.blocks(blocksize=max(1, int(seconds * rate)), dtype="float32",
                             always_2d=True):
            yield data.mean(axis=1, dtype=np.float32), rate


def _pyav_blocks(path: str) -> Iterator[tuple[np.ndarray, int]]:
    for samples, rate in iter_pyav(path):
        yield samples.mean(axis=0, dtype=np.float32), rate


def stream_audio(path: str | os.PathLike[str], sample_rate: int = 16000,
                 block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Yield the file's audio as mono float32 blocks at ``sample_rate``.

    Raises:
        AudioDecodeError: The file cannot be opened, holds no samples, or holds NaN/inf.
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise AudioDecodeError(name, "file not found")
    if os.path.getsize(name) == 0:
        raise AudioDecodeError(name, "the file is empty")
    block = int(block_seconds * sample_rate)
    try:
        sf.info(name)
        source: Iterator[tuple[np.ndarray, int]] = _soundfile_blocks(name, block_seconds)
    except Exception:
        source = _pyav_blocks(name)
    resampler: soxr.ResampleStream | None = None
    total = 0
    pending: list[np.ndarray] = []
    pending_len = 0
    try:
        for samples, rate in source:
            if not np.isfinite(samples).all():
                raise AudioDecodeError(name, "the audio contains NaN or infinite sample values")
            if rate != sample_rate:
                if resampler is None:
                    resampler = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32",
                                                    quality="HQ")
                samples = resampler.resample_chunk(samples)
            pending.append(samples)
            pending_len += samples.size
            if pending_len >= block:
                out = np.concatenate(pending)
                total += out.size
                pending, pending_len = [], 0
                yield out
        if resampler is not None:
            pending.append(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
    except AudioDecodeError:
        raise
    except Exception as e:
        raise UnsupportedFormatError(name, f"not a readable audio file ({_reason(e)})") from e
    tail = np.concatenate(pending) if pending else np.zeros(0, np.float32)
    if total + tail.size == 0:
        raise AudioDecodeError(name, "the audio contains no samples")
    if tail.size:
        yield tail


def quietest_point(samples: np.ndarray, sample_rate: int, frame_seconds: float = 0.1) -> int:
    """Index of the centre of the quietest ``frame_seconds`` window in ``samples``."""
    frame = max(1, int(frame_seconds * sample_rate))
    if samples.size <= frame:
        return samples.size // 2
    energy = np.convolve(samples.astype(np.float64) ** 2, np.ones(frame), mode="valid")
    return int(np.argmin(energy)) + frame // 2


def quiet_chunks(blocks: Iterable[np.ndarray], sample_rate: int, chunk_seconds: float,
                 search_seconds: float = 10.0) -> Iterator[tuple[float, np.ndarray]]:
    """Regroup blocks into ``(start_seconds, chunk)`` pieces of about ``chunk_seconds``.

    Each piece but the last ends at the quietest 100 ms inside its final ``search_seconds``.
    """
    target = int(chunk_seconds * sample_rate)
    search = int(search_seconds * sample_rate)
    buf = np.zeros(0, np.float32)
    offset = 0
    for block in blocks:
        buf = np.concatenate([buf, block])
        while buf.size >= target + search:
            cut = target - search + quietest_point(buf[target - search:target], sample_rate)
            yield offset / sample_rate, buf[:cut]
            offset += cut
            buf = buf[cut:]
    if buf.size:
        yield offset / sample_rate, buf
