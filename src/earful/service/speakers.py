"""What the diarizing routes share: speaker counts from form fields, known speakers (data
URLs or saved voices), and diarization run in the inference pool."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

import numpy as np

from earful.errors import InvalidOptionError

if TYPE_CHECKING:
    from earful.asr.result import Transcript
    from earful.diarize.options import DiarizeOptions
    from earful.diarize.result import Diarization
    from earful.service.core import Checked, Service

#: At most this many known speakers per request, each reference at most this many bytes.
MAX_KNOWN = 8
MAX_REFERENCE_BYTES = 2_000_000
_DATA_URL = re.compile(r"^data:(audio|video)/[\w.+-]+(;[\w=.-]+)*;base64,(?P<data>.*)$",
                       re.DOTALL)
_VOICE_ID = re.compile(r"^[0-9a-f]{12}$")


def diarize_options(num_speakers: int | None, min_speakers: int | None,
                    max_speakers: int | None) -> DiarizeOptions:
    """Options from a request's count fields (checked before the upload is read)."""
    from earful.diarize.options import DiarizeOptions, speaker_counts

    return DiarizeOptions(**speaker_counts(num_speakers, min_speakers, max_speakers))


def _decode_reference(ref: str) -> np.ndarray:
    from earful.audio.io import load_audio

    m = _DATA_URL.match(ref.strip())
    if m is None:
        raise InvalidOptionError("a known_speaker_references[] entry must be a base64 audio "
                                 "data URL (data:audio/wav;base64,...) or a saved voice id")
    try:
        raw = base64.b64decode(m.group("data"), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidOptionError("a known speaker reference is not valid base64") from e
    if len(raw) > MAX_REFERENCE_BYTES:
        raise InvalidOptionError(f"a known speaker reference is over "
                                 f"{MAX_REFERENCE_BYTES // 1_000_000} MB")
    return load_audio(raw, 16000, name="known speaker reference")


def known_speakers(svc: Service, names: list[str] | None,
                   references: list[str] | None) -> list[tuple[str, str]]:
    """Check ``known_speaker_names[]`` against ``known_speaker_references[]`` (a data URL
    each, or the id or name of a voice saved with ``POST /voices``) without decoding
    anything yet; returns ``(name, reference)`` pairs, saved voices as their id."""
    names, references = names or [], references or []
    if len(names) != len(references):
        raise InvalidOptionError("known_speaker_names[] and known_speaker_references[] must "
                                 "have the same length")
    if len(names) > MAX_KNOWN:
        raise InvalidOptionError(f"at most {MAX_KNOWN} known speakers")
    pairs = []
    for name, ref in zip(names, references, strict=True):
        name = name.strip()
        if not name or len(name) > 64:
            raise InvalidOptionError("a known speaker name is 1 to 64 characters")
        if not ref.startswith("data:"):
            from earful.tts.store import VoiceStore

            ref = VoiceStore(svc.tts.voice_store).find(ref).id  # NotFoundError if unknown
        pairs.append((name, ref))
    return pairs


def _embeddings(svc: Service, pairs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    from earful.audio.transforms import resample
    from earful.diarize.known import voice_embedding
    from earful.tts.store import VoiceStore

    out = {}
    for name, ref in pairs:
        if _VOICE_ID.match(ref):
            saved = VoiceStore(svc.tts.voice_store).reference(ref)
            audio = resample(saved.samples, saved.sample_rate, 16000)
        else:
            audio = _decode_reference(ref)
        out[name] = voice_embedding(audio)
    return out


def _diarize(svc: Service, checked: Checked, opts: DiarizeOptions,
             known: list[tuple[str, str]]) -> Diarization:
    from earful.diarize.known import name_speakers
    from earful.diarize.pipeline import diarize_file

    result = diarize_file(checked.path, opts)
    return name_speakers(result, _embeddings(svc, known)) if known else result


async def diarize(svc: Service, checked: Checked, opts: DiarizeOptions,
                  known: list[tuple[str, str]] | None = None) -> Diarization:
    """Diarize an upload in the pool, naming known speakers."""
    result: Diarization = await svc.pool.run(_diarize, svc, checked, opts, known or [],
                                             timeout=svc.timeout_for(checked.duration))
    return result


async def with_speakers(svc: Service, checked: Checked, transcript: Transcript,
                        opts: DiarizeOptions, known: list[tuple[str, str]] | None = None,
                        keep_words: bool = True) -> Transcript:
    """``transcript`` with speakers from a diarization of the same upload (words dropped
    afterwards unless ``keep_words``: they were only asked for to split segments)."""
    from dataclasses import replace

    from earful.diarize.attribute import attribute_speakers

    out = attribute_speakers(transcript, await diarize(svc, checked, opts, known))
    if not keep_words:
        out = replace(out, segments=[replace(s, words=None) for s in out.segments])
    return out
