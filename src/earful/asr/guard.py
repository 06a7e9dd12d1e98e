"""Defences against Whisper's hallucinations on silence, noise and very short clips.

Whisper's decoder is a language model: given no speech it still writes fluent text ("Thank
you.", "Bye."), and on a clip of half a second it often guesses. Three principled defences,
each measured in ``benchmarks/asr_hallucination.py``:

* VAD (Silero, inside faster-whisper) removes non-speech before decoding.
* Short clips are centred in a little silence (:func:`pad_short`) and decoded as a single
  segment without timestamp tokens, the regime Whisper handles best for isolated words, with
  the output capped at a generous speaking rate (:func:`token_cap`) so a runaway decoder
  (a prompt's pattern continued, a repetition loop) cannot write more than could be said.
* Segments the model itself flags as probably not speech (:func:`drop_hallucinations`) are
  removed: a high no-speech probability together with a low mean log-probability, or one of
  the stock phrases Whisper emits on silence when the no-speech probability is elevated.
"""

from __future__ import annotations

import re

import numpy as np

from earful.asr.result import Segment

#: What Whisper says on silence and noise (compared after lower-casing and removing
#: punctuation). Only dropped when the model also doubts there was speech.
STOCK_PHRASES = frozenset({
    "thank you", "thanks for watching", "thank you for watching", "bye", "you",
    "thank you very much", "please subscribe", "the end", "uh", "um", "hmm",
})

#: Dropped whatever the text when the model is this sure there was no speech ...
NO_SPEECH_STRONG = 0.6
#: ... and its mean token log-probability is this low (Whisper's own skip rule uses the
#: same pair of thresholds per 30 s window; this applies it per segment).
LOGPROB_WEAK = -0.7
#: Stock phrases are dropped from this no-speech probability upwards.
NO_SPEECH_STOCK = 0.3

#: Tokens a speaker can produce per second, generously: fast speech is about 6 words/s and a
#: word is 1-2 tokens with punctuation. Bounds runaway decoding on short clips.
MAX_TOKENS_PER_SECOND = 10.0
#: Never cap below this many tokens.
MIN_TOKEN_CAP = 8

_PUNCT = re.compile(r"[^\w\s']+")


def pad_short(audio: np.ndarray, sample_rate: int, min_seconds: float) -> tuple[np.ndarray, float]:
    """Centre audio shorter than ``min_seconds`` in silence.

    Returns:
        The (possibly) padded audio and the offset in seconds of the original start.
    """
    target = round(min_seconds * sample_rate)
    if len(audio) >= target:
        return audio, 0.0
    left = (target - len(audio)) // 2
    return np.pad(audio, (left, target - len(audio) - left)), left / sample_rate


def token_cap(duration: float) -> int:
    """Most tokens a clip of ``duration`` seconds can plausibly contain."""
    return max(MIN_TOKEN_CAP, round(duration * MAX_TOKENS_PER_SECOND))


def normalise_phrase(text: str) -> str:
    """Lower-case, strip punctuation and collapse spaces."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def is_hallucination(seg: Segment) -> bool:
    """Whether a segment is almost certainly invented rather than heard."""
    if not normalise_phrase(seg.text):
        return True
    if seg.no_speech_prob >= NO_SPEECH_STRONG and seg.avg_logprob <= LOGPROB_WEAK:
        return True
    return normalise_phrase(seg.text) in STOCK_PHRASES and seg.no_speech_prob >= NO_SPEECH_STOCK


def drop_hallucinations(segments: list[Segment]) -> list[Segment]:
    """Remove the segments :func:`is_hallucination` flags, renumbering the rest."""
    kept = [s for s in segments if not is_hallucination(s)]
    return [Segment(**{**s.__dict__, "id": i}) for i, s in enumerate(kept)]
