"""Checking a file is audio within a duration limit without ever holding it in memory.

A compressed file's size says little about its duration: 2 MB of FLAC can hold ten hours
of near-silence, which decoded to float32 is gigabytes. :func:`probe_audio` therefore never
decodes a whole file at once:

1. the duration the container states is compared with the limit first (free, so a file
   that says it is too long is refused at once);
2. the file is then decoded as a stream, block by block, counting samples at the source
   rate, and stops with :class:`~earful.errors.AudioTooLongError` as soon as the count
   passes the limit, so a header that is missing, wrong or lying cannot make it decode more
   than the limit allows;
3. for WAV, whose data chunk states its size, a claim larger than the bytes that follow is
   reported as ``truncated`` (what is there is decoded; the caller says so to the user).

Memory stays at one block (a few seconds of audio) whatever the file claims.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from earful.errors import AudioDecodeError, AudioTooLongError, UnsupportedFormatError

#: Seconds of audio decoded per block while counting.
BLOCK_SECONDS = 10.0
#: A WAV data-chunk size meaning "unknown" (streamed WAVs write one of these).
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
#: libsndfile's frame count for "length unknown" is near 2**63.
_UNKNOWN_FRAMES = 1 << 62


@dataclass(frozen=True)
class Probe:
    """What a file holds, measured by decoding it (in bounded memory)."""

    duration: float
    """Seconds of audio decoded."""
    sample_rate: int
    """The source's sample rate."""
    channels: int
    """The source's channel count."""
    truncated: bool = False
    """The header claimed more audio than the file holds; ``duration`` is what is there."""


def wav_truncated(path: str | os.PathLike[str]) -> bool:
    """Whether a RIFF/WAVE file's data chunk claims more bytes than follow it.

    Returns ``False`` for anything that is not a WAV file, or whose data size is the
    "unknown" marker streamed WAVs use.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return False
        order = "<" if head[:4] == b"RIFF" else ">"
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk_id, chunk_size = struct.unpack(f"{order}4sI", fh.read(8))
            if chunk_id == b"data":
                return chunk_size not in _UNKNOWN_SIZES and chunk_size > size - pos - 8
            pos += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
    return False


def _stated_seconds(path: str) -> float | None:
    """The duration the container states, if it states one (no decoding)."""
    try:
        info = sf.info(path)
        # libsndfile says "unknown" (a streamed FLAC, say) with a huge sentinel count.
        if 0 < info.frames < _UNKNOWN_FRAMES and info.samplerate > 0:
            return float(info.frames / info.samplerate)
    except Exception:  # not a libsndfile format: ask FFmpeg
        pass
    try:
        import av

        with av.open(path, mode="r") as container:
            if container.duration and container.duration > 0:
                return float(container.duration / 1_000_000)  # av.time_base is microseconds
            streams = container.streams.audio
            if streams and streams[0].duration and streams[0].time_base:
                return float(streams[0].duration * streams[0].time_base)
    except Exception:  # unreadable here: the decoding pass reports why
        pass
    return None


def _count_soundfile(path: str, limit: float) -> tuple[int, int, int]:
    with sf.SoundFile(path) as f:
        rate, channels = f.samplerate, f.channels
        budget = int(limit * rate)
        frames = 0
        for block in f.blocks(blocksize=max(1, int(BLOCK_SECONDS * rate)), dtype="float32"):
            if not np.isfinite(block).all():
                raise ValueError("the audio contains NaN or infinite sample values")
            frames += len(block)
            if frames > budget:
                raise AudioTooLongError(frames / rate, limit)
    return frames, rate, channels


def _count_pyav(path: str, limit: float) -> tuple[int, int, int]:
    from earful.audio.io import iter_pyav

    frames = rate = channels = 0
    for samples, rate in iter_pyav(path):
        if not np.isfinite(samples).all():
            raise ValueError("the audio contains NaN or infinite sample values")
        channels = samples.shape[0]
        frames += samples.shape[1]
        if frames > limit * rate:
            raise AudioTooLongError(frames / rate, limit)
    return frames, rate, channels


def probe_audio(path: str | os.PathLike[str], max_seconds: float, *,
                name: str | None = None) -> Probe:
    """Prove ``path`` is audio no longer than ``max_seconds``, in bounded memory and time.

    Args:
        path: The file.
        max_seconds: The longest accepted duration.
        name: How to name the input in error messages (defaults to the path).

    Raises:
        AudioTooLongError: The file states, or turns out to hold, more than
            ``max_seconds`` (decoding stops at the limit).
        AudioDecodeError: Missing, empty, corrupt, no samples, NaN/inf samples.
        UnsupportedFormatError: Not a format earful reads.
    """
    from earful.audio.io import _reason

    file = os.fspath(path)
    label = name or file
    if not Path(file).is_file():
        raise AudioDecodeError(label, "file not found")
    if os.path.getsize(file) == 0:
        raise AudioDecodeError(label, "the file is empty")
    stated = _stated_seconds(file)
    if stated is not None and stated > max_seconds:
        raise AudioTooLongError(stated, max_seconds)
    errors: list[str] = []
    for counter in (_count_soundfile, _count_pyav):
        try:
            frames, rate, channels = counter(file, max_seconds)
            break
        except AudioTooLongError:
            raise
        except ValueError as e:
            if "NaN" in str(e):
                raise AudioDecodeError(label, str(e)) from e
            errors.append(f"{counter.__name__.removeprefix('_count_')}: {_reason(e)}")
        except Exception as e:  # every backend failure becomes one typed error
            errors.append(f"{counter.__name__.removeprefix('_count_')}: {_reason(e)}")
    else:
        raise UnsupportedFormatError(label, "not a readable audio file ("
                                     + "; ".join(errors) + ")")
    if frames == 0 or rate <= 0:
        raise AudioDecodeError(label, "the audio contains no samples")
    return Probe(frames / rate, rate, channels, truncated=wav_truncated(file))
