"""Several requests' speech in one Whisper window, and each request's words taken back out.

Whisper's encoder always runs on a 30 s window; a 5-15 s clip decoded alone spends most of
that pass on padding, and on a CPU the encoder is about two thirds of a short clip's time.
Batching windows does not make that cheaper on a CPU: the arithmetic is the same. Putting
the speech of several concurrent requests into one window, each separated by a second of
silence, does: one encoder pass serves three or four requests. This is what faster-whisper
already does with the speech stretches of one file (``collect_chunks``); here the
stretches come from different requests.

The shared window is decoded with timestamp tokens, so every segment says where it lies;
each segment goes to the request whose span contains it:

* A segment that reaches into two requests' spans (Whisper ran their words together) is
  split word by word at the words' times from the cross-attention (the alignment behind
  word timestamps), each word going to the span its middle lies in. Only such windows pay
  for the alignment. (Decoding both requests alone instead was tried: between random
  development clips it cost less WER, but it handed back over 40% of the requests, and 16
  concurrent clients ran slower than with no sharing at all.)
  Text placed in the silence between requests belongs to nobody and is dropped.
* Whisper leaves an utterance that it thinks the window cuts off for the next window (the
  decode ends on two timestamps, the second opening the segment left over). A request that
  reaches past that point gets nothing from this window and goes into the next one, and after
  :data:`MAX_TRIES` shared windows it is decoded alone.
* A shared window that fails Whisper's quality checks (too repetitive, too unlikely) sends
  all its requests to be decoded alone, with the sequential path's temperature fallback.
* Whisper sometimes skips a whole request's speech in a shared window (more often when the
  requests are different speakers), and the timestamps of the next one's words then drift
  into the skipped span. A request left with less text than :data:`MIN_TOKENS_PER_SECOND`
  of its speech is the sign; then every request of that window is decoded alone, since the
  words of its neighbours may have moved too. Where the requests left without words are
  the last ones and no segment reaches into them, Whisper may only have ended the decode
  early: the window's requests then try another shared window (no words kept, since a
  skip looks the same when the skipped request's words went to the one before it).

Which requests may share is decided in :func:`earful.asr.windows.prepare` (``pack_key``):
one window of 5-15 s of speech, no initial prompt, equal beam, penalty, language, task and
quality thresholds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from earful.asr.decoding import (
    COMPRESSION_RATIO_THRESHOLD,
    END_SLACK_SECONDS,
    mean_logprob,
    timed_segments,
)
from earful.asr.windows import WINDOW_SECONDS, Window, may_share
from earful.audio.constants import SAMPLE_RATE

logger = logging.getLogger(__name__)

#: Silence between two requests' speech in a shared window, seconds. Whisper ends a segment
#: at a pause this long, and half of it on either side is the margin a segment's timestamps
#: may stray into before it counts as the neighbour's.
GAP_SECONDS = 1.0
#: Speech and gaps in one shared window fill at most this much of its 30 s: Whisper tends to
#: leave an utterance that ends near the window's edge for the next window.
FILL_SECONDS = 29.0
#: Shared windows a request may be left over from before it is decoded alone.
MAX_TRIES = 2
#: A request in a shared window must get at least this many text tokens per second of its
#: speech, or Whisper is taken to have skipped it: well under what speech decoded alone
#: gives (``benchmarks/asr_window_sharing.py`` reports the range per corpus), well over
#: what the skips seen in shared windows left (0.1-0.5).
MIN_TOKENS_PER_SECOND = 1.0
#: How far (seconds) into a neighbour's span a segment's timestamps may stray (they are
#: coarse, and VAD pads speech with 0.4 s) before it counts as running two requests
#: together.
OVERLAP_SECONDS = 0.4

__all__ = ["FILL_SECONDS", "GAP_SECONDS", "MAX_TRIES", "MIN_TOKENS_PER_SECOND", "Shared",
           "can_share", "decode_shared", "group", "may_share"]


@dataclass
class Shared:
    """One window holding the speech of several requests."""

    windows: list[Window]
    spans: list[tuple[float, float]] = field(default_factory=list)
    """Where each window's speech lies in the shared window, seconds."""


def can_share(window: Window) -> bool:
    """Whether ``window`` may still go into a shared window."""
    return window.audio is not None and window.pack_key is not None \
        and window.pack_tries < MAX_TRIES


