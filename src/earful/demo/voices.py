"""The demo's voices: every voice in the Speak tab's one list, and saving a reference as a
voice from the Clone tab with the enrolment's progress on the page.

The Speak list holds Piper voices, Kokoro's bundled voices and saved voices. Each choice's
value says which engine speaks it (``piper:NAME``, ``kokoro:NAME``, ``saved:ID``), so the
request picks the right route: ``/synthesize`` with ``engine`` and ``voice`` for Piper and
Kokoro, OpenAI's ``/v1/audio/speech`` with ``tts-1-hd`` for a saved voice (cloned with
Kokoro). A typed value (a Kokoro mix such as ``jf_alpha:0.6,jm_kumo:0.4``, a saved voice's
name) goes to ``/v1/audio/speech`` too, which finds its engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from earful.demo.client import ApiError, AudioReply, EarfulClient

logger = logging.getLogger(__name__)

#: The engines a Speak choice names (saved voices are cloned with Kokoro).
SPEAK_ENGINES = ("piper", "kokoro", "saved")
#: Names of the languages Kokoro's voice prefixes stand for.
LANGUAGE_NAMES = {"ja": "Japanese", "en-us": "American English", "en-gb": "British English",
                  "zh": "Mandarin", "es": "Spanish", "fr": "French", "hi": "Hindi",
                  "it": "Italian", "pt-br": "Brazilian Portuguese"}

Choices = list[tuple[str, str]]


def speak_choices(voices: dict[str, Any]) -> Choices:
    """``(label, value)`` pairs for the Speak tab's voice list, from ``GET /voices``:
    Piper voices, then Kokoro voices (their speaker's language and gender in the label),
    then saved voices."""
    out: Choices = []
    for v in voices.get("piper", []):
        detail = ", ".join(str(v[k]) for k in ("language", "quality") if v.get(k))
        out.append((f"Piper · {v['name']}" + (f" ({detail})" if detail else ""),
                    f"piper:{v['name']}"))
    for v in voices.get("kokoro", []):
        language = LANGUAGE_NAMES.get(v.get("language", ""), v.get("language", "?"))
        out.append((f"Kokoro · {v['name']} ({language}, {v.get('gender', '?')})",
                    f"kokoro:{v['name']}"))
    for v in voices.get("saved", []):
        out.append((f"Saved · {v['name']} (cloned with Kokoro)", f"saved:{v['id']}"))
    return out


def saved_choices(voices: dict[str, Any]) -> Choices:
    """``(label, value)`` pairs for the Clone tab's saved voices: name and id, by id."""
    return [(f"{v['name']} · {v['id']}", v["id"]) for v in voices.get("saved", [])]


def parse_choice(value: str) -> tuple[str | None, str]:
    """``(engine, voice)`` of a Speak choice; engine ``None`` for a typed voice."""
    engine, sep, voice = value.strip().partition(":")
    if sep and engine in SPEAK_ENGINES and voice:
        return engine, voice
    return None, value.strip()


def speak(client: EarfulClient, text: str, choice: str | None, speed: float) -> AudioReply:
    """Speak ``text`` with the voice a Speak choice names, through the route it needs.

    Args:
        client: The API.
        text: What to say.
        choice: A value of :func:`speak_choices`, a typed voice, or empty (the default
            Piper voice).
        speed: Speaking rate.
    """
    engine, voice = parse_choice(choice or "")
    if not voice or engine in ("piper", "kokoro"):
        return client.synthesize(text, voice or None, speed, engine=engine or "piper")
    # A saved voice (cloned with Kokoro under tts-1-hd), or a typed name the route resolves.
    return client.speech(text, voice, model="tts-1-hd", speed=speed)


@dataclass(frozen=True)
class SaveStatus:
    """A step of saving a voice, as the page shows it."""

    text: str
    """The status line."""
    fraction: float | None = None
    """How far the enrolment is (0 to 1), when known."""
    voice: dict[str, Any] | None = None
    """The saved voice, on the last step."""


def save_steps(client: EarfulClient, name: str, reference: str | Path) -> Iterator[SaveStatus]:
    """Save ``reference`` as a voice named ``name`` through ``POST /voices`` with
    ``stream=true``, one status per event.

    Raises:
        ApiError: The API refused the voice or saving failed.
    """
    yield SaveStatus(f"Saving '{name}': measuring the reference and looking it up in the "
                     "voice bank…", 0.0)
    for event in client.add_voice_stream(name, reference):
        if event.get("type") == "voice.enrol.progress":
            done, planned = int(event["done"]), max(1, int(event["planned"]))
            yield SaveStatus(f"Saving '{name}': seeking its Kokoro style, {done} of {planned} "
                             "candidate styles tried", done / planned)
        elif event.get("type") == "voice.created":
            voice = event["voice"]
            yield SaveStatus(f"Saved '{voice['name']}' as voice {voice['id']}: pick it in "
                             "the Speak tab or below.", 1.0, voice)


def save_updates(client: EarfulClient, gr: Any, name: str, reference: str | None,
                 progress: Callable[..., Any] | None = None) -> Iterator[tuple[Any, Any, Any]]:
    """The Clone tab's "Save as voice" handler: ``(status, Speak voice list, saved voice
    list)`` updates as the enrolment goes, the lists refreshed with the new voice at the end.

    Args:
        client: The API.
        gr: The gradio module.
        name: The new voice's name.
        reference: The uploaded or recorded reference (a file path).
        progress: A ``gr.Progress`` (called with a fraction and a description).

    Raises:
        gr.Error: Nothing to save, or the API refused the voice or failed to save it.
    """
    if not reference:
        raise gr.Error("upload or record a reference first")
    if not (name or "").strip():
        raise gr.Error("give the voice a name")
    try:
        for step in save_steps(client, name.strip(), reference):
            if progress is not None and step.fraction is not None:
                progress(step.fraction, desc=step.text)
            if step.voice is None:
                yield step.text, gr.update(), gr.update()
                continue
            voices = client.voices()
            yield (step.text, gr.update(choices=speak_choices(voices)),
                   gr.update(choices=saved_choices(voices), value=step.voice["id"]))
    except (ApiError, httpx.HTTPError, OSError) as e:
        logger.info("saving voice '%s' failed: %s", name, e)
        yield f"Not saved: {e}", gr.update(), gr.update()
        raise gr.Error(str(e)) from e
