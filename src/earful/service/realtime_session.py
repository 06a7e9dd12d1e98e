"""A realtime transcription session's configuration, parsed from either update shape.

OpenAI's beta protocol sends ``transcription_session.update`` with ``input_audio_format``,
``input_audio_transcription`` and ``turn_detection`` at the top of ``session``; the GA
protocol sends ``session.update`` with ``session.type == "transcription"`` and the same
settings under ``session.audio.input``. Both become one :class:`SessionConfig`; a session
answers in the shape it was spoken to.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from earful.asr.languages import language_code
from earful.asr.live import PCM_RATES, Encoding, TurnDetection
from earful.errors import InvalidOptionError

_GA_FORMATS: dict[str, Encoding] = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw",
                                    "audio/pcma": "g711_alaw"}
_BETA_FORMATS: tuple[Encoding, ...] = ("pcm16", "g711_ulaw", "g711_alaw")


class RealtimeError(InvalidOptionError):
    """A bad realtime message; ``code`` is the error event's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SessionConfig:
    """How a session's audio is read, turned into turns and transcribed."""

    beta: bool = False
    """The client speaks the beta shape (``transcription_session.*`` events)."""
    encoding: Encoding = "pcm16"
    """Input audio encoding."""
    rate: int = 24000
    """Input sample rate (G.711 is always 8000)."""
    model: str | None = None
    """ASR model by public name (``None``: the server's default; ``whisper-1`` and
    OpenAI's transcription model names mean the default too)."""
    language: str | None = None
    """Language code, or ``None`` to detect."""
    prompt: str | None = None
    """Initial prompt for every turn."""
    detection: TurnDetection | None = field(default_factory=TurnDetection)
    """Server VAD settings, or ``None`` when the client commits turns itself."""

    @property
    def updated_event(self) -> str:
        """The event type that answers an update."""
        return "transcription_session.updated" if self.beta else "session.updated"

    @property
    def created_event(self) -> str:
        """The event type sent when the session opens."""
        return "transcription_session.created" if self.beta else "session.created"

    def describe(self) -> dict[str, Any]:
        """The session object sent back to the client, in its shape."""
        detection = None if self.detection is None else {
            "type": "server_vad", "threshold": self.detection.threshold,
            "prefix_padding_ms": self.detection.prefix_padding_ms,
            "silence_duration_ms": self.detection.silence_duration_ms}
        transcription = {"model": self.model or "whisper-1", "language": self.language,
                         "prompt": self.prompt or ""}
        if self.beta:
            return {"object": "realtime.transcription_session",
                    "input_audio_format": self.encoding,
                    "input_audio_transcription": transcription, "turn_detection": detection}
        fmt: dict[str, Any] = {"type": {v: k for k, v in _GA_FORMATS.items()}[self.encoding]}
        if self.encoding == "pcm16":
            fmt["rate"] = self.rate
        return {"type": "transcription", "object": "realtime.transcription_session",
                "audio": {"input": {"format": fmt, "transcription": transcription,
                                    "turn_detection": detection}}}

    def asr(self, svc: Any) -> tuple[Any, Any]:
        """Decoding options and model spec for this session's turns (checked together)."""
        name = None if self.model in (None, "whisper-1") or (self.model or "").startswith(
            ("gpt-4o", "gpt-realtime")) else self.model
        opts, spec = svc.asr_request(name, self.language, False, self.prompt)
        return opts, spec


def _detection(value: Any, current: TurnDetection | None) -> TurnDetection | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RealtimeError("invalid_value", "turn_detection must be an object or null")
    if value.get("type", "server_vad") != "server_vad":
        raise RealtimeError("unsupported_turn_detection",
                            f"turn_detection type '{str(value.get('type'))[:40]}' is not "
                            "supported; use server_vad or null")
    base = current or TurnDetection()
    try:
        return TurnDetection(
            threshold=float(value.get("threshold", base.threshold)),
            prefix_padding_ms=int(value.get("prefix_padding_ms", base.prefix_padding_ms)),
            silence_duration_ms=int(value.get("silence_duration_ms",
                                              base.silence_duration_ms)))
    except (TypeError, ValueError) as e:
        raise RealtimeError("invalid_value", f"turn_detection: {e}") from e


def _format(value: Any, beta: bool) -> tuple[Encoding, int]:
    if beta:
        if value not in _BETA_FORMATS:
            raise RealtimeError("unsupported_format", f"input_audio_format must be one of "
                                                      f"{', '.join(_BETA_FORMATS)}")
        return value, 8000 if value != "pcm16" else 24000
    if not isinstance(value, dict) or value.get("type") not in _GA_FORMATS:
        raise RealtimeError("unsupported_format", "audio.input.format.type must be one of "
                                                  f"{', '.join(_GA_FORMATS)}")
    encoding = _GA_FORMATS[value["type"]]
    rate = int(value.get("rate", 24000)) if encoding == "pcm16" else 8000
    if encoding == "pcm16" and rate not in PCM_RATES:
        raise RealtimeError("unsupported_format", f"audio/pcm rate {rate} is not supported; "
                                                  f"use one of {PCM_RATES}")
    return encoding, rate


def parse_update(message: dict[str, Any], current: SessionConfig) -> SessionConfig:
    """The session after a ``transcription_session.update`` or ``session.update``.

    Raises:
        RealtimeError: An unsupported format, turn detection or session type, or a bad
            value; the session keeps its previous configuration.
    """
    beta = message["type"] == "transcription_session.update"
    session = message.get("session")
    if not isinstance(session, dict):
        raise RealtimeError("invalid_value", "'session' must be an object")
    if beta:
        settings = session
        fmt_key, tr_key = "input_audio_format", "input_audio_transcription"
    else:
        if session.get("type", "transcription") != "transcription":
            raise RealtimeError("unsupported_session", "this server runs transcription "
                                                       "sessions only (session.type "
                                                       "'transcription')")
        settings = (session.get("audio") or {}).get("input") or {}
        fmt_key, tr_key = "format", "transcription"
    changes: dict[str, Any] = {"beta": beta}
    if fmt_key in settings:
        changes["encoding"], changes["rate"] = _format(settings[fmt_key], beta)
    if "turn_detection" in settings:
        changes["detection"] = _detection(settings["turn_detection"], current.detection)
    transcription = settings.get(tr_key)
    if isinstance(transcription, dict):
        changes["model"] = transcription.get("model") or None
        changes["language"] = language_code(transcription.get("language"))
        prompt = transcription.get("prompt")
        changes["prompt"] = str(prompt)[:1000] if prompt else None
    return replace(current, **changes)