def group(windows: list[Window], limit: int) -> list[Shared]:
    """Fill at most ``limit`` shared windows from ``windows`` (all with one ``pack_key``):
    each, in order, goes into the first with room for it (first fit, so the oldest are
    placed first and the gaps left are filled by later ones); windows that fit nowhere are
    left out."""
    groups: list[Shared] = []
    fills: list[float] = []
    for window in windows:
        assert window.audio is not None
        length = len(window.audio) / SAMPLE_RATE + GAP_SECONDS
        room = next((i for i, fill in enumerate(fills) if fill + length <= FILL_SECONDS), None)
        if room is not None:
            groups[room].windows.append(window)
            fills[room] += length
        elif len(groups) < limit:
            groups.append(Shared([window]))
            fills.append(length)
    return groups


def _build(model: Any, shared: Shared) -> np.ndarray:
    """Lay the windows' speech out with gaps between them; the log-mel features."""
    from faster_whisper.audio import pad_or_trim

    gap = np.zeros(round(GAP_SECONDS * SAMPLE_RATE), np.float32)
    # The first request starts at 0 s, as it would alone (VAD already leaves 0.4 s of
    # silence before its speech). Half a gap before it (tried first) put its speech near
    # the latest first timestamp Whisper may give (1 s), and between random development
    # clips the first request of a window lost more words than the later ones.
    pieces: list[np.ndarray] = []
    position = 0
    for window in shared.windows:
        assert window.audio is not None
        shared.spans.append((position / SAMPLE_RATE,
                             (position + len(window.audio)) / SAMPLE_RATE))
        pieces += [window.audio, gap]
        position += len(window.audio) + len(gap)
    audio = np.concatenate(pieces)
    # Padded with silence before the log-mel, as openai/whisper pads, not with zero features
    # afterwards: with zero features Whisper left the last request of about one shared
    # window in four for a next window; with silence, none of 17 in the same test.
    audio = np.pad(audio, (0, max(0, round(WINDOW_SECONDS * SAMPLE_RATE) - len(audio))))
    return pad_or_trim(model.feature_extractor(audio)[..., :-1])


def decode_shared(model: Any, groups: list[Shared]) -> list[Window]:
    """Decode shared windows in one encoder pass and one ``generate`` call.

    Fills ``pieces`` and scores of every window that got its complete transcript.

    Returns:
        The windows that did not and must be decoded again (shared or alone: see
        :func:`can_share`).
    """
    from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

    features = [_build(model, shared) for shared in groups]
    first = groups[0].windows[0]
    assert first.pack_key is not None
    beam_size, repetition_penalty = first.pack_key[:2]
    tokenizer = first.request.tokenizer
    prompt = model.get_prompt(tokenizer, [], without_timestamps=False)
    encoder_output = model.encode(np.stack(features))
    results = model.model.generate(
        encoder_output, [prompt] * len(groups), beam_size=beam_size, patience=1.0,
        length_penalty=1.0, repetition_penalty=repetition_penalty, max_length=model.max_length,
        return_scores=True, return_no_speech_prob=True, suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]))
    opts = first.request.opts
    decoded: list[tuple[Shared, list[tuple[float, float, list[int]]], float,
                        tuple[float, float, float]]] = []
    # (group, complete segments, where Whisper stopped, (mean log-probability, no-speech
    # probability, compression ratio))
    again: list[Window] = []
    for shared, result in zip(groups, results, strict=True):
        tokens = list(result.sequences_ids[0])
        avg_logprob = mean_logprob(result)
        text_tokens = [t for t in tokens if t < tokenizer.timestamp_begin]
        ratio = get_compression_ratio(tokenizer.decode(text_tokens).strip())
        if ratio > COMPRESSION_RATIO_THRESHOLD or (
                avg_logprob < opts.log_prob_threshold
                and result.no_speech_prob <= opts.no_speech_threshold):
            logger.debug("shared window of %d failed the quality checks; decoding them alone",
                         len(shared.windows))
            _alone(shared.windows, again)
            continue
        segments, cut = timed_segments(tokens, tokenizer.timestamp_begin)
        decoded.append((shared, segments, cut,
                        (float(avg_logprob), float(result.no_speech_prob), ratio)))
    if not decoded:
        return again
    # Where every segment lies in one request's span, segments are split as they are; where
    # one runs across the pause between two requests (Whisper does that), the words' times
    # from the cross-attention decide. Only those windows pay for the alignment.
    words: dict[int, list[dict[str, Any]]] = {}
    mixed = [(i, shared, segments) for i, (shared, segments, *_) in enumerate(decoded)
             if any(_touched(shared.spans, start, end) > 1 for start, end, _ in segments)]
    if mixed:
        import ctranslate2

        index = {id(g): i for i, g in enumerate(groups)}
        rows = np.asarray(encoder_output)[[index[id(shared)] for _, shared, _ in mixed]]
        frames = max(round(shared.spans[-1][1] * model.frames_per_second)
                     for _, shared, _ in mixed)
        aligned = model.find_alignment(
            tokenizer, [[t for _, _, text in segments for t in text] for *_, segments in mixed],
            ctranslate2.StorageView.from_array(np.ascontiguousarray(rows)), min(frames, 3000))
        words = {i: w for (i, _, _), w in zip(mixed, aligned, strict=True)}
    for i, (shared, segments, cut, scores) in enumerate(decoded):
        if i not in words:  # each segment is one word, as far as splitting goes
            words[i] = [{"start": st, "end": en, "tokens": text} for st, en, text in segments]
        again += _distribute(shared, segments, words[i], cut, *scores)
    return again


