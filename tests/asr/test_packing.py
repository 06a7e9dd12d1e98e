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
    # Token lists as long as real speech gives (about 3 a second; see the next test).
    one, two, three, four = [1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]
    segments = [(0.0, 7.0, one + two + three), (7.0, 10.0, four)]  # the first runs across
    words = [{"start": 0.6, "end": 1.0, "tokens": one},              # a pause
             {"start": 1.0, "end": 4.9, "tokens": two},   # stretched over the pause
             {"start": 5.6, "end": 6.0, "tokens": three},
             {"start": 7.0, "end": 10.0, "tokens": four}]
    again = packing._distribute(shared, segments, words, 11.2, -0.2, 0.01, 1.5)
    first, second, third = shared.windows
    assert first.tokens == one + two and second.tokens == three + four
    # Times are on each request's own speech.
    def rounded(pieces: list[tuple[float, float, list[int]]] | None) -> list[object]:
        return [(round(a, 3), round(b, 3), t) for a, b, t in pieces or []]

    assert rounded(first.pieces) == [(0.1, 4.0, one + two)]
    assert rounded(second.pieces) == [(0.1, 0.5, three), (1.5, 4.5, four)]
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


def test_a_skipped_request_sends_its_whole_window_alone() -> None:
    shared = packing.Shared([window(4.0), window(6.0)])
    shared.spans = [(0.5, 4.5), (5.5, 11.5)]
    # Whisper skipped the first request: the second's words came with times in its span,
    # and only the last word is left in the second's own span.
    segments = [(0.2, 4.4, [1, 2, 3, 4, 5, 6, 7, 8]), (5.6, 6.0, [9])]
    words = [{"start": s, "end": e, "tokens": t} for s, e, t in segments]
    again = packing._distribute(shared, segments, words, 30.0, -0.2, 0.01, 1.5)
    assert again == shared.windows
    assert all(w.pieces is None and w.pack_tries == packing.MAX_TRIES for w in again)
    assert not any(packing.can_share(w) for w in again)


def test_a_decode_that_ends_early_sends_its_requests_to_another_window() -> None:
    def fresh() -> packing.Shared:
        shared = packing.Shared([window(4.0), window(6.0), window(5.0)])
        shared.spans = [(0.0, 4.0), (5.0, 11.0), (12.0, 17.0)]
        return shared

    # Whisper closed one segment in the first request's span and ended. It may only have
    # stopped early, or it may have skipped the first request and timed the second's words
    # there: nobody keeps words, and all try another shared window rather than all alone.
    shared = fresh()
    segments = [(0.2, 3.8, list(range(1, 11)))]
    words = [{"start": s, "end": e, "tokens": t} for s, e, t in segments]
    again = packing._distribute(shared, segments, words, 30.0, -0.2, 0.01, 1.5)
    assert again == shared.windows
    assert all(w.pieces is None and w.pack_tries == 1 and packing.can_share(w) for w in again)
    # A request without words in the middle, or a last segment reaching into the requests
    # without words: all alone, as before.
    for segments in ([(0.2, 3.8, list(range(1, 11))), (12.1, 16.8, list(range(11, 26)))],
                     [(0.2, 5.6, list(range(1, 11)))]):
        shared = fresh()
        words = [{"start": s, "end": e, "tokens": t} for s, e, t in segments]
        again = packing._distribute(shared, segments, words, 30.0, -0.2, 0.01, 1.5)
        assert again == shared.windows
        assert all(w.pack_tries == packing.MAX_TRIES and not packing.can_share(w)
                   for w in again)


# Utterances of the LibriSpeech subset that, packed together, once made Whisper skip one
# request's speech and hand its neighbour's words to it.
SKIPPED = ([3, 10], [23, 6, 11], [22, 15, 16])


def test_no_request_gets_its_neighbours_words(shared_data: Path) -> None:
    from earful.asr.engines import get_model
    from earful.asr.windows import prepare

    rows = read_manifest(shared_data / "speech" / "librispeech_test_other" / "transcripts.tsv")
    model = get_model(ModelSpec())
    for indices in SKIPPED:
        requests = []
        for i in indices:
            req = Request(load_audio(rows[i][0]), OPTS, Future())
            prepare(model, req)
            requests.append(req)
        groups = packing.group([r.windows[0] for r in requests], 1)
        assert len(groups) == 1 and len(groups[0].windows) == len(indices)
        again = packing.decode_shared(model, groups)
        for i, req in zip(indices, requests, strict=True):
            if req.windows[0] in again:
                continue  # handed back, to be decoded alone
            text = " ".join(req.tokenizer.decode(t).strip()
                            for _, _, t in req.windows[0].pieces or [])
            errors = [score([rows[j][1]], [text], NORM).wer for j in indices]
            assert int(np.argmin(errors)) == indices.index(i) and min(errors) <= 0.4, (i, text)
