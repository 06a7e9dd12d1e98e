"""Speech regions and speaker embeddings of overlapping windows.

Speech is found with Silero VAD (the ONNX model inside faster-whisper). Each speech region
is cut into windows of ``window`` seconds every ``step`` seconds (a region shorter than a
window is one window); each window is loudness-normalised and embedded with Resemblyzer's
LSTM speaker encoder, many windows per forward pass. Only the embeddings and their times
are kept, never the audio.

The mel spectrogram is Resemblyzer's (librosa's ``melspectrogram``: 25 ms periodic Hann
frames every 10 ms, centred with zero padding, 40 Slaney mel bands, power), computed here
with NumPy so that librosa (seconds to import) is not needed. It is computed once per
speech region; the windows are slices of it. On a CPU with native bfloat16 arithmetic
(AVX512-BF16 or AMX), the encoder runs in bfloat16: about 3.5 times less CPU than float32,
embeddings within cosine 0.998 of the float32 ones on the benchmark (see
``DiarizeOptions.precision``).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from earful.audio.constants import SAMPLE_RATE
from earful.diarize.options import DiarizeOptions
from earful.errors import DependencyMissingError

#: Resemblyzer's mel frames: 10 ms hop, 25 ms window, 40 bands.
HOP = SAMPLE_RATE // 100
N_FFT = SAMPLE_RATE // 40
N_MELS = 40
#: Windows embedded per forward pass.
BATCH = 128
#: Each window's RMS is brought to this level (Resemblyzer's -30 dBFS), so a speaker who
#: gets louder is still the same speaker.
TARGET_RMS = 10 ** (-30 / 20)
#: The encoder's embedding size.
DIM = 256


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
        return Windows(np.zeros(0), np.zeros(0), np.zeros((0, DIM), np.float32))

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


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    mel = hz / (200.0 / 3)
    log = hz >= 1000.0
    out: np.ndarray = np.where(log, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0)
                               / (np.log(6.4) / 27.0), mel)
    return out


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)),
                               mel * (200.0 / 3))
    return out


@functools.cache
def mel_basis() -> np.ndarray:
    """(40, 201) Slaney-normalised mel filters for 400-point FFTs at 16 kHz (what
    ``librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)`` gives)."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(8000.0)),
                                   N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:,
                                                                                          None]
    out: np.ndarray = weights.astype(np.float32)
    return out


@functools.cache
def _hann() -> np.ndarray:
    out: np.ndarray = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(
        np.float32)
    return out


def mel_power(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) float32 mel power spectrogram of 16 kHz ``wav``, as Resemblyzer
    computes it; frame ``i`` is centred on sample ``i * HOP``."""
    padded = np.pad(np.asarray(wav, dtype=np.float32), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    spec = np.fft.rfft(frames * _hann(), axis=1)
    power = np.square(spec.real) + np.square(spec.imag)
    out: np.ndarray = (power.astype(np.float32) @ mel_basis().T).astype(np.float32)
    return out


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU does bfloat16 arithmetic natively (AVX512-BF16 or AMX, through
    oneDNN); elsewhere bfloat16 would be emulated, and slower than float32."""
    try:
        import torch

        if not torch.backends.mkldnn.is_available() \
                or not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return False
        flags = Path("/proc/cpuinfo").read_text()
    except (ImportError, OSError, AttributeError, RuntimeError):
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


_BF16: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _model(encoder: Any, precision: str) -> tuple[Any, Any]:
    """The module to run and the input dtype: the encoder itself in float32, or a cached
    bfloat16 copy of it (the shared encoder is left as it is)."""
    import torch

    bf16 = precision == "bfloat16" or (precision == "auto" and native_bfloat16()
                                       and str(getattr(encoder, "device", "cpu")) == "cpu")
    if not bf16:
        return encoder, torch.float32
    model = _BF16.get(encoder)
    if model is None:
        import copy

        model = copy.deepcopy(encoder).to(torch.bfloat16).eval()
        _BF16[encoder] = model
    return model, torch.bfloat16


@contextmanager
def cpu_threads(threads: int) -> Iterator[None]:
    """Torch and BLAS limited to ``threads`` while the block runs (torch's setting is
    restored after). On a small or busy CPU one thread is fastest here: BLAS and OpenMP
    workers that wait spinning between the many small calls cost more than they give."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        limits = None
    else:
        limits = threadpool_limits(limits=threads, user_api="blas")
    try:
        yield
    finally:
        if limits is not None:
            limits.restore_original_limits()
        torch.set_num_threads(before)


def embed_mels(encoder: Any, mels: list[np.ndarray], opts: DiarizeOptions) -> np.ndarray:
    """(n, 256) L2-normalised embeddings of mel windows; windows of one length are run
    through the encoder together, :data:`BATCH` at a time. Call inside
    :func:`cpu_threads`."""
    import torch

    model, dtype = _model(encoder, opts.precision)
    out = np.zeros((len(mels), DIM), np.float32)
    by_length: dict[int, list[int]] = {}
    for i, m in enumerate(mels):
        by_length.setdefault(m.shape[0], []).append(i)
    with torch.inference_mode():
        for idx in by_length.values():
            for i in range(0, len(idx), BATCH):
                part = idx[i:i + BATCH]
                x = torch.from_numpy(np.stack([mels[j] for j in part]))
                emb = model(x.to(device=encoder.device, dtype=dtype)).float().cpu().numpy()
                out[part] = emb
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
    return out


def window_mels(audio: np.ndarray, regions: list[tuple[float, float]], window: float,
                step: float) -> tuple[list[tuple[float, float]], list[np.ndarray]]:
    """The ``(start, end)`` of every window of every region of 16 kHz ``audio``, and its
    loudness-normalised mel spectrogram (the region's, sliced; regions under 40 ms are
    skipped)."""
    spans: list[tuple[float, float]] = []
    mels: list[np.ndarray] = []
    frames = round(window * 100)
    for r0, r1 in regions:
        a, b = int(r0 * SAMPLE_RATE), int(r1 * SAMPLE_RATE)
        wav = audio[a:b]
        if wav.size < HOP * 4:
            continue
        mel = mel_power(wav)
        energy = np.square(wav, dtype=np.float64).cumsum()
        for w0, w1 in window_spans(r0, r1, window, step):
            f0 = round((w0 - r0) * 100)
            n = min(frames, round((w1 - w0) * 100))
            seg = mel[f0:f0 + n]
            s0 = int((w0 - r0) * SAMPLE_RATE)
            s1 = min(wav.size, s0 + n * HOP)
            power = (energy[s1 - 1] - (energy[s0 - 1] if s0 > 0 else 0.0)) / max(1, s1 - s0)
            rms = float(np.sqrt(max(power, 0.0)))
            spans.append((w0, w1))
            mels.append(seg * np.float32((TARGET_RMS / max(rms, 1e-5)) ** 2))
    return spans, mels


def embed_windows(encoder: Any, audio: np.ndarray, regions: list[tuple[float, float]],
                  opts: DiarizeOptions, offset: float = 0.0) -> Windows:
    """Embed every window of every region of ``audio`` (16 kHz); times are shifted by
    ``offset`` seconds."""
    with cpu_threads(opts.threads):
        spans, mels = window_mels(audio, regions, opts.window, opts.step)
        if not spans:
            return Windows.empty()
        emb = embed_mels(encoder, mels, opts)
    times = np.asarray(spans, dtype=np.float64) + offset
    return Windows(times[:, 0].copy(), times[:, 1].copy(), emb)
