"""Small files that claim or hold far more audio than they look: decompression bombs.

Shared by the probe's unit tests, the service's bomb tests and ``benchmarks/service_bombs.py``.
Each writer streams its output, so making a bomb never holds its audio in memory.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf


def flac_silence(path: Path, seconds: float, rate: int = 48000,
                 hide_length: bool = False) -> Path:
    """FLAC of digital silence; ``hide_length`` zeroes STREAMINFO's total-samples field,
    as a streamed encoder leaves it, so the header states no duration at all."""
    block = np.zeros(rate * 60, np.int16)
    with sf.SoundFile(path, "w", rate, 1, "PCM_16", format="FLAC") as f:
        left = int(seconds * rate)
        while left > 0:
            f.write(block[: min(left, block.size)])
            left -= block.size
    if hide_length:
        data = bytearray(path.read_bytes())
        # "fLaC", a 4-byte block header, then STREAMINFO: bytes 10..17 of it hold rate (20
        # bits), channels (3), bits per sample (5) and total samples (the low 36 bits).
        field = 8 + 10
        packed = int.from_bytes(data[field:field + 8], "big") & ~((1 << 36) - 1)
        data[field:field + 8] = packed.to_bytes(8, "big")
        path.write_bytes(bytes(data))
    return path


def mp3_silence(path: Path, seconds: float, rate: int = 8000) -> Path:
    """MP3 of silence (libsndfile's LAME encoder)."""
    block = np.zeros(rate * 60, np.float32)
    with sf.SoundFile(path, "w", rate, 1, format="MP3") as f:
        left = int(seconds * rate)
        while left > 0:
            f.write(block[: min(left, block.size)])
            left -= block.size
    return path


def opus_silence(path: Path, seconds: float) -> Path:
    """Ogg/Opus of silence at 6 kbit/s (FFmpeg's libopus through PyAV)."""
    import av

    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.bit_rate = 6000
        stream.layout = "mono"
        zeros = np.zeros((1, 48000), np.float32)
        for _ in range(int(seconds)):
            frame = av.AudioFrame.from_ndarray(zeros, format="fltp", layout="mono")
            frame.sample_rate = 48000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def wav_claiming(path: Path, seconds: float, claim_bytes: int, rate: int = 16000,
                 subtype: str = "PCM_16") -> Path:
    """A WAV holding ``seconds`` of a tone whose data chunk claims ``claim_bytes``."""
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, 0.3 * np.sin(2 * np.pi * 220 * t), rate, subtype=subtype)
    data = bytearray(path.read_bytes())
    at = data.find(b"data")
    data[at + 4:at + 8] = struct.pack("<I", claim_bytes)
    path.write_bytes(bytes(data))
    return path


def mp4_claiming_hours(path: Path, source: Path, hours: float = 10.0) -> Path:
    """An M4A copy of ``source`` whose movie and track headers claim ``hours``."""
    data = bytearray(source.read_bytes())
    for box in (b"mvhd", b"mdhd"):
        at = data.find(box)
        if at < 0 or data[at + 4] != 0:  # only version-0 boxes (32-bit fields) are patched
            continue
        scale = struct.unpack(">I", data[at + 16:at + 20])[0]
        data[at + 20:at + 24] = struct.pack(">I", min(0xFFFFFFFF, int(hours * 3600 * scale)))
    path.write_bytes(bytes(data))
    return path
