"""Decoding and encoding audio: the I/O boundary of ``earful.audio``.

Everything else in the package works on NumPy arrays. Decoding tries libsndfile (through
soundfile: wav, flac, ogg/vorbis, mp3 in recent builds) first because it is fast and exact,
then FFmpeg (through PyAV) for everything else (m4a/aac, webm/opus, ...). Any failure is
reported as :class:`~earful.errors.AudioDecodeError` naming the input and the reason.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import soundfile as sf
import soxr

from earful.errors import AudioDecodeError, InvalidOptionError, UnsupportedFormatError
from earful.fsutil import atomic_write

logger = logging.getLogger(__name__)

AudioSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

#: Formats :func:`encode_audio` can write, with the container PyAV uses for those
#: libsndfile cannot write.
SOUNDFILE_FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "mp3": "MP3"}
PYAV_FORMATS = {"m4a": ("mp4", "aac"), "aac": ("adts", "aac"), "webm": ("webm", "libopus"),
                "opus": ("ogg", "libopus")}
ENCODABLE_FORMATS = tuple(SOUNDFILE_FORMATS) + tuple(PYAV_FORMATS)

#: File extensions (lower case, with the dot) taken to be audio when a folder is scanned for
#: inputs: batch transcription, folder data sets, voice references. :func:`decode` is not
#: limited to these (it tries anything FFmpeg reads); the list only decides which files in
#: a folder are worth trying, so a stray ``notes.txt`` is left alone rather than reported.
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac",
                              ".webm", ".mp4", ".wma", ".aiff", ".aif"})


@dataclass(frozen=True)
class Audio:
    """Decoded audio: mono float32 samples plus what the source looked like."""

    samples: np.ndarray
    """Mono float32 samples in [-1, 1] (values outside are kept, not clipped)."""
    sample_rate: int
    """Rate of ``samples`` in Hz."""
    source_sample_rate: int
    """Rate of the input before resampling."""
    source_channels: int
    """Channel count of the input before down-mixing."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate


def _describe(source: AudioSource, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return "<bytes>" if isinstance(source, bytes | bytearray | memoryview) else "<stream>"


def _read_soundfile(data: str | io.BytesIO) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(data, dtype="float32", always_2d=True)
    return samples.T, int(rate)


def iter_pyav(data: str | io.BytesIO) -> Iterator[tuple[np.ndarray, int]]:
    """Decode with FFmpeg, yielding ``(channels x samples, rate)`` float32 frames.

    Encoders pad the last frame (AAC: up to 1024 samples); when the container states the
    true length, that padding is dropped so every format decodes to the same duration.
    """
    import av  # imported lazily: PyAV loads the FFmpeg libraries

    with av.open(data, mode="r") as container:
        if not container.streams.audio:
            raise ValueError("the file has no audio stream")
        stream = container.streams.audio[0]
        # Planar float keeps one row per channel whatever the codec's native sample format.
        resampler = av.AudioResampler(format="fltp")
        held: tuple[np.ndarray, int] | None = None  # one frame behind, to trim the last
        total = 0
        frames = (out for frame in container.decode(stream) for out in resampler.resample(frame))
        for out in itertools.chain(frames, resampler.resample(None)):
            if held is not None:
                yield held
            held = (out.to_ndarray().astype(np.float32, copy=False), out.sample_rate)
            total += out.samples
        if held is None:
            return
        stated = _stated_samples(stream, held[1])
        if stated and 0 < total - stated <= min(2048, held[0].shape[1]):
            held = (held[0][:, : held[0].shape[1] - (total - stated)], held[1])
        yield held


def _read_pyav(data: str | io.BytesIO) -> tuple[np.ndarray, int]:
    chunks: list[np.ndarray] = []
    rate = 0
    for samples, frame_rate in iter_pyav(data):
        chunks.append(samples)
        rate = frame_rate
    if not chunks or rate <= 0:
        raise ValueError("no audio frames could be decoded")
    return np.concatenate(chunks, axis=1), rate


def _stated_samples(stream: object, rate: int) -> int | None:
    duration = getattr(stream, "duration", None)
    time_base = getattr(stream, "time_base", None)
    if not duration or not time_base or getattr(stream, "start_time", None):
        return None
    return round(float(duration * time_base) * rate)


def decode(source: AudioSource, sample_rate: int | None = 16000, *, name: str | None = None,
           ) -> Audio:
    """Decode any supported audio to mono float32, optionally resampled.

    Args:
        source: A path, the file's bytes, or a binary file object.
        sample_rate: Target rate in Hz, or ``None`` to keep the source rate.
        name: How to name the input in error messages (defaults to the path).

    Returns:
        The decoded :class:`Audio`.

    Raises:
        AudioDecodeError: The input is empty, truncated, corrupt, has no samples,
            contains NaN/inf, or is not audio.
        InvalidOptionError: ``sample_rate`` is not positive.
    """
    if sample_rate is not None and sample_rate <= 0:
        raise InvalidOptionError(f"sample_rate must be positive, got {sample_rate}")
    label = _describe(source, name)
    data: str | io.BytesIO
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise AudioDecodeError(label, "file not found")
        if path.stat().st_size == 0:
            raise AudioDecodeError(label, "the file is empty")
        data = os.fspath(path)
    else:
        raw = bytes(source) if isinstance(source, bytes | bytearray | memoryview) else source.read()
        if not raw:
            raise AudioDecodeError(label, "the input is empty")
        data = io.BytesIO(raw)

    errors: list[str] = []
    decoded: tuple[np.ndarray, int] | None = None
    for reader in (_read_soundfile, _read_pyav):
        if isinstance(data, io.BytesIO):
            data.seek(0)
        try:
            decoded = reader(data)
            break
        except Exception as e:  # every backend failure becomes one typed error
            errors.append(f"{reader.__name__.removeprefix('_read_')}: {_reason(e)}")
    if decoded is None:
        raise UnsupportedFormatError(label, "not a readable audio file (" + "; ".join(errors) + ")")

    channels, rate = decoded
    if channels.size == 0:
        raise AudioDecodeError(label, "the audio contains no samples")
    if not np.isfinite(channels).all():
        raise AudioDecodeError(label, "the audio contains NaN or infinite sample values")
    mono = channels.mean(axis=0, dtype=np.float32) if channels.shape[0] > 1 else channels[0]
    target = rate if sample_rate is None else sample_rate
    if target != rate:
        mono = soxr.resample(mono, rate, target, quality="HQ")
    return Audio(np.ascontiguousarray(mono, dtype=np.float32), target, rate, channels.shape[0])


_OPENING = re.compile(r"Error opening .*?: ")
_ERRNO = re.compile(r"\[Errno -?\d+\] ")
_QUOTED_TAIL = re.compile(r": '[^']*'$")


def _reason(e: Exception) -> str:
    """A backend's error without file paths or object reprs (a server must not reveal where
    it staged an upload, and users need the reason, not the path)."""
    text = _QUOTED_TAIL.sub("", _ERRNO.sub("", _OPENING.sub("", str(e))))
    return text.strip() or type(e).__name__


def load_audio(source: AudioSource, sample_rate: int = 16000, *, name: str | None = None,
               ) -> np.ndarray:
    """Decode ``source`` to a mono float32 array at ``sample_rate`` (see :func:`decode`)."""
    return decode(source, sample_rate, name=name).samples


def probe_duration(source: str | os.PathLike[str]) -> float:
    """Return a file's duration in seconds without decoding it, when the header allows.

    Falls back to a full decode for containers that do not state their length.
    """
    try:
        info = sf.info(os.fspath(source))
        if info.frames > 0:
            return float(info.frames) / info.samplerate
    except Exception:
        pass
    return decode(source, None).duration


def encode_audio(samples: np.ndarray, sample_rate: int, fmt: str = "wav") -> bytes:
    """Encode mono float samples to the bytes of an audio file.

    Args:
        samples: Mono float samples in [-1, 1].
        sample_rate: Their rate in Hz.
        fmt: One of :data:`ENCODABLE_FORMATS`.

    Returns:
        The encoded file.
    """
    fmt = fmt.lower()
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    if fmt in SOUNDFILE_FORMATS:
        buf = io.BytesIO()
        subtype = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}
        sf.write(buf, clipped, sample_rate, format=SOUNDFILE_FORMATS[fmt],
                 subtype=subtype[SOUNDFILE_FORMATS[fmt]])
        return buf.getvalue()
    if fmt in PYAV_FORMATS:
        return _encode_pyav(clipped, sample_rate, *PYAV_FORMATS[fmt])
    raise InvalidOptionError(f"cannot encode '{fmt}'; choose one of {', '.join(ENCODABLE_FORMATS)}")


def _encode_pyav(samples: np.ndarray, sample_rate: int, container_fmt: str, codec: str) -> bytes:
    import av

    # Opus only runs at 48 kHz; AAC is happiest at common rates.
    rate = 48000 if codec == "libopus" else sample_rate
    if rate != sample_rate:
        samples = soxr.resample(samples, sample_rate, rate, quality="HQ")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_fmt) as container:
        stream: Any = container.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[np.newaxis, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        # A timestamp lets the encoder report its priming delay, so the muxer writes an
        # edit list and decoders trim it (otherwise AAC files come back ~70 ms long).
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def save_audio(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int,
               fmt: str | None = None) -> Path:
    """Write audio atomically; the format comes from ``fmt`` or the file extension."""
    dest = Path(path)
    data = encode_audio(samples, sample_rate, fmt or dest.suffix.lstrip(".") or "wav")
    with atomic_write(dest, "wb") as fh:
        fh.write(data)
    return dest