def _distribute(shared: Shared, segments: list[tuple[float, float, list[int]]],
                words: list[dict[str, Any]], cut: float, avg_logprob: float,
                no_speech_prob: float, ratio: float) -> list[Window]:
    """Give each request of ``shared`` the words whose middle lies in its span (or in the
    nearer half of the silence beside it), as pieces that follow Whisper's segments."""
    pieces: list[list[tuple[float, float, list[int]]]] = [[] for _ in shared.windows]
    # Which segment each word came from, by counting tokens.
    ends = np.cumsum([len(text) for _, _, text in segments])
    position = 0
    last: tuple[int, int] | None = None  # (segment, request) of the previous word
    for word in words:
        segment = int(np.searchsorted(ends, position, side="right"))
        position += len(word["tokens"])
        owner = _owner(shared.spans, (word["start"] + word["end"]) / 2)
        if owner is None:
            continue  # said in the silence after the last request
        a, b = shared.spans[owner]
        start = min(max(word["start"] - a, 0.0), b - a)
        end = min(max(word["end"] - a, 0.0), b - a)
        if last == (segment, owner):
            s0, _, tokens = pieces[owner][-1]
            pieces[owner][-1] = (s0, end, tokens + list(word["tokens"]))
        else:
            pieces[owner].append((start, end, list(word["tokens"])))
        last = (segment, owner)
    again: list[Window] = []
    finished = [shared.spans[i][1] <= cut + END_SLACK_SECONDS
                for i in range(len(shared.windows))]
    short = [i for i, (a, b) in enumerate(shared.spans) if finished[i] and sum(
        len(text) for _, _, text in pieces[i]) < MIN_TOKENS_PER_SECOND * (b - a)]
    if short:
        # No request keeps this window's words: the neighbours of a skipped request may hold
        # its words, or their own words may have drifted into its span.
        stop = max((end for _, end, _ in segments), default=0.0)
        if short == list(range(short[0], len(shared.spans))) \
                and stop - shared.spans[short[0]][0] <= OVERLAP_SECONDS:
            # Whisper ended the decode before the last requests. It may only have stopped
            # early (a next window can do better than decoding them all alone), or the
            # last request it transcribed may have been given a skipped one's words.
            logger.debug("a shared window ended before its last requests; trying them again")
            finished = [False] * len(shared.windows)
        else:
            logger.debug("a request of a shared window got under %.1f tokens per second of "
                         "speech; decoding its %d requests alone", MIN_TOKENS_PER_SECOND,
                         len(shared.windows))
            _alone(shared.windows, again)
            return again
    for i, window in enumerate(shared.windows):
        if not finished[i]:
            window.pack_tries += 1  # Whisper left it for the next window
            again.append(window)
            continue
        window.pieces = pieces[i]
        window.tokens = [t for _, _, text in pieces[i] for t in text]
        window.avg_logprob, window.no_speech_prob = avg_logprob, no_speech_prob
        window.compression_ratio = ratio
        window.audio = None
    return again


def _touched(spans: list[tuple[float, float]], start: float, end: float) -> int:
    """How many spans the stretch from ``start`` to ``end`` reaches into by more than
    :data:`OVERLAP_SECONDS`."""
    return sum(min(end, b) - max(start, a) > OVERLAP_SECONDS for a, b in spans)


def _owner(spans: list[tuple[float, float]], t: float) -> int | None:
    """The request whose span is nearest to ``t``, within half a gap of it."""
    best, distance = None, GAP_SECONDS / 2
    for i, (a, b) in enumerate(spans):
        d = max(a - t, t - b, 0.0)
        if d <= distance:
            best, distance = i, d
    return best


def _alone(windows: list[Window], again: list[Window]) -> None:
    for window in windows:
        window.pack_tries = MAX_TRIES
        again.append(window)


assert FILL_SECONDS < WINDOW_SECONDS
