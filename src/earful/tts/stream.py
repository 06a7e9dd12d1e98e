"""Speech made to be sent as it is synthesised: the pieces a text is spoken in, and a
generator that speaks them one at a time with the pauses the whole text would have had.

A player starts on the first piece as soon as it is ready, so the first piece is kept short
(about 1.5 s of speech, which Kokoro makes in about 1 s on 2 idle cores). The first sentence
is cut at a clause mark (comma, semicolon, colon, dash) near its start or, failing that, at
a phrase boundary: before a word such as "with", "which" or "and", before a verb after its
subject, or before a determiner. Never inside a word, beside a number or after an
abbreviation (the pieces are put in spoken form one by one, and "$3 | million" or
"Dr. | Smith" would be read wrongly), never leaving a tail of a word or two. While the stream
is starting, a piece is at most about twice as long as what was sent before it, so it is
made while that plays (Kokoro runs at about 2x real time on 2 cores); a longer one is cut at
its clause marks only, where the voice pauses anyway. After that, pieces are whole
sentences. Text that is not streamed is not cut this way.

The joins get the silence the whole text would have: ``sentence_silence`` after a sentence
(what the engines put between sentences), and after a clause or phrase the quiet at the end
of the piece is topped up to what the engine leaves at a comma, or a breath between words
(Kokoro trims its output to the sound, so without this a cut at a comma would run the words
together).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from earful.errors import InvalidOptionError
from earful.tts.result import Speech
from earful.tts.text import split_sentences

#: The break that follows a piece: the end of a sentence, a clause mark, or a phrase
#: boundary with no mark.
Break = Literal["sentence", "clause", "phrase"]

#: Seconds of silence between sentences (the engines' own default).
SENTENCE_SILENCE = 0.2
#: Seconds of quiet where a sentence is cut at a clause mark: what Kokoro and Piper leave at
#: a comma inside a sentence (0.25 to 0.45 s; medians 0.32 and 0.40 s on read sentences).
CLAUSE_PAUSE = 0.32
#: Seconds of quiet where a sentence is cut between words: about what the engines leave
#: there (Kokoro 0.09 s, Piper 0.04 s, medians on read sentences).
PHRASE_PAUSE = 0.06
#: Seconds of the quiet a piece starts with that are kept after a cut inside a sentence.
LEAD_IN = 0.02

_CLOSERS = "\"'”’»)]}"
_CLAUSE_MARKS = (",", ";", ":", "，", "、", "；", "：", "—", "–", "--")
_DASHES = ("-", "–", "—", "--")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]}]*$")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words a phrase does not end on: articles, prepositions, conjunctions, auxiliaries,
# determiners, subject pronouns and titles.
_NO_END = _word_set("""
a an the and or but nor of to in on at by for with from into onto about over under as than
that which who whose whom if when while because so my your his her its our their this these
those is are was were be been being am has have had do does did will would shall should can
could may might must not no very i we you he she they it there what some any every each all
both such more most much many upon through after before since until against between among
without within across along around behind beyond toward towards per via mr mrs ms dr st
""")
# Words a phrase often starts with: cutting just before one sounds like a reader's breath.
_STARTS = _word_set("""
and but or nor so yet because although though while when where which who whom whose that
if unless until since after before as with without in on at from into for to by about over
under through during against between among than like along across around behind beyond
toward towards upon within beneath beside near past onto despite except
""")
# Verbs that follow their subject ("The head of the prison | was a prisoner") and words a
# noun phrase starts with ("made | the meat"): a cut before one is a phrase boundary too.
_PHRASE_STARTS = _STARTS | _word_set("""
is are was were has have had will would can could shall should must might does did
the a an this these those his her their its our my your some every each no any
""")


@dataclass(frozen=True)
class Piece:
    """One piece of a streamed text."""

    text: str
    """What is said (a sentence or part of one, as written)."""
    end: Break
    """The break after it: ``sentence``, ``clause`` (a comma, semicolon, colon or dash) or
    ``phrase`` (between words)."""


@dataclass(frozen=True)
class ChunkOptions:
    """How a streamed text is cut. Lengths are in characters, which follow the length of
    the speech (and so its synthesis time) more closely than words: Kokoro says about 18 a
    second, and on 2 idle cores takes 0.3 s plus half to two thirds of the speech's length
    to make it (24 characters: 0.8 to 1 s)."""

    first_chars: int = 24
    """Longest first piece cut between words."""
    first_clause_chars: int = 28
    """Longest first piece cut at a clause mark (a little longer: a cut there costs nothing
    in prosody, where one between words does)."""
    min_words: int = 1
    """Fewest words in a piece cut at a clause mark ("Printing," is a natural first piece:
    the voice pauses after it anyway)."""
    min_phrase_chars: int = 12
    """Shortest piece cut between words ("We walked | along..." would be two words and a
    wait for the rest)."""
    min_tail: int = 3
    """Fewest words left after a cut."""
    ramp: float = 2.0
    """While starting, a piece may be this many times as long as all that was sent before
    it (so it is made while that plays: Kokoro runs at about 2x real time), and at least
    as long as a first piece."""
    ramp_chars: int = 150
    """Characters sent after which pieces are whole sentences."""

    def __post_init__(self) -> None:
        if min(self.first_chars, self.first_clause_chars, self.min_words,
               self.min_phrase_chars, self.min_tail) < 1:
            raise InvalidOptionError("chunk lengths must be at least 1")
        if self.ramp <= 0:
            raise InvalidOptionError("ramp must be above 0")


def _stripped(word: str) -> str:
    return word.rstrip(_CLOSERS)


def _numeric(word: str) -> bool:
    return any(c.isdigit() or c in "$£€¥%#" for c in word)


def _clause_end(word: str) -> bool:
    """Whether ``word`` ends a clause (a comma, semicolon, colon or dash after it)."""
    return word in _DASHES or _stripped(word).endswith(_CLAUSE_MARKS)


def _clause_cut_ok(words: Sequence[str], i: int) -> bool:
    """Whether a clause cut may go after ``words[:i]``: "Jan. 3, | 1999" may not."""
    return _clause_end(words[i - 1]) and not (_numeric(words[i - 1]) and _numeric(words[i]))


def _bare(word: str) -> str:
    return word.strip(_CLOSERS + "\"'“‘«([{").lower()


def _phrase_cut_ok(words: Sequence[str], i: int) -> bool:
    """Whether a cut may go between ``words[i - 1]`` and ``words[i]`` with no mark there:
    away from numbers (spoken forms span words: "$3 million", "5 p.m.", "the 5th of May"),
    not after an abbreviation, an initial, a hyphen or a word a phrase does not end on."""
    last, following = words[i - 1], words[i]
    if _numeric(last) or _numeric(following):  # "the 5th of | May": "of" ends no phrase
        return False
    # Not after an abbreviation or an initial, a hyphen, an opening bracket or quote, or a
    # possessive ("the debtors' | prison", "Caslon's | founts").
    if last.endswith((".", "-", "(", "[", "\"", "“", "‘", "'", "’", "'s", "’s")) \
            or following[:1] in _CLOSERS:
        return False
    return _bare(last) not in _NO_END and any(c.isalpha() for c in last)


def _ends(words: Sequence[str]) -> list[int]:
    """``ends[i]``: the length of ``" ".join(words[:i])``."""
    out = [0]
    for w in words:
        out.append(out[-1] + len(w) + (1 if len(out) > 1 else 0))
    return out


def _cut(words: Sequence[str], budget: int, opts: ChunkOptions,
         first: bool) -> tuple[int, Break] | None:
    """Where to cut ``words`` for a piece of about ``budget`` characters, if they are longer
    by more than the clause allowance (``first_clause_chars - first_chars``): after the last
    clause mark within the budget plus that allowance; after the first piece, at a clause
    mark within twice the budget; else at the last phrase boundary within it (before a word
    that starts a phrase, a verb after its subject, a determiner); else, for the first piece
    of a long sentence, between any two words within it; else at the first clause mark or
    phrase boundary after it."""
    ends = _ends(words)
    allowance = max(0, opts.first_clause_chars - opts.first_chars)
    if ends[-1] <= budget + allowance:
        return None
    room = range(1, len(words) - opts.min_tail + 1)
    clauses = [i for i in room if i >= opts.min_words and _clause_cut_ok(words, i)]
    within = [i for i in clauses if ends[i] <= budget + allowance]
    if within:
        return within[-1], "clause"
    if not first and any(ends[i] <= 2 * budget for i in clauses):
        # A clause mark a little further on beats a cut between words: after the first
        # piece, a late piece costs a short wait where a phrase cut costs prosody.
        return clauses[0], "clause"
    phrases = [i for i in room if ends[i] >= opts.min_phrase_chars and _phrase_cut_ok(words, i)]
    good = [i for i in phrases if _bare(words[i]) in _PHRASE_STARTS]
    if any(ends[i] <= budget for i in good):
        return [i for i in good if ends[i] <= budget][-1], "phrase"
    anywhere = [i for i in phrases if ends[i] <= budget]
    if first and anywhere and ends[-1] >= 2 * budget:
        return anywhere[-1], "phrase"
    later = sorted(set(clauses) | set(good))
    if not later:
        return None
    return later[0], "clause" if later[0] in clauses else "phrase"


def _end_of(text: str) -> Break:
    if _SENTENCE_END.search(text):
        return "sentence"
    return "clause" if _clause_end(text.split(" ")[-1]) else "phrase"


def stream_pieces(text: str, opts: ChunkOptions | None = None,
                  limit: int = 250) -> list[Piece]:
    """The pieces a text is streamed in: a short first piece, then pieces that grow to whole
    sentences (see the module's description).

    Args:
        text: Cleaned text (:func:`earful.tts.text.clean_text`).
        opts: Where cuts may go.
        limit: Longest sentence, in characters (:func:`earful.tts.text.split_sentences`).

    Returns:
        The pieces, in order; joined with spaces they give back the (whitespace-normalised)
        text.
    """
    opts = opts or ChunkOptions()
    out: list[Piece] = []
    sent = 0  # characters
    for sentence in split_sentences(text, limit):
        words = sentence.split(" ")
        while not out or sent < opts.ramp_chars:
            # The first piece, then pieces growing with what was sent, while starting.
            cut = _cut(words, max(opts.first_chars, int(opts.ramp * sent)), opts,
                       first=not out)
            if cut is None:
                break
            piece = " ".join(words[:cut[0]])
            out.append(Piece(piece, cut[1]))
            sent += len(piece) + 1
            words = words[cut[0]:]
        rest = " ".join(words)
        out.append(Piece(rest, _end_of(rest)))
        sent += len(rest) + 1
    return out


def _quiet(samples: np.ndarray, rate: int, floor_db: float,
           frame: float) -> tuple[np.ndarray, int]:
    """Which frames of ``samples`` are ``floor_db`` or more below the loudest, and the frame
    size in samples."""
    size = max(1, int(frame * rate))
    usable = len(samples) // size * size
    loud = np.sqrt((samples[:usable].astype(np.float64).reshape(-1, size) ** 2).mean(1))
    return loud <= (loud.max() if loud.size else 0.0) * 10 ** (floor_db / 20), size


def trailing_quiet(samples: np.ndarray, rate: int, floor_db: float = -40.0,
                   frame: float = 0.01) -> float:
    """Seconds of quiet at the end of ``samples``: frames whose loudness is ``floor_db``
    or more below the loudest frame's (kokoro-onnx's own measure of a pause)."""
    quiet, size = _quiet(samples, rate, floor_db, frame)
    loud = np.flatnonzero(~quiet)
    count = len(quiet) - int(loud[-1]) - 1 if loud.size else len(quiet)
    return (count * size + len(samples) - len(quiet) * size) / rate


def leading_quiet(samples: np.ndarray, rate: int, floor_db: float = -40.0,
                  frame: float = 0.01) -> float:
    """Seconds of quiet at the start of ``samples`` (see :func:`trailing_quiet`)."""
    quiet, size = _quiet(samples, rate, floor_db, frame)
    loud = np.flatnonzero(~quiet)
    return (int(loud[0]) * size if loud.size else len(samples)) / rate


def _pause(end: Break, sentence_silence: float) -> float:
    return {"sentence": sentence_silence, "clause": CLAUSE_PAUSE, "phrase": PHRASE_PAUSE}[end]


def speak_pieces(pieces: Sequence[Piece], speak: Callable[[str], Speech], *,
                 sentence_silence: float = SENTENCE_SILENCE,
                 stop: Callable[[], bool] | None = None) -> Iterator[Speech]:
    """Speak ``pieces`` one at a time, each as soon as it is made.

    Every piece but the last is followed by its pause, so the pieces played back to back
    sound like the whole text: ``sentence_silence`` after a sentence, as the engines put
    between sentences; at a cut inside a sentence, the quiet at the join (the end of one
    piece and the start of the next, whatever the engine left there) is made
    :data:`CLAUSE_PAUSE` at a clause mark or :data:`PHRASE_PAUSE` between words, give or
    take :data:`LEAD_IN`.

    Args:
        pieces: From :func:`stream_pieces`.
        speak: Synthesises one piece (an engine with its voice and options).
        sentence_silence: Seconds between sentences.
        stop: Checked before each piece is synthesised; true ends the stream.

    Yields:
        Each piece's speech, its pause appended; ``text`` is the piece's.
    """
    after: Break = "sentence"
    for i, piece in enumerate(pieces):
        if stop is not None and stop():
            return
        speech = speak(piece.text)
        samples, rate = speech.samples.astype(np.float32), speech.sample_rate
        if after != "sentence":  # the pause before it was set at the end of the last piece
            samples = samples[max(0, round((leading_quiet(samples, rate) - LEAD_IN) * rate)):]
        after = piece.end
        if i < len(pieces) - 1:
            if piece.end == "sentence":
                pad = sentence_silence
            else:
                quiet, want = trailing_quiet(samples, rate), _pause(piece.end, sentence_silence)
                samples = samples[:len(samples) - max(0, round((quiet - want) * rate))]
                pad = max(0.0, want - quiet)
            samples = np.concatenate([samples, np.zeros(round(pad * rate), dtype=np.float32)])
        yield replace(speech, samples=samples)


def quiet_runs(samples: np.ndarray, rate: int, floor_db: float = -40.0,
               frame: float = 0.01) -> list[tuple[float, float]]:
    """(start, length) in seconds of the runs of quiet frames (see :func:`trailing_quiet`),
    counted in frames of ``frame`` seconds."""
    quiet, _ = _quiet(samples, rate, floor_db, frame)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], quiet, [False]]).astype(int)))
    return [(a * frame, (b - a) * frame) for a, b in zip(edges[::2], edges[1::2], strict=True)]
