"""Speech regions and speaker embeddings of overlapping windows.

Speech is found with Silero VAD (the ONNX model inside faster-whisper). Each speech region
is cut into windows of ``window`` seconds every ``step`` seconds (a region shorter than a
window is one window); each window is loudness-normalised and embedded with Resemblyzer's
LSTM speaker encoder, many windows per forward pass. Only the embeddings and their times
are kept, never the audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from earful.audio.constants import SAMPLE_RATE
from earful.diarize.options import DiarizeOptions
from earful.errors import DependencyMissingError

#: Resemblyzer's mel frames: 10 ms hop, 40 bands.
HOP = SAMPLE_RATE // 100
#: Windows embedded per forward pass.
BATCH = 128
#: Each window's RMS is brought to this level (Resemblyzer's -30 dBFS), so a speaker who
#: gets louder is still the same speaker.
TARGET_RMS = 10 ** (-30 / 20)


@dataclass
class Windows:
    """Embedded windows: times in seconds from the start of the recording."""

    starts: np.ndarray
    ends: np.ndarray
    embeddings: np.ndarray
    """(n, 256) L2-normalised float32."""

    @staticmethod
    def empty() -> Windows:
        """No windows."""
        return Windows(np.zeros(0), np.zeros(0), np.zeros((0, 256), np.float32))

    @staticmethod
    def concat(parts: list[Windows]) -> Windows:
        """All windows of ``parts``, in order."""
        if not parts:
            return Windows.empty()
        return Windows(np.concatenate([p.starts for p in parts]),
                       np.concatenate([p.ends for p in parts]),
                       np.concatenate([p.embeddings for p in parts]))

    def __len__(self) -> int:
        return int(self.starts.size)


def speech_regions(audio: np.ndarray, opts: DiarizeOptions) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of speech in 16 kHz ``audio`` (Silero VAD)."""
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError as e:
        raise DependencyMissingError("faster-whisper", "diarize", "speaker diarization") from e
    vad = VadOptions(threshold=opts.vad_threshold,
                     min_silence_duration_ms=int(opts.min_silence * 1000),
                     min_speech_duration_ms=200, speech_pad_ms=60)
    stamps = get_speech_timestamps(audio, vad, sampling_rate=SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def window_spans(start: float, end: float, window: float, step: float) -> list[tuple[float,
                                                                                      float]]:
    """Windows covering ``[start, end]``: every ``step`` seconds, the last one ending at
    ``end``; one window for a region shorter than ``window``."""
    if end - start <= window:
        return [(start, end)]
    spans = []
    t = start
    while t + window < end - 1e-6:
        spans.append((t, t + window))
        t += step
    spans.append((end - window, end))
    return spans


def _mel(wav: np.ndarray) -> np.ndarray:
    from resemblyzer.audio import wav_to_mel_spectrogram

    mel: np.ndarray = wav_to_mel_spectrogram(wav)
    return mel  # (frames, 40), power (not log), frame i centred on sample i * HOP


def _forward(encoder: Any, mels: np.ndarray, threads: int) -> np.ndarray:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            out = encoder(torch.from_numpy(mels).to(encoder.device))
    finally:
        torch.set_num_threads(before)
    result: np.ndarray = out.cpu().numpy().astype(np.float32)
    return result


def embed_windows(encoder: Any, audio: np.ndarray, regions: list[tuple[float, float]],
                  opts: DiarizeOptions, offset: float = 0.0) -> Windows:
    """Embed every window of every region of ``audio`` (16 kHz); times are shifted by
    ``offset`` seconds."""
    starts: list[float] = []
    ends: list[float] = []
    full: list[np.ndarray] = []  # mel windows of the full length, batched
    full_index: list[int] = []
    short: list[tuple[int, np.ndarray]] = []  # shorter windows, one at a time
    frames = round(opts.window * 100)
    for r0, r1 in regions:
        a, b = int(r0 * SAMPLE_RATE), int(r1 * SAMPLE_RATE)
        wav = audio[a:b]
        if wav.size < HOP * 4:
            continue
        mel = _mel(wav)
        for w0, w1 in window_spans(r0, r1, opts.window, opts.step):
            f0 = round((w0 - r0) * 100)
            n = min(frames, round((w1 - w0) * 100))
            seg = mel[f0:f0 + n]
            s0 = int((w0 - r0) * SAMPLE_RATE)
            rms = float(np.sqrt(np.mean(np.square(wav[s0:s0 + n * HOP], dtype=np.float64))))
            seg = seg * np.float32((TARGET_RMS / max(rms, 1e-5)) ** 2)
            idx = len(starts)
            starts.append(w0 + offset)
            ends.append(w1 + offset)
            if seg.shape[0] == frames:
                full.append(seg)
                full_index.append(idx)
            else:
                short.append((idx, seg))
    emb = np.zeros((len(starts), 256), np.float32)
    for i in range(0, len(full), BATCH):
        emb[full_index[i:i + BATCH]] = _forward(encoder, np.stack(full[i:i + BATCH]),
                                                  opts.threads)
    for idx, seg in short:
        emb[idx] = _forward(encoder, seg[None], opts.threads)[0]
    return Windows(np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64),
                   emb)
