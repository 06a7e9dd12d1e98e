from __future__ import annotations

import pytest

from earful.errors import InvalidOptionError, PayloadTooLargeError
from earful.tts.normalise import normalise_for_speech
from earful.tts.text import clean_text, speakable_sentences, split_sentences


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


def test_abbreviations_do_not_end_a_sentence() -> None:
    text = "Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3. They talked, e.g. about U.S. law."
    assert split_sentences(text) == ["Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3.",
                                     "They talked, e.g. about U.S. law."]
    assert split_sentences("Pi is 3.14 today. The vote was 10:30 p.m. sharp!") == [
        "Pi is 3.14 today.", "The vote was 10:30 p.m. sharp!"]
    assert split_sentences("今日は晴れです。明日は雨！") == ["今日は晴れです。", "明日は雨！"]
    assert split_sentences("  ") == []


def test_the_example_is_one_sentence_read_as_words() -> None:
    assert speakable_sentences("Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3.") == [
        "Doctor Smith met Mister Jones at five p m on January third."]


@pytest.mark.parametrize(("written", "spoken"), [
    ("$3.50", "three dollars and fifty cents"),
    ("$1", "one dollar"),
    ("$0.05", "five cents"),
    ("$1,234", "one thousand two hundred thirty-four dollars"),
    ("$2.5 million", "two point five million dollars"),
    ("£20", "twenty pounds"),
    ("1,234", "one thousand two hundred thirty-four"),
    ("1999", "nineteen ninety-nine"),
    ("2005", "two thousand five"),
    ("the 1990s", "the nineteen nineties"),
    ("10:30", "ten thirty"),
    ("10:05", "ten oh five"),
    ("9:00", "nine o'clock"),
    ("7:15 PM", "seven fifteen p m"),
    ("at 5pm", "at five p m"),
    ("Jan. 3", "January third"),
    ("March 21st, 2024", "March twenty-first, twenty twenty-four"),
    ("on 4 July", "on the fourth of July"),
    ("the 3rd of May", "the third of May"),
    ("16th", "sixteenth"),
    ("50%", "fifty percent"),
    ("3.14", "three point one four"),
    ("-5 degrees", "minus five degrees"),
    ("pages 10-20", "pages ten-twenty"),
    ("No. 7", "number seven"),
    ("Mrs. Brown vs. Mr. Green", "Missus Brown versus Mister Green"),
    ("Prof. Ito", "Professor Ito"),
])
def test_spoken_forms(written: str, spoken: str) -> None:
    assert normalise_for_speech(written) == spoken


def test_spoken_forms_leave_alone_what_they_do_not_know() -> None:
    for text in ("He said no.", "I may go.", "Version 1.2.3 of MP3.", "Elm Dr. is near.",
                 "Call me at five."):
        assert normalise_for_speech(text) == text
    assert normalise_for_speech("We met at 5 p.m.") == "We met at five p m."
    assert normalise_for_speech("Es kostet 5 Euro.", language="de") == "Es kostet 5 Euro."


def test_spoken_sentences_stay_within_the_limit() -> None:
    parts = speakable_sentences("It cost $1,234,567.89 in 1999. " * 3, limit=60)
    assert all(len(p) <= 60 for p in parts)
    assert "one million two hundred thirty-four thousand" in " ".join(parts)
