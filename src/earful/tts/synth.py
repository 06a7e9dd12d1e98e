"""The entry points the CLI and the service share: speak, clone, list voices.

Models come from the one registry, so a voice or XTTS is loaded once per process.
"""

from __future__ import annotations

from typing import Any

from earful.config import Settings
from earful.errors import InvalidOptionError
from earful.models import registry
from earful.tts.clone import CloneOptions, OfflineCloner
from earful.tts.piper_engine import SpeakOptions, piper_voices, resolve_voice, speak
from earful.tts.reference import Reference
from earful.tts.result import Speech
from earful.tts.store import VoiceStore
from earful.tts.text import clean_text


def _voices_dir(settings: Settings) -> str | None:
    return str(settings.tts_voices_dir) if settings.tts_voices_dir else None


def speak_text(text: str, settings: Settings, voice: str | None = None,
               opts: SpeakOptions | None = None) -> Speech:
    """Speak with a Piper voice (name or alias; default ``settings.tts_voice``)."""
    text = clean_text(text, settings.max_text_chars)
    info = resolve_voice(voice or settings.tts_voice, settings.tts_voices_dir)
    model = registry.get("tts.piper", name=info.name, voices_dir=_voices_dir(settings))
    return speak(model, text, opts, name=info.name)


def offline_cloner(settings: Settings, base_voice: str) -> OfflineCloner:
    """The offline engine for a base Piper voice."""
    info = resolve_voice(base_voice, settings.tts_voices_dir)
    cloner: OfflineCloner = registry.get("tts.offline", voice=info.name,
                                         voices_dir=_voices_dir(settings))
    return cloner


def xtts_engine(settings: Settings) -> Any:
    """The XTTS-v2 engine, loaded on first use."""
    return registry.get("tts.xtts",
                        model_dir=str(settings.xtts_model_dir) if settings.xtts_model_dir
                        else None,
                        device=settings.xtts_device,
                        accept_license=settings.xtts_accept_license)


def clone(text: str, settings: Settings, opts: CloneOptions, *,
          reference: Reference | None = None, voice_id: str | None = None) -> Speech:
    """Speak ``text`` in the voice of a reference recording or of a saved voice.

    Exactly one of ``reference`` and ``voice_id`` must be given.
    """
    if (reference is None) == (voice_id is None):
        raise InvalidOptionError("give either a reference recording or a voice id")
    text = clean_text(text, settings.max_text_chars)
    store = VoiceStore(settings.voice_store)
    label = store.find(voice_id).id if voice_id is not None else "reference"

    def recording() -> Reference:
        # A saved voice's recording is decoded only when needed: the offline engine
        # usually has its stored profile.
        return reference if reference is not None else store.reference(label)

    if opts.engine == "xtts":
        return xtts_engine(settings).clone(text, recording(), opts.language, opts.speed,
                                           voice=label)
    cloner = offline_cloner(settings, opts.base_voice)
    profile = store.profile(label) if voice_id is not None else None
    if profile is None:
        profile = cloner.profile(recording())
        if voice_id is not None:
            store.save_profile(label, profile)
    return cloner.clone(text, profile, opts, voice=label)


def save_voice(name: str, reference: Reference, settings: Settings) -> dict[str, Any]:
    """Save a reference as a named voice; the offline engine's profile is stored with it."""
    cloner = offline_cloner(settings, settings.tts_voice)
    voice = VoiceStore(settings.voice_store).add(name, reference, cloner.profile(reference))
    return voice.to_dict()


def list_voices(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Piper voices and saved cloning voices."""
    return {"piper": [v.to_dict() for v in piper_voices(settings.tts_voices_dir).values()],
            "saved": [v.to_dict() for v in VoiceStore(settings.voice_store).list()]}


def similarity_to(reference: Reference, speech: Speech) -> float:
    """Speaker similarity of ``speech`` to a reference (Resemblyzer cosine)."""
    from earful.tts.similarity import speaker_similarity

    encoder = registry.get("speaker-encoder", device="cpu")
    return speaker_similarity(encoder, reference.samples, reference.sample_rate,
                              speech.samples, speech.sample_rate)
