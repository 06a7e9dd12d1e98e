"""The entry points the CLI and the service share: speak (Piper or Kokoro), clone, list voices.

They take a :class:`TtsConfig` (built from the settings at the edges by
``Settings.tts_config()``), never the settings themselves. Models come from the one model
manager and are held while they work, so a voice is loaded once per process and never
unloaded under a request.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earful.errors import InvalidOptionError
from earful.models import manager
from earful.tts.clone import CloneOptions, OfflineCloner
from earful.tts.kokoro_clone import Enrolment, EnrolOptions, KokoroCloner
from earful.tts.kokoro_engine import MODEL_LABEL as KOKORO_LABEL
from earful.tts.kokoro_engine import (
    KokoroOptions,
    is_kokoro_voice,
    kokoro_voices,
    parse_voice,
    speak_kokoro,
)
from earful.tts.kokoro_style import VoiceBank
from earful.tts.piper_engine import ALIASES, SpeakOptions, piper_voices, resolve_voice, speak
from earful.tts.reference import Reference, ReferenceCache
from earful.tts.result import Speech
from earful.tts.store import VoiceStore
from earful.tts.text import clean_text

#: Engines that speak plain text.
ENGINES = ("piper", "kokoro")


@dataclass(frozen=True)
class TtsConfig:
    """Where voices live and what a request may ask."""

    default_voice: str = "joe"
    """Piper voice used when a request names none (name or alias)."""
    kokoro_voice: str = "jm_kumo"
    """Kokoro voice or mix (``jf_alpha:0.6,jm_kumo:0.4``) used when a request names none
    (``jm_kumo``: the clearest and best-rated in ``benchmarks/tts_kokoro.py``)."""
    kokoro_threads: int = 0
    """ONNX Runtime threads for Kokoro (0: every CPU)."""
    cache_dir: Path | None = None
    """Where models joined from their packages (Kokoro) are kept; ``None``:
    ``~/.cache/earful``."""
    voices_dir: Path | None = None
    """Extra Piper voices (``NAME.onnx`` + ``NAME.onnx.json``)."""
    voice_store: Path = Path("voices")
    """Where saved cloning voices are kept."""
    max_text_chars: int = 2000
    """Longest text one call speaks."""
    xtts_model_dir: Path | None = None
    """Folder with XTTS-v2 ``config.json``, ``model.pth``, ``vocab.json``."""
    xtts_device: str = "cpu"
    """Device for XTTS: ``cpu`` or ``cuda``."""
    xtts_accept_license: bool = False
    """Accept the Coqui Public Model License, letting coqui download XTTS-v2."""
    enrol_steps: int = EnrolOptions.steps
    """Kokoro cloning: search steps after the voice-bank look-up (0: look-up only)."""

    def __post_init__(self) -> None:
        if self.max_text_chars < 1:
            raise InvalidOptionError("max_text_chars must be >= 1")
        if self.xtts_device not in ("cpu", "cuda"):
            raise InvalidOptionError("xtts_device must be cpu or cuda")
        if self.kokoro_threads < 0:
            raise InvalidOptionError("kokoro_threads must be >= 0")
        EnrolOptions(steps=self.enrol_steps)  # the one validator of enrolment options


def _voices_dir(config: TtsConfig) -> str | None:
    return str(config.voices_dir) if config.voices_dir else None


def _kokoro_params(config: TtsConfig) -> dict[str, Any]:
    """The Kokoro model's key in the model manager, as every user of it asks for it."""
    return {"label": KOKORO_LABEL, "threads": config.kokoro_threads,
            "cache_dir": str(config.cache_dir) if config.cache_dir else None}


def use_kokoro(config: TtsConfig) -> contextlib.AbstractContextManager[Any]:
    """Hold the Kokoro model (one for every voice and mix) for a ``with`` block."""
    return manager.use("tts.kokoro", **_kokoro_params(config))


def preload_kokoro(config: TtsConfig) -> None:
    """Load Kokoro now (warmed up, pinned: never unloaded for idling), as
    :func:`use_kokoro` would load it, so the first request does not wait for it."""
    manager.get("tts.kokoro", pin=True, **_kokoro_params(config))


