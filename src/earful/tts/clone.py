"""Voice cloning: speak text in the voice of a reference recording.

Three engines:

* ``kokoro`` finds a Kokoro-82M style that sounds like the reference (a look-up in a bank of
  generated voices, then a short search: :mod:`earful.tts.kokoro_clone`) and speaks with it.
  No downloads; CPU; English; natural-sounding (DNSMOS about 3).
* ``offline`` speaks with a Piper voice, then converts it toward the reference with WORLD
  (:mod:`earful.tts.convert`). No downloads; CPU only; English (Piper's voice).
* ``xtts`` is Coqui XTTS-v2 (:mod:`earful.tts.xtts`): a neural model that clones from a few
  seconds, in 17 languages. Its weights are under the non-commercial Coqui Public Model
  License and are not bundled.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from earful.errors import InvalidOptionError
from earful.tts.convert import (
    RATE,
    ConvertOptions,
    VoiceProfile,
    analyse_voice,
    convert,
    plan_conversion,
)
from earful.tts.piper_engine import SpeakOptions, speak
from earful.tts.reference import Reference, ReferenceCache
from earful.tts.result import Speech

ENGINES = ("kokoro", "offline", "xtts")
PROFILE_CACHE_SIZE = 64
#: Bounds on the speaking-rate change toward a reference: beyond them Piper's voice blurs.
MIN_RATE, MAX_RATE = 0.75, 1.33

#: What the offline engine's base voice reads once to measure its own acoustics: phonetically
#: balanced sentences (Harvard lists), so its average envelope covers every vowel.
CALIBRATION_TEXT = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It's easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. The juice of lemons makes fine punch. "
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage."
)


@dataclass(frozen=True)
class CloneOptions:
    """How to clone."""

    engine: str = "kokoro"
    """``kokoro`` (a Kokoro style found for the reference; the default: closer to the
    speaker, cleaner and more intelligible than ``offline`` in
    ``benchmarks/tts_kokoro_clone.py``), ``offline`` (Piper + WORLD conversion, the light
    fallback) or ``xtts`` (Coqui XTTS-v2)."""
    language: str = "en"
    """Language of the text. The kokoro and offline engines speak English only."""
    speed: float = 1.0
    """Speaking rate (0.25 to 4)."""
    base_voice: str = "joe"
    """Piper voice the offline engine converts from."""
    strength: float = 1.0
    """Offline engine: 0 keeps the base voice, 1 converts fully."""
    match_rate: bool = True
    """Offline engine: speak at the reference's syllable rate (within 0.75x to 1.33x of the
    base voice's), on top of ``speed``."""

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InvalidOptionError(f"engine must be one of {', '.join(ENGINES)}")
        if not 0.25 <= self.speed <= 4.0:
            raise InvalidOptionError("speed must be between 0.25 and 4")
        if not 0.0 <= self.strength <= 1.0:
            raise InvalidOptionError("strength must be between 0 and 1")
        if self.engine != "xtts" and self.language.split("-")[0].lower() != "en":
            raise InvalidOptionError(f"the {self.engine} engine speaks English only; use "
                                     "engine 'xtts' for other languages")
        if self.engine == "kokoro" and not 0.5 <= self.speed <= 2.0:
            raise InvalidOptionError("the kokoro engine's speed must be between 0.5 and 2")


class OfflineCloner:
    """Piper plus WORLD conversion, with the base voice measured once."""

    def __init__(self, voice: Any, name: str, opts: ConvertOptions | None = None) -> None:
        self.voice = voice
        self.name = name
        self.opts = opts or ConvertOptions()
        self._source: VoiceProfile | None = None
        self._profiles: ReferenceCache[VoiceProfile] = ReferenceCache(PROFILE_CACHE_SIZE)
        self._lock = threading.Lock()

    @property
    def source(self) -> VoiceProfile:
        """The base voice's profile, measured on first use."""
        with self._lock:
            if self._source is None:
                calib = speak(self.voice, CALIBRATION_TEXT, SpeakOptions(noise_scale=0.5),
                              name=self.name)
                self._source = analyse_voice(calib.samples, calib.sample_rate, self.opts)
            return self._source

    def profile(self, reference: Reference) -> VoiceProfile:
        """Measure a reference speaker (cached by the recording's content)."""
        return self._profiles.get(
            reference, lambda r: analyse_voice(r.samples, r.sample_rate, self.opts))

    def clone(self, text: str, target: VoiceProfile, opts: CloneOptions, *,
              voice: str = "reference") -> Speech:
        """Speak ``text`` with the base voice converted toward ``target``."""
        speed = opts.speed
        if opts.match_rate and target.syllable_rate > 0 and self.source.syllable_rate > 0:
            ratio = float(np.clip(target.syllable_rate / self.source.syllable_rate,
                                  MIN_RATE, MAX_RATE))
            speed = float(np.clip(speed * ratio, 0.25, 4.0))
        start = time.perf_counter()
        base = speak(self.voice, text, SpeakOptions(speed=speed), name=self.name)
        synth = time.perf_counter() - start
        convert_opts = replace(self.opts, strength=opts.strength)
        plan = plan_conversion(self.source, target, convert_opts)
        start = time.perf_counter()
        samples = convert(base.samples, base.sample_rate, plan, convert_opts)
        return Speech(samples=samples, sample_rate=RATE, text=base.text, voice=voice,
                      engine="offline",
                      timings={"synthesis": synth, "conversion": time.perf_counter() - start})


def load_offline_cloner(voice: str = "joe", voices_dir: str | None = None) -> OfflineCloner:
    """The model manager's ``tts.offline`` loader (its Piper voice is its own copy, so
    unloading either never pulls a model from under the other)."""
    from earful.tts.piper_engine import load_piper_voice

    piper = load_piper_voice(voice, voices_dir)
    return OfflineCloner(piper, voice)
