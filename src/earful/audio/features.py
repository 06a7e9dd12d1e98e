"""Time-frequency features: STFT spectrogram in dB, mel spectrogram, MFCC.

Pure functions from arrays to :class:`Feature` dataclasses; librosa does the signal
processing. Parameters live in frozen option dataclasses validated on construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import librosa
import numpy as np

from earful.errors import InvalidOptionError


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise InvalidOptionError(message)


@dataclass(frozen=True)
class StftOptions:
    """Short-time Fourier transform settings."""

    n_fft: int = 512
    """FFT size in samples (32 ms at 16 kHz)."""
    hop_length: int = 160
    """Step between frames in samples (10 ms at 16 kHz)."""
    win_length: int | None = None
    """Window length in samples; ``None`` means ``n_fft``."""
    window: str = "hann"
    """Window function name, as scipy.signal.get_window understands it."""
    top_db: float | None = 80.0
    """Floor of the dB scale below the peak; ``None`` keeps the full range."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` if any field is out of range."""
        _require(self.n_fft > 0, f"n_fft must be positive, got {self.n_fft}")
        _require(self.hop_length > 0, f"hop_length must be positive, got {self.hop_length}")
        _require(self.win_length is None or 0 < self.win_length <= self.n_fft,
                 f"win_length must be in (0, n_fft], got {self.win_length}")
        _require(self.top_db is None or self.top_db > 0, f"top_db must be > 0, got {self.top_db}")


@dataclass(frozen=True)
class MelOptions:
    """Mel filter-bank settings on top of an STFT."""

    stft: StftOptions = field(default_factory=StftOptions)
    """The underlying STFT."""
    n_mels: int = 64
    """Number of mel bands."""
    fmin: float = 20.0
    """Lowest band edge in Hz."""
    fmax: float | None = None
    """Highest band edge in Hz; ``None`` means the Nyquist frequency."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` if any field is out of range."""
        _require(self.n_mels > 0, f"n_mels must be positive, got {self.n_mels}")
        _require(self.fmin >= 0, f"fmin must be >= 0, got {self.fmin}")
        _require(self.fmax is None or self.fmax > self.fmin, "fmax must be above fmin")


@dataclass(frozen=True)
class MfccOptions:
    """Mel-frequency cepstral coefficient settings."""

    mel: MelOptions = field(default_factory=MelOptions)
    """The mel spectrogram the cepstrum is taken of."""
    n_mfcc: int = 13
    """Number of coefficients kept (the first is overall loudness)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` if any field is out of range."""
        _require(0 < self.n_mfcc <= self.mel.n_mels,
                 f"n_mfcc must be in (0, n_mels], got {self.n_mfcc}")


@dataclass(frozen=True)
class Feature:
    """A 2-D feature: rows are frequency bins, mel bands or coefficients; columns are frames."""

    values: np.ndarray
    """Array of shape (bins, frames)."""
    sample_rate: int
    """Rate of the audio it was computed from."""
    hop_length: int
    """Frame step in samples."""
    kind: str
    """``"stft_db"``, ``"mel_db"`` or ``"mfcc"``."""
    fmin: float = 0.0
    """Lowest frequency represented (Hz), for axis labels."""
    fmax: float = 0.0
    """Highest frequency represented (Hz), for axis labels."""

    @property
    def times(self) -> np.ndarray:
        """Centre time of each frame in seconds."""
        return librosa.frames_to_time(np.arange(self.values.shape[1]), sr=self.sample_rate,
                                      hop_length=self.hop_length)


def _check_audio(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    _require(sample_rate > 0, f"sample_rate must be positive, got {sample_rate}")
    y = np.asarray(samples, dtype=np.float32)
    _require(y.ndim == 1 and y.size > 0, "expected a non-empty mono array")
    return y


def spectrogram(samples: np.ndarray, sample_rate: int, options: StftOptions | None = None,
                ) -> Feature:
    """Magnitude STFT in dB relative to the loudest bin."""
    o = options or StftOptions()
    y = _check_audio(samples, sample_rate)
    mag = np.abs(librosa.stft(y, n_fft=o.n_fft, hop_length=o.hop_length,
                              win_length=o.win_length, window=o.window))
    db = librosa.amplitude_to_db(mag, ref=np.max, top_db=o.top_db)
    return Feature(db, sample_rate, o.hop_length, "stft_db", 0.0, sample_rate / 2)


def mel_power(samples: np.ndarray, sample_rate: int, options: MelOptions | None = None,
              ) -> np.ndarray:
    """Mel-band power spectrogram (linear scale), shape (n_mels, frames)."""
    o = options or MelOptions()
    y = _check_audio(samples, sample_rate)
    return librosa.feature.melspectrogram(
        y=y, sr=sample_rate, n_fft=o.stft.n_fft, hop_length=o.stft.hop_length,
        win_length=o.stft.win_length, window=o.stft.window, n_mels=o.n_mels,
        fmin=o.fmin, fmax=o.fmax, power=2.0)


def mel_spectrogram(samples: np.ndarray, sample_rate: int, options: MelOptions | None = None,
                    ) -> Feature:
    """Mel spectrogram in dB relative to the loudest band."""
    o = options or MelOptions()
    db = librosa.power_to_db(mel_power(samples, sample_rate, o), ref=np.max, top_db=o.stft.top_db)
    return Feature(db, sample_rate, o.stft.hop_length, "mel_db", o.fmin,
                   o.fmax or sample_rate / 2)


def log_mel(samples: np.ndarray, sample_rate: int, options: MelOptions | None = None,
            ) -> np.ndarray:
    """Absolute log-mel energies, ``log(power + 1e-6)``, as float32 for model input.

    Unlike :func:`mel_spectrogram` this is not normalised to the loudest band, so loudness
    differences between clips survive (a model needs them to tell silence from speech).
    """
    return np.log(mel_power(samples, sample_rate, options) + 1e-6).astype(np.float32)


def mfcc(samples: np.ndarray, sample_rate: int, options: MfccOptions | None = None) -> Feature:
    """MFCCs: the DCT of the log mel spectrogram, keeping the first ``n_mfcc`` coefficients."""
    o = options or MfccOptions()
    power_db = librosa.power_to_db(mel_power(samples, sample_rate, o.mel))
    coeffs = librosa.feature.mfcc(S=power_db, n_mfcc=o.n_mfcc)
    return Feature(coeffs, sample_rate, o.mel.stft.hop_length, "mfcc", o.mel.fmin,
                   o.mel.fmax or sample_rate / 2)
