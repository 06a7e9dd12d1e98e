"""Render transcripts as txt, json, srt, vtt, tsv or OpenAI's verbose_json, and write them
atomically."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from earful.asr.languages import language_name
from earful.asr.result import Segment, Transcript
from earful.errors import InvalidOptionError
from earful.fsutil import atomic_write


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _prefix(s: Segment) -> str:
    """``[SPEAKER_1] `` before a diarized segment's text, nothing otherwise."""
    return f"[{s.speaker}] " if s.speaker else ""


def _voice(s: Segment) -> str:
    """A WebVTT voice tag (``<v Speaker 1>``) before a diarized segment's text."""
    if not s.speaker:
        return ""
    m = re.fullmatch(r"SPEAKER_(\d+)", s.speaker)
    name = f"Speaker {m.group(1)}" if m else s.speaker
    return f"<v {name.replace('>', '')}>"


def to_txt(t: Transcript) -> str:
    """Plain text, one segment per line (``[SPEAKER_1] `` first when diarized)."""
    return "".join(f"{_prefix(s)}{s.text}\n" for s in t.segments) if t.segments else ""


def to_json(t: Transcript) -> str:
    """The full result as JSON."""
    return json.dumps(t.to_dict(), ensure_ascii=False, indent=2) + "\n"


def to_srt(t: Transcript) -> str:
    """SubRip subtitles (``[SPEAKER_1] `` before the text when diarized)."""
    return "".join(
        f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{_prefix(s)}{s.text}"
        "\n\n"
        for i, s in enumerate(t.segments, start=1))


def to_vtt(t: Transcript) -> str:
    """WebVTT subtitles (voice tags, ``<v Speaker 1>``, when diarized)."""
    return "WEBVTT\n\n" + "".join(
        f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n{_voice(s)}{s.text}\n\n"
        for s in t.segments)


def to_tsv(t: Transcript) -> str:
    """Tab-separated start, end (integer milliseconds, as openai-whisper writes) and text;
    a ``speaker`` column before the text when diarized."""
    if any(s.speaker for s in t.segments):
        rows = ["start\tend\tspeaker\ttext"] + [
            f"{round(s.start * 1000)}\t{round(s.end * 1000)}\t{s.speaker or ''}\t"
            f"{s.text.replace(chr(9), ' ')}" for s in t.segments]
    else:
        rows = ["start\tend\ttext"] + [
            f"{round(s.start * 1000)}\t{round(s.end * 1000)}\t{s.text.replace(chr(9), ' ')}"
            for s in t.segments]
    return "\n".join(rows) + "\n"


def to_verbose_json(t: Transcript, words: bool = False,
                    task: str = "transcribe") -> dict[str, Any]:
    """OpenAI's ``verbose_json`` transcription body (language named in words, segments
    with OpenAI's fields; ``words`` adds the flat word list)."""
    body: dict[str, Any] = {
        "task": task, "language": language_name(t.language), "duration": t.duration,
        "text": t.text,
        "segments": [{"id": s.id, "seek": 0, "start": s.start, "end": s.end, "text": s.text,
                      "tokens": [], "temperature": 0.0, "avg_logprob": s.avg_logprob,
                      "compression_ratio": s.compression_ratio,
                      "no_speech_prob": s.no_speech_prob} for s in t.segments],
    }
    if words:
        body["words"] = [{"word": w.word.strip(), "start": w.start, "end": w.end}
                         for s in t.segments for w in s.words or []]
    return body


def _letter(speaker: str | None) -> str | None:
    """OpenAI's speaker labels: ``SPEAKER_1`` -> ``A``, ``SPEAKER_2`` -> ``B``...; names
    (known speakers) are kept."""
    m = re.fullmatch(r"SPEAKER_(\d+)", speaker or "")
    if m and 1 <= int(m.group(1)) <= 26:
        return chr(ord("A") + int(m.group(1)) - 1)
    return speaker


def to_diarized_json(t: Transcript) -> dict[str, Any]:
    """OpenAI's ``diarized_json`` transcription body: segments with ``speaker`` (``A``,
    ``B``... or a known speaker's name), ``start``, ``end`` and ``text``."""
    return {
        "task": "transcribe", "duration": t.duration, "text": t.text,
        "segments": [{"type": "transcript.text.segment", "id": f"seg_{s.id:03d}",
                      "start": s.start, "end": s.end, "text": s.text.strip(),
                      "speaker": _letter(s.speaker)} for s in t.segments],
    }


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "txt": to_txt, "json": to_json, "srt": to_srt, "vtt": to_vtt, "tsv": to_tsv,
}
#: The ``response_format`` values of OpenAI's transcription routes.
OPENAI_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


def render(t: Transcript, fmt: str) -> str:
    """Render ``t`` in format ``fmt`` (one of :data:`WRITERS`)."""
    try:
        return WRITERS[fmt](t)
    except KeyError as e:
        raise InvalidOptionError(f"unknown format {fmt!r}; choose from {', '.join(WRITERS)}",
                                 ) from e


def write_transcript(t: Transcript, path: str | os.PathLike[str], fmt: str) -> Path:
    """Write ``t`` to ``path`` via a temporary file, so no half file is ever visible."""
    dest = Path(path)
    with atomic_write(dest) as fh:
        fh.write(render(t, fmt))
    return dest
