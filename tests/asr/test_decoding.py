"""Where a timed decode of a batched window stops, and what comes next (real tiny.en
tokenizer and feature extractor; the decodes are written out as token lists)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest

from earful.asr import decoding
from earful.asr.engines import get_model
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.windows import WINDOW_SECONDS, Request, Window, make_window

RATE = 16000


@pytest.fixture(scope="module")
def model() -> Any:
    return get_model(ModelSpec())


def window(model: Any, stretches: list[tuple[int, int]]) -> Window:
    from faster_whisper.tokenizer import Tokenizer

    audio = np.random.default_rng(0).normal(0, 0.1, stretches[-1][1]).astype(np.float32)
    req = Request(audio, TranscribeOptions(language="en"), Future(), padded=audio)
    req.tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
    return make_window(model, req, np.zeros((80, 3000), np.float32), stretches, [], None,
                       timed=True)


def ts(w: Window, seconds: float) -> int:
    return int(w.request.tokenizer.timestamp_begin + round(seconds / 0.02))


def words(w: Window, text: str) -> list[int]:
    return list(w.request.tokenizer.encode(text))


def test_where_the_rest_starts(model: Any) -> None:
    w = window(model, [(0, 20 * RATE)])  # 20 s of speech
    hello, there = words(w, " Hello."), words(w, " There.")
    # Ends on a closed segment near the end of the speech: finished.
    stop = decoding._take(w, [ts(w, 0), *hello, ts(w, 10), ts(w, 10), *there, ts(w, 19)],
                          -0.2, 0.0)
    assert stop == WINDOW_SECONDS
    assert [p[:2] for p in w.pieces or []] == [(0.0, 10.0), (10.0, 19.0)]
    # Ends on a closed segment with 15 s of speech still to come: not finished.
    assert decoding._take(w, [ts(w, 0), *hello, ts(w, 5)], -0.2, 0.0) == pytest.approx(5.0)
    # A segment left for the next window (two timestamps at the end): the rest starts at the
    # last closing timestamp, not at the opening one of the segment left over.
    stop = decoding._take(w, [ts(w, 0), *hello, ts(w, 8), ts(w, 9), *there], -0.2, 0.0)
    assert stop == pytest.approx(8.0)
    assert decoding._take(w, [ts(w, 0), *hello, ts(w, 8), ts(w, 9)], -0.2, 0.0) == \
        pytest.approx(8.0)


def test_a_loop_in_an_unclosed_segment_fails_the_quality_check(model: Any) -> None:
    w = window(model, [(0, 20 * RATE)])
    loop = [ts(w, 0)] + words(w, " the") * 200  # never closed: the length cap ended it
    stop = decoding._take(w, loop, -0.1, 0.0)
    # Kept whole as one segment over the window (as faster-whisper keeps it), and judged on
    # all its text, so it goes to the temperature fallback instead of vanishing.
    assert stop == WINDOW_SECONDS
    assert w.pieces == [(0.0, 20.0, words(w, " the") * 200)]
    assert w.compression_ratio > decoding.COMPRESSION_RATIO_THRESHOLD
    assert decoding._needs_fallback(w)


def test_a_follow_up_holds_the_speech_after_the_stop(model: Any) -> None:
    # Two stretches of 5 s and 6 s laid end to end; stopping 7 s in leaves the last 4 s of
    # the second stretch.
    w = window(model, [(RATE, 6 * RATE), (10 * RATE, 16 * RATE)])
    rest = decoding._follow_up(model, w, 7.0)
    assert rest is not None and rest.stretches == [(12 * RATE, 16 * RATE)]
    assert rest.timed and rest.request is w.request and rest.features.shape == (80, 3000)
    # Stopping within half a second of the end leaves nothing; stopping almost at once still
    # moves on by a second, so a chain of follow-ups always ends.
    assert decoding._follow_up(model, w, 10.6) is None
    early = decoding._follow_up(model, w, 0.1)
    assert early is not None and early.stretches == [(2 * RATE, 6 * RATE),
                                                     (10 * RATE, 16 * RATE)]
    # The request is only changed by attach().
    assert w.request.windows == [] and w.request.pending == 0
    w.request.windows.append(w)
    w.request.pending = 1
    decoding.attach(w, rest)
    assert w.request.windows == [w, rest] and w.request.pending == 2
