"""Text checks and sentence splitting shared by every speech engine."""

from __future__ import annotations

import re
import unicodedata

from earful.errors import InvalidOptionError, PayloadTooLargeError

#: Longest text one request may synthesise (characters).
MAX_TEXT_CHARS = 5000

# A sentence ends at . ! ? (or their CJK forms) followed by space or the end; a closing
# quote or bracket stays with its sentence.
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


def split_sentences(text: str, limit: int = 250) -> list[str]:
    """Split text into sentences of at most ``limit`` characters.

    Sentences are cut at end punctuation; one longer than ``limit`` is cut at commas and
    semicolons, then at spaces, and a word longer than ``limit`` is cut hard. No text is
    lost: joining the pieces with spaces gives back the (whitespace-normalised) input.
    """
    if limit < 1:
        raise InvalidOptionError("limit must be at least 1")
    text = _SPACES.sub(" ", text).strip()
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if sentence:
            out.extend([sentence] if len(sentence) <= limit else _split_long(sentence, limit))
    return out
