"""Reference recordings for voice cloning: decoded by earful, checked for length."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from earful.audio.io import AudioSource, decode
from earful.errors import (
    AudioDecodeError,
    AudioTooLongError,
    ReferenceAudioError,
    UnsupportedFormatError,
)

#: Shortest and longest accepted reference, in seconds.
MIN_SECONDS = 3.0
MAX_SECONDS = 30.0
#: Rate references are kept at (the speaker encoders' and WORLD analysis' input rates are
#: reached from it by resampling).
RATE = 22050

T = TypeVar("T")


@dataclass(frozen=True)
class Reference:
    """A decoded, checked reference recording."""

    samples: np.ndarray
    """Mono float32 at :data:`RATE`."""
    sample_rate: int
    """Always :data:`RATE`."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    @property
    def digest(self) -> str:
        """A content hash: the cache key of anything computed from this reference."""
        return hashlib.sha256(self.samples.tobytes()).hexdigest()[:16]


def check_reference(samples: np.ndarray, sample_rate: int) -> Reference:
    """Validate a reference already in memory and bring it to :data:`RATE`.

    Raises:
        ReferenceAudioError: Shorter than :data:`MIN_SECONDS`, longer than
            :data:`MAX_SECONDS`, or silent; the message gives the measured duration.
    """
    from earful.audio.transforms import resample

    duration = len(samples) / sample_rate
    if duration < MIN_SECONDS:
        raise ReferenceAudioError(f"the reference is {duration:.2f} s long; it must be at least "
                                  f"{MIN_SECONDS:g} s")
    if duration > MAX_SECONDS:
        raise ReferenceAudioError(f"the reference is {duration:.2f} s long; it must be at most "
                                  f"{MAX_SECONDS:g} s")
    if float(np.max(np.abs(samples))) < 1e-4:
        raise ReferenceAudioError(f"the reference ({duration:.2f} s) is silent")
    return Reference(resample(np.asarray(samples, dtype=np.float32), sample_rate, RATE), RATE)


def load_reference(source: AudioSource, *, name: str | None = None) -> Reference:
    """Decode and check a reference recording (any format earful decodes).

    A file is first probed as a stream that stops just past :data:`MAX_SECONDS`, so an
    upload claiming hours is refused without being decoded in full.

    Raises:
        UnsupportedFormatError: Not a recognised audio format.
        ReferenceAudioError: Undecodable, or outside the accepted length.
    """
    from earful.audio.probe import probe_audio

    try:
        if isinstance(source, str | os.PathLike):
            # A little over the limit, so a 33 s reference is still measured and named.
            probe_audio(source, MAX_SECONDS * 1.5, name=name)
        audio = decode(source, RATE, name=name)
    except AudioTooLongError as e:
        raise ReferenceAudioError(f"the reference is over {e.duration:.1f} s long; it must be "
                                  f"at most {MAX_SECONDS:g} s") from e
    except UnsupportedFormatError:
        raise
    except AudioDecodeError as e:
        raise ReferenceAudioError(f"the reference could not be decoded: {e}") from e
    return check_reference(audio.samples, audio.sample_rate)


class ReferenceCache(Generic[T]):
    """What a cloning engine computes from a reference (a voice profile, conditioning
    latents), kept by the recording's content so a repeated reference is analysed once.

    Least recently used entries are dropped beyond ``size``. Thread-safe; two threads
    missing on the same reference may both compute it (the result is the same).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, reference: object) -> bool:
        """Whether a value for ``reference`` is cached (without counting a hit)."""
        if not isinstance(reference, Reference):
            return False
        with self._lock:
            return reference.digest in self._items

    def get(self, reference: Reference, compute: Callable[[Reference], T]) -> T:
        """The cached value for ``reference``, computing it on a miss."""
        key = reference.digest
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        value = compute(reference)
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
