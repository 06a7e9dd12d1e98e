"""What every speech engine returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Speech:
    """Synthesised speech and how it was made."""

    samples: np.ndarray
    """Mono float32 samples in [-1, 1]."""
    sample_rate: int
    """Rate of ``samples`` in Hz."""
    text: str
    """The text that was spoken (after cleaning)."""
    voice: str
    """The voice's name (a Piper voice, a saved voice id, or ``reference``)."""
    engine: str
    """``piper``, ``kokoro``, ``offline`` or ``xtts``."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per stage (``synthesis``, ``conversion``...)."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    def metadata(self) -> dict[str, Any]:
        """A JSON-ready description (no samples)."""
        total = sum(self.timings.values())
        return {
            "text": self.text,
            "voice": self.voice,
            "engine": self.engine,
            "sample_rate": self.sample_rate,
            "duration": round(self.duration, 3),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "real_time_factor": round(total / self.duration, 4) if self.duration else None,
        }


def peak_normalise(samples: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Scale so the largest absolute sample is ``peak`` (silence is returned unchanged)."""
    top = float(np.max(np.abs(samples))) if samples.size else 0.0
    if top < 1e-6:
        return samples.astype(np.float32)
    return (samples * (peak / top)).astype(np.float32)
