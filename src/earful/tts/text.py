"""Text checks, sentence splitting and spoken forms shared by every speech engine.

Sentences are found by pysbd (rule-based, abbreviation-aware: "Dr. Smith met Mr. Jones at
5 p.m." is one sentence), because every break becomes a pause in the audio. Numbers, money,
times, dates and abbreviations are rewritten as words by :mod:`earful.tts.normalise`.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from earful.errors import DependencyMissingError, InvalidOptionError, PayloadTooLargeError
from earful.tts.normalise import normalise_for_speech

logger = logging.getLogger(__name__)

#: Longest text one request may synthesise (characters).
MAX_TEXT_CHARS = 5000

# The fallback when pysbd's pieces do not add up to the text: a sentence ends at . ! ? (or
# their CJK forms) followed by space or the end; a closing quote or bracket stays with it.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?。！？])|(?<=[.!?。！？][\"'”’)\]]))\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:，、；：])\s+")
_SPACES = re.compile(r"\s+")


def clean_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Normalise whitespace and Unicode form, and refuse empty or oversized text.

    Raises:
        InvalidOptionError: The text is empty (or only whitespace and control characters).
        PayloadTooLargeError: The text is longer than ``max_chars``.
    """
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise InvalidOptionError("text is empty")
    if len(text) > max_chars:
        raise PayloadTooLargeError(f"text is {len(text)} characters; the limit is {max_chars}")
    return text


def _split_long(sentence: str, limit: int) -> list[str]:
    """Cut a sentence longer than ``limit`` at clause marks, then at spaces, then hard."""
    pieces: list[str] = []
    for clause in _CLAUSE_END.split(sentence):
        while len(clause) > limit:
            cut = clause.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(clause[:cut].strip())
            clause = clause[cut:].strip()
        if clause:
            pieces.append(clause)
    # Re-join small neighbours so clauses are not spoken as fragments.
    merged: list[str] = []
    for piece in pieces:
        if merged and len(merged[-1]) + 1 + len(piece) <= limit:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def _sentences(text: str) -> list[str]:
    """pysbd's sentences of whitespace-normalised ``text``, or the regex's if they lose or
    add a character (pysbd has had such bugs; no text may be dropped)."""
    try:
        import pysbd
    except ImportError as e:
        raise DependencyMissingError("pysbd", "tts", "sentence splitting") from e
    # English rules: they also end sentences at CJK full stops, and know English
    # abbreviations, which is what the engines here speak.
    found = [s.strip() for s in pysbd.Segmenter(language="en", clean=False).segment(text)]
    if "".join(found).replace(" ", "") == text.replace(" ", ""):
        return found
    logger.debug("pysbd changed the text; splitting at end punctuation instead")
    return _SENTENCE_END.split(text)


def split_sentences(text: str, limit: int = 250) -> list[str]:
    """Split text into sentences of at most ``limit`` characters.

    Sentences are found by pysbd, so abbreviations, initials, decimals and times do not end
    one; one longer than ``limit`` is cut at commas and semicolons, then at spaces, and a
    word longer than ``limit`` is cut hard. No text is lost: joining the pieces with spaces
    gives back the (whitespace-normalised) input.
    """
    if limit < 1:
        raise InvalidOptionError("limit must be at least 1")
    text = _SPACES.sub(" ", text).strip()
    out: list[str] = []
    if not text:
        return out
    for sentence in _sentences(text):
        sentence = sentence.strip()
        if sentence:
            out.extend([sentence] if len(sentence) <= limit else _split_long(sentence, limit))
    return out


def speakable_sentences(text: str, language: str = "en", limit: int = 250) -> list[str]:
    """The sentences of ``text`` as an engine should read them: split first (pysbd needs the
    abbreviations and digits to find the ends), then each one in spoken form.

    Args:
        text: Cleaned text (:func:`clean_text`).
        language: The text's language; only English is rewritten.
        limit: Longest piece, in characters; a sentence that spoken forms lengthen past it
            is cut again.
    """
    out: list[str] = []
    for sentence in split_sentences(text, limit):
        said = normalise_for_speech(sentence, language)
        out.extend([said] if len(said) <= limit else _split_long(said, limit))
    return [s for s in out if s]
