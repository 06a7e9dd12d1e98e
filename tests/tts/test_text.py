from __future__ import annotations

import pytest

from earful.errors import InvalidOptionError, PayloadTooLargeError
from earful.tts.text import clean_text, split_sentences


def test_clean_text_normalises_and_refuses_empty_or_long() -> None:
    assert clean_text("  Hello\n\tworld \x00 ") == "Hello world"
    with pytest.raises(InvalidOptionError, match="empty"):
        clean_text(" \n\x07 ")
    with pytest.raises(PayloadTooLargeError, match="3001 characters"):
        clean_text("a" * 3001, max_chars=3000)


def test_split_sentences_cuts_at_punctuation_and_loses_nothing() -> None:
    text = 'First one. "Second, quoted!" Third? Fourth'
    parts = split_sentences(text)
    assert parts == ["First one.", '"Second, quoted!"', "Third?", "Fourth"]
    assert " ".join(parts) == text


def test_split_sentences_respects_the_limit() -> None:
    long = "alpha beta, gamma delta; " * 20 + "x" * 70
    parts = split_sentences(long, limit=60)
    assert all(len(p) <= 60 for p in parts)
    assert "".join(" ".join(parts).split()) == "".join(long.split())
    with pytest.raises(InvalidOptionError):
        split_sentences("x", limit=0)
