"""Several requests' speech in one Whisper window: splitting the decode back, and the
real model on real LibriSpeech clips."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from earful.asr import packing
from earful.asr.batcher import RequestBatcher
from earful.asr.decoding import timed_segments
from earful.asr.evaluate import get_normaliser, read_manifest, score
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe
from earful.asr.windows import Request, Window
from earful.audio.io import load_audio

NORM = get_normaliser("english")
OPTS = TranscribeOptions(language="en")
TS = 50_000  # a stand-in for the tokenizer's first timestamp token
KEY = (5, 1.0, "en", "transcribe", -1.0, 0.6)


def ts(seconds: float) -> int:
    return TS + round(seconds / 0.02)


def window(seconds: float) -> Window:
    req = Request(np.zeros(1, np.float32), OPTS, Future())
    w = Window(req, np.zeros(1), [], None, (5, 1.0, 1, True),
               stretches=[(0, round(seconds * 16000))])
    w.audio = np.zeros(round(seconds * 16000), np.float32)
    w.pack_key = KEY
    return w


def test_segments_and_where_whisper_stopped() -> None:
    finished = [ts(0), 1, 2, ts(3), ts(3), 4, ts(6)]
    segments, cut = timed_segments(finished, TS)
    assert segments == [(0.0, 3.0, [1, 2]), (3.0, 6.0, [4])]
    assert cut == packing.WINDOW_SECONDS
    # Ends on two timestamps: the segment opened at 6 s was left for the next window.
    left = [ts(0), 1, ts(3), ts(3), 4, ts(6), ts(6)]
    assert timed_segments(left, TS)[1] == pytest.approx(6.0)
    # Stopped mid-segment (the length cap): only as far as the last closed segment.
    capped = [ts(0), 1, ts(3), ts(3), 4, 5]
    segments, cut = timed_segments(capped, TS)
    assert segments == [(0.0, 3.0, [1])] and cut == pytest.approx(3.0)


def test_first_fit_fills_the_gaps_and_keeps_the_limit() -> None:
    def sizes(groups: list[packing.Shared]) -> list[list[float]]:
        return [[w.end for w in g.windows] for g in groups]

    # With 1 s gaps: 14 + 14 s do not fit one window, so the second opens another; 12 s
    # goes back to fill the first; 9 s fits the second; 5 s fits neither and waits.
    lengths = [14.0, 14.0, 12.0, 9.0, 5.0]
    assert sizes(packing.group([window(s) for s in lengths], limit=2)) == [[14, 12], [14, 9]]
    assert sizes(packing.group([window(14.0) for _ in range(3)], limit=1)) == [[14]]


def test_words_go_to_the_request_they_lie_in_and_late_ones_wait() -> None:
    shared = packing.Shared([window(4.0), window(5.0), window(3.0)])
    shared.spans = [(0.5, 4.5), (5.5, 10.5), (11.5, 14.5)]
    segments = [(0.0, 7.0, [1, 2, 3]), (7.0, 10.0, [4])]  # the first runs across a pause
    words = [{"start": 0.6, "end": 1.0, "tokens": [1]},
             {"start": 1.0, "end": 4.9, "tokens": [2]},   # stretched over the pause
             {"start": 5.6, "end": 6.0, "tokens": [3]},
             {"start": 7.0, "end": 10.0, "tokens": [4]}]
    again = packing._distribute(shared, segments, words, 11.2, -0.2, 0.01, 1.5)
    first, second, third = shared.windows
    assert first.tokens == [1, 2] and second.tokens == [3, 4]
    # Times are on each request's own speech.
    def rounded(pieces: list[tuple[float, float, list[int]]] | None) -> list[object]:
        return [(round(a, 3), round(b, 3), t) for a, b, t in pieces or []]

    assert rounded(first.pieces) == [(0.1, 4.0, [1, 2])]
    assert rounded(second.pieces) == [(0.1, 0.5, [3]), (1.5, 4.5, [4])]
    # Whisper stopped at 11.2 s: the third request waits for another window.
    assert again == [third] and third.pack_tries == 1 and third.pieces is None
    assert packing.can_share(third) and not packing.can_share(first)


def test_text_in_the_silence_belongs_to_nobody() -> None:
    assert packing._owner([(0.5, 4.5), (5.5, 9.5)], 5.2) == 1
    assert packing._owner([(0.5, 4.5), (5.5, 9.5)], 4.9) == 0
    assert packing._owner([(0.5, 4.5), (5.5, 9.5)], 12.0) is None


def test_shared_windows_as_good_as_one_at_a_time(shared_data: Path) -> None:
    rows = read_manifest(shared_data / "speech" / "librispeech_test_other" / "transcripts.tsv")
    chosen = [(path, text) for path, text in rows
              if 5.0 < len(load_audio(path)) / 16000 <= 15.0][:6]
    audios = [load_audio(path) for path, _ in chosen]
    refs = [text for _, text in chosen]
    alone = [transcribe(a, OPTS).text for a in audios]
    with RequestBatcher(ModelSpec(), max_wait_ms=1500.0) as b:
        results = [f.result() for f in [b.submit(a, OPTS) for a in audios]]
        stats = b.stats
    assert stats.shared_windows >= 2 and stats.shared_requests >= 4
    shared = [r.text for r in results]
    assert abs(score(refs, shared, NORM).wer - score(refs, alone, NORM).wer) <= 0.02
    for i, (hyp, result) in enumerate(zip(shared, results, strict=True)):
        # Each request has its own words and nobody else's: closest to its own reference.
        errors = [score([ref], [hyp], NORM).wer for ref in refs]
        assert int(np.argmin(errors)) == i and errors[i] <= 0.4, (i, hyp)
        starts = [s.start for s in result.segments]
        assert starts == sorted(starts)
        assert all(0 <= s.start <= s.end <= result.duration for s in result.segments)


def test_sharing_can_be_turned_off(shared_data: Path) -> None:
    rows = read_manifest(shared_data / "speech" / "librispeech_test_other" / "transcripts.tsv")
    audios = [a for a in (load_audio(path) for path, _ in rows[:10])
              if 5.0 < len(a) / 16000 <= 15.0][:2]
    with RequestBatcher(ModelSpec(), max_wait_ms=1500.0, share_windows=False) as b:
        for f in [b.submit(a, OPTS) for a in audios]:
            assert f.result().text
        assert b.stats.shared_windows == 0 and b.stats.most_requests_in_batch == 2
