"""Live transcription building blocks: input audio formats, turn detection, stable partials.

Arrays in, events out; no sockets here (the service's realtime route speaks the protocol).

* :func:`decode_input` turns what a realtime client sends (PCM16 at a given rate, G.711
  mu-law or A-law at 8 kHz) into float32 samples.
* :class:`TurnTracker` follows a growing 16 kHz stream with Silero VAD (the model inside
  faster-whisper) and says when speech starts and when a turn ends (enough silence after
  speech), keeping only a little audio before speech while nobody talks.
* :func:`stable_words` decides which words of a partial hypothesis are safe to show: those
  two consecutive hypotheses agree on, so shown words rarely change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from earful.audio.constants import SAMPLE_RATE
from earful.errors import InvalidOptionError

Encoding = Literal["pcm16", "g711_ulaw", "g711_alaw"]
#: PCM16 rates accepted (OpenAI's realtime API itself takes 24 kHz).
PCM_RATES = (8000, 16000, 24000, 44100, 48000)


def _ulaw_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.uint8)
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent
    value = np.where(sign != 0, 0x84 - magnitude, magnitude - 0x84)
    return (value / 32768.0).astype(np.float32)


def _alaw_table() -> np.ndarray:
    codes = np.arange(256, dtype=np.uint8) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = (codes & 0x0F).astype(np.int32)
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8,
                         ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    value = np.where(sign != 0, magnitude, -magnitude)
    return (value / 32768.0).astype(np.float32)


_TABLES = {"g711_ulaw": _ulaw_table(), "g711_alaw": _alaw_table()}


def decode_input(data: bytes, encoding: Encoding) -> np.ndarray:
    """Samples (float32 in [-1, 1]) from one appended chunk.

    Raises:
        InvalidOptionError: PCM16 data of odd length.
    """
    if encoding == "pcm16":
        if len(data) % 2:
            raise InvalidOptionError("pcm16 audio must be a whole number of 16-bit samples")
        return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
    return _TABLES[encoding][np.frombuffer(data, np.uint8)]


@dataclass(frozen=True)
class TurnDetection:
    """Server-side voice activity detection (OpenAI's ``server_vad`` settings)."""

    threshold: float = 0.5
    """Speech probability above which a frame counts as speech (Silero's threshold)."""
    prefix_padding_ms: int = 300
    """Audio kept before detected speech, so the first syllable is not cut."""
    silence_duration_ms: int = 500
    """Silence after speech that ends a turn."""

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise InvalidOptionError("turn_detection.threshold must be between 0 and 1")
        if not 0 <= self.prefix_padding_ms <= 5000:
            raise InvalidOptionError("turn_detection.prefix_padding_ms must be 0..5000")
        if not 100 <= self.silence_duration_ms <= 10000:
            raise InvalidOptionError("turn_detection.silence_duration_ms must be 100..10000")


@dataclass(frozen=True)
class Turn:
    """A finished turn: its audio and where it lies in the session (milliseconds)."""

    audio: np.ndarray
    start_ms: int
    end_ms: int


class TurnTracker:
    """Follows a 16 kHz stream and cuts it into turns with Silero VAD.

    :meth:`feed` returns ``("speech_started", ms)`` / ``("speech_stopped", ms)`` events and
    the finished :class:`Turn`, if any. Detection reruns on the buffered audio every
    ``step_ms`` of new audio; while nobody speaks only ``prefix_padding_ms`` are kept.
    """

    def __init__(self, detection: TurnDetection, step_ms: int = 200) -> None:
        self.detection = detection
        self.step = SAMPLE_RATE * step_ms // 1000
        self.prefix = SAMPLE_RATE * detection.prefix_padding_ms // 1000
        self.silence = SAMPLE_RATE * detection.silence_duration_ms // 1000
        self.min_speech = SAMPLE_RATE // 4
        self.tail = min(self.silence // 2, SAMPLE_RATE * 3 // 10)
        self.buffer = np.zeros(0, np.float32)
        self.offset = 0  # session sample index of buffer[0]
        self.speech_start: int | None = None  # buffer index where the current turn's speech began
        self._unchecked = 0

    @property
    def in_speech(self) -> bool:
        """Whether a turn is under way."""
        return self.speech_start is not None

    def _ms(self, index: int) -> int:
        return (self.offset + index) * 1000 // SAMPLE_RATE

    def _speech(self) -> list[dict[str, int]]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        opts = VadOptions(threshold=self.detection.threshold, min_speech_duration_ms=200,
                          min_silence_duration_ms=self.detection.silence_duration_ms,
                          speech_pad_ms=0)
        found: list[dict[str, int]] = get_speech_timestamps(self.buffer, opts)
        return found

    def feed(self, samples: np.ndarray) -> tuple[list[tuple[str, int]], Turn | None]:
        """Add audio; returns the events it caused and a finished turn, if any."""
        self.buffer = np.concatenate([self.buffer, samples.astype(np.float32, copy=False)])
        self._unchecked += samples.size
        if self._unchecked < self.step:
            return [], None
        self._unchecked = 0
        found = self._speech()
        events: list[tuple[str, int]] = []
        if not self.in_speech:
            # A blip shorter than this at the end of the buffer is not yet speech.
            if not found or found[-1]["end"] - found[0]["start"] < self.min_speech:
                if not found:
                    self._drop(max(0, self.buffer.size - self.prefix))
                return events, None
            self.speech_start = found[0]["start"]
            events.append(("speech_started", self._ms(self.speech_start)))
        last_end = found[-1]["end"] if found else self.speech_start or 0
        if self.buffer.size - last_end >= self.silence:
            events.append(("speech_stopped", self._ms(last_end)))
            # VAD ends speech on the last loud frame; a little of the silence after it keeps
            # a word's soft ending ("Americans") in the turn.
            return events, self.cut(min(self.buffer.size, last_end + self.tail))
        return events, None

    def append(self, samples: np.ndarray) -> None:
        """Add audio without detection (turns are cut by the client's commits)."""
        self.buffer = np.concatenate([self.buffer, samples.astype(np.float32, copy=False)])

    def current(self) -> np.ndarray:
        """The audio of the turn under way (with its prefix), for partial transcripts."""
        if self.speech_start is None:
            return np.zeros(0, np.float32)
        return self.buffer[max(0, self.speech_start - self.prefix):]

    def cut(self, end: int | None = None) -> Turn | None:
        """End the turn at buffer index ``end`` (default: all buffered audio); ``None`` if
        no audio is buffered. A commit from the client calls this directly."""
        end = self.buffer.size if end is None else end
        start = 0 if self.speech_start is None else max(0, self.speech_start - self.prefix)
        if end <= start:
            self.speech_start = None
            return None
        turn = Turn(self.buffer[start:end].copy(), self._ms(start), self._ms(end))
        self._drop(end)
        self.speech_start = None
        return turn

    def clear(self) -> None:
        """Forget buffered audio (the client's ``input_audio_buffer.clear``)."""
        self._drop(self.buffer.size)
        self.speech_start = None

    def _drop(self, count: int) -> None:
        self.buffer = self.buffer[count:]
        self.offset += count
        if self.speech_start is not None:
            self.speech_start = max(0, self.speech_start - count)

    @property
    def buffered_seconds(self) -> float:
        """Seconds of audio held."""
        return self.buffer.size / SAMPLE_RATE


def stable_words(previous: list[str] | None, current: list[str]) -> list[str]:
    """The words of ``current`` safe to show: the prefix it shares with ``previous`` (the
    last two hypotheses agree on it), or, for a first hypothesis, all but its last two."""
    if previous is None:
        return current[:-2]
    shared = 0
    for a, b in zip(previous, current, strict=False):
        if a.lower().strip(".,!?") != b.lower().strip(".,!?"):
            break
        shared += 1
    return current[:shared]