def speak_text(text: str, config: TtsConfig, voice: str | None = None,
               opts: SpeakOptions | KokoroOptions | None = None, *,
               engine: str = "piper") -> Speech:
    """Speak plain text.

    Args:
        text: What to say (cleaned, then split and read in spoken form by the engine).
        config: Voices, limits, cache folder, threads.
        voice: Piper: a voice name or alias (default ``config.default_voice``). Kokoro: a
            voice or a mix such as ``jf_alpha:0.6,jm_kumo:0.4`` (default
            ``config.kokoro_voice``).
        opts: :class:`SpeakOptions` for Piper, :class:`KokoroOptions` for Kokoro.
        engine: ``piper`` or ``kokoro``.

    Raises:
        InvalidOptionError: Unknown engine, options of the other engine, a bad Kokoro voice.
        NotFoundError: Unknown Piper voice.
    """
    if engine not in ENGINES:
        raise InvalidOptionError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    text = clean_text(text, config.max_text_chars)
    if engine == "kokoro":
        if opts is not None and not isinstance(opts, KokoroOptions):
            raise InvalidOptionError(f"Kokoro takes KokoroOptions, not {type(opts).__name__}")
        spec = voice or config.kokoro_voice
        parse_voice(spec)  # a bad name or weight is refused before the model loads
        with use_kokoro(config) as model:
            return speak_kokoro(model, text, spec, opts)
    if opts is not None and not isinstance(opts, SpeakOptions):
        raise InvalidOptionError(f"Piper takes SpeakOptions, not {type(opts).__name__}")
    info = resolve_voice(voice or config.default_voice, config.voices_dir)
    with manager.use("tts.piper", label=info.name, name=info.name,
                     voices_dir=_voices_dir(config)) as model:
        return speak(model, text, opts, name=info.name)


def engine_for_voice(voice: str | None, config: TtsConfig) -> str | None:
    """The engine a voice name belongs to: ``kokoro`` for a Kokoro voice or mix, ``piper``
    for a Piper voice or alias, ``None`` for no or an unknown name."""
    if not voice:
        return None
    if is_kokoro_voice(voice):
        return "kokoro"
    if ALIASES.get(voice, voice) in piper_voices(config.voices_dir):
        return "piper"
    return None


def use_offline_cloner(config: TtsConfig,
                       base_voice: str) -> contextlib.AbstractContextManager[OfflineCloner]:
    """Hold the offline engine for a base Piper voice for a ``with`` block."""
    info = resolve_voice(base_voice, config.voices_dir)
    return manager.use("tts.offline", label=info.name, voice=info.name,
                       voices_dir=_voices_dir(config))


def use_xtts(config: TtsConfig) -> contextlib.AbstractContextManager[Any]:
    """Hold the XTTS-v2 engine (loaded on first use) for a ``with`` block."""
    return manager.use("tts.xtts", label="xtts-v2",
                       model_dir=str(config.xtts_model_dir) if config.xtts_model_dir else None,
                       device=config.xtts_device, accept_license=config.xtts_accept_license)


def clone(text: str, config: TtsConfig, opts: CloneOptions, *,
          reference: Reference | None = None, voice_id: str | None = None) -> Speech:
    """Speak ``text`` in the voice of a reference recording or of a saved voice.

    Exactly one of ``reference`` and ``voice_id`` must be given.
    """
    if (reference is None) == (voice_id is None):
        raise InvalidOptionError("give either a reference recording or a voice id")
    text = clean_text(text, config.max_text_chars)
    store = VoiceStore(config.voice_store)
    label = store.find(voice_id).id if voice_id is not None else "reference"

    def recording() -> Reference:
        # A saved voice's recording is decoded only when needed: the offline engine
        # usually has its stored profile.
        return reference if reference is not None else store.reference(label)

    if opts.engine == "kokoro":
        with use_kokoro(config) as model, use_speaker_encoder() as encoder:
            kokoro = KokoroCloner(model, encoder, shipped_bank())
            stored = (store.kokoro_style(label, kokoro.bank.pack_names)
                      if voice_id is not None else None)
            if stored is None:
                enrolled = _ENROLMENTS.get(
                    recording(), lambda r: kokoro.enrol(r, _enrol_options(config)))
                stored = enrolled.params, enrolled.gain_db
                if voice_id is not None:
                    store.save_kokoro_style(label, stored[0], kokoro.bank.pack_names,
                                            stored[1])
            return kokoro.speak(text, *stored, label, KokoroOptions(speed=opts.speed))
    if opts.engine == "xtts":
        with use_xtts(config) as engine:
            speech: Speech = engine.clone(text, recording(), opts.language, opts.speed,
                                          voice=label)
            return speech
    with use_offline_cloner(config, opts.base_voice) as cloner:
        profile = store.profile(label) if voice_id is not None else None
        if profile is None:
            profile = cloner.profile(recording())
            if voice_id is not None:
                store.save_profile(label, profile)
        return cloner.clone(text, profile, opts, voice=label)


def _enrol_options(config: TtsConfig) -> EnrolOptions:
    return EnrolOptions(steps=config.enrol_steps)


def kokoro_enrolled(config: TtsConfig, *, reference: Reference | None = None,
                    voice_id: str | None = None) -> bool:
    """Whether Kokoro can clone this reference or saved voice at once, its style being
    stored with the voice or cached from an earlier request; otherwise cloning starts with
    an enrolment search (tens of seconds). The service sizes the job by it."""
    try:
        if voice_id is not None:
            store = VoiceStore(config.voice_store)
            label = store.find(voice_id).id
            return store.kokoro_style(label, shipped_bank().pack_names) is not None
    except Exception:  # an unknown voice or no Kokoro: the clone itself will say so
        return False
    return reference is not None and reference in _ENROLMENTS


def enrol_kokoro(reference: Reference, config: TtsConfig,
                 progress: Callable[[int, int], None] | None = None) -> Enrolment:
    """Find the Kokoro style of a reference (what saving a voice does; cached by content)."""
    with use_kokoro(config) as model, use_speaker_encoder() as encoder:
        kokoro = KokoroCloner(model, encoder, shipped_bank())
        return _ENROLMENTS.get(
            reference, lambda r: kokoro.enrol(r, _enrol_options(config), progress))


def save_voice(name: str, reference: Reference, config: TtsConfig,
               progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Save a reference as a named voice, with what each installed engine needs measured:
    the offline engine's profile and, when Kokoro is installed, its enrolled style.

    Args:
        name: Display name (unique).
        reference: The checked recording.
        config: Where voices are kept.
        progress: Called with (candidates tried, planned) while the Kokoro style is sought.
    """
    with use_offline_cloner(config, config.default_voice) as cloner:
        profile = cloner.profile(reference)
    store = VoiceStore(config.voice_store)
    store.check_name(name)  # before the minute of enrolment, not after
    enrolment = enrol_kokoro(reference, config, progress) if kokoro_voices() else None
    voice = store.add(name, reference, profile)
    if enrolment is not None:
        store.save_kokoro_style(voice.id, enrolment.params, shipped_bank().pack_names,
                                enrolment.gain_db)
    return voice.to_dict()


def list_voices(config: TtsConfig) -> dict[str, list[dict[str, Any]]]:
    """Piper voices, Kokoro voices and saved cloning voices."""
    return {"piper": [v.to_dict() for v in piper_voices(config.voices_dir).values()],
            "kokoro": [v.to_dict() for v in kokoro_voices().values()],
            "saved": [v.to_dict() for v in VoiceStore(config.voice_store).list()]}


def use_speaker_encoder() -> contextlib.AbstractContextManager[Any]:
    """Hold Resemblyzer's speaker encoder for a ``with`` block."""
    return manager.use("speaker-encoder", label="resemblyzer", device="cpu")


@functools.lru_cache(maxsize=1)
def shipped_bank() -> VoiceBank:
    """The voice bank shipped with earful, read once."""
    return VoiceBank.load()


#: Enrolments of per-request references, by content: a client that sends the same
#: recording again does not wait for a second search.
_ENROLMENTS: ReferenceCache[Enrolment] = ReferenceCache(32)


def similarity_to(reference: Reference, speech: Speech) -> float:
    """Speaker similarity of ``speech`` to a reference (Resemblyzer cosine)."""
    from earful.tts.similarity import speaker_similarity

    with use_speaker_encoder() as encoder:
        return speaker_similarity(encoder, reference.samples, reference.sample_rate,
                                  speech.samples, speech.sample_rate)


def profile_reference(reference: Reference, config: TtsConfig,
                      base_voice: str | None = None) -> Any:
    """The offline engine's profile of a reference speaker (cached by its content)."""
    with use_offline_cloner(config, base_voice or config.default_voice) as cloner:
        return cloner.profile(reference)
