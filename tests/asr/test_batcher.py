"""Batching across requests, with the real bundled tiny.en model on real audio."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import earful.asr.batcher as batcher_module
from earful.asr import decoding
from earful.asr.batcher import BatcherOptions, RequestBatcher
from earful.asr.evaluate import get_normaliser, read_manifest, score
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe
from earful.audio.io import load_audio
from earful.errors import InvalidOptionError
from tests.conftest import end_to_end

NORM = get_normaliser("english")
OPTS = TranscribeOptions(language="en")
#: Long enough that requests submitted back to back all join the first batch.
GATHER_MS = 1500.0


def wer(reference: str, hypothesis: str) -> float:
    return score([reference], [hypothesis], NORM).wer


@pytest.fixture(scope="module")
def jfk(test_data: Path) -> np.ndarray:
    return load_audio(test_data / "jfk.flac")


@pytest.fixture(scope="module")
def jfk_ref(test_data: Path) -> str:
    return (test_data / "jfk.txt").read_text()


@pytest.fixture
def batcher() -> Iterator[RequestBatcher]:
    # alone="batched": a request submitted on its own still takes the batched path here.
    with RequestBatcher(ModelSpec(), max_wait_ms=GATHER_MS, alone="batched") as b:
        yield b


def test_options_are_validated() -> None:
    for bad in ({"max_batch": 0}, {"max_wait_ms": -1.0}, {"short_clips": "sometimes"},
                {"alone": "never"}, {"decoders": 0}, {"decoders": 9}):
        with pytest.raises(InvalidOptionError):
            BatcherOptions(**bad)
    with pytest.raises(InvalidOptionError, match="faster-whisper"):
        RequestBatcher(ModelSpec(engine="transformers", name="openai/whisper-tiny.en"))


def test_concurrent_requests_share_batches_and_keep_their_own_text(
        batcher: RequestBatcher, test_data: Path, jfk: np.ndarray, jfk_ref: str) -> None:
    # Five different clips: JFK whole and in halves (cut in the pause after "for you"),
    # a digit and a word. A mix-up between requests would give one clip another's text.
    cut = int(6.6 * 16000)
    clips = {"jfk": jfk, "first": jfk[:cut], "second": jfk[cut:],
             "seven": load_audio(test_data / "digit_7.wav"),
             "yes": load_audio(test_data / "yes.wav")}
    futures = {name: batcher.submit(audio, OPTS) for name, audio in clips.items()}
    texts = {name: NORM(f.result().text) for name, f in futures.items()}
    stats = batcher.stats
    assert stats.batched_requests == 5 and stats.batches < 5
    assert stats.most_requests_in_batch >= 2

    assert wer(jfk_ref, texts["jfk"]) <= 0.05
    assert texts["seven"] == "7" and texts["yes"] == "yes"
    assert "fellow americans" in texts["first"] and "fellow americans" not in texts["second"]
    assert "what you can do for your country" in texts["second"]
    assert "what you can do for your country" not in texts["first"]
    # Each as the ordinary path gives it alone.
    for name, audio in clips.items():
        alone = NORM(transcribe(audio, OPTS).text)
        assert wer(alone, texts[name]) <= 0.1, (name, alone, texts[name])


def test_transcript_shape_matches_transcribe(
        batcher: RequestBatcher, jfk: np.ndarray, sentences: list[tuple[np.ndarray, str]]) -> None:
    # Three sentences with 3 s gaps: 38 s, more than one window. Times must be on the
    # request's own timeline, in order and inside the audio.
    audio, reference = end_to_end(sentences[:3], 3.0)
    result = batcher.transcribe(audio, OPTS)
    assert wer(reference, result.text) <= 0.05, result.text
    assert result.duration == pytest.approx(len(audio) / 16000, abs=0.01)
    assert result.duration > 37
    assert len(result.segments) >= 2
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts) and starts[0] < 1.0 and starts[-1] > 20.0
    assert all(0 <= s.start < s.end <= result.duration for s in result.segments)
    direct = transcribe(jfk, OPTS)
    short = batcher.transcribe(jfk, OPTS)
    assert (short.model, short.engine, short.language) == (direct.model, direct.engine, "en")
    assert short.language_probability == direct.language_probability
    assert short.duration == direct.duration
    assert short.to_dict().keys() == direct.to_dict().keys()
    assert short.to_dict()["segments"][0].keys() == direct.to_dict()["segments"][0].keys()


def test_speech_after_where_whisper_stopped_is_decoded_next(
        batcher: RequestBatcher, sentences: list[tuple[np.ndarray, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Whisper may end a window's decode early: it leaves an utterance it thinks cut off for
    # the next window, or just stops. Here every decode is made to stop after its first
    # segment; the speech after it must still be transcribed, in order, by the real model.
    real = decoding.timed_segments
    stops: list[float] = []

    def first_only(tokens: list[int], timestamp_begin: int
                   ) -> tuple[list[tuple[float, float, list[int]]], float]:
        segments, cut = real(tokens, timestamp_begin)
        if len(segments) > 1:
            segments, cut = segments[:1], segments[0][1]
            stops.append(cut)
        return segments, cut

    monkeypatch.setattr(decoding, "timed_segments", first_only)
    audio, reference = end_to_end(sentences[:3], 3.0)
    result = batcher.transcribe(audio, OPTS)
    assert len(stops) >= 2  # the first window stopped early, and so did a follow-up
    assert wer(reference, result.text) <= 0.05, result.text
    starts = [s.start for s in result.segments]
    assert len(starts) >= 3 and starts == sorted(starts)
    assert all(0 <= s.start < s.end <= result.duration for s in result.segments)
    assert batcher.stats.windows >= 3  # a window and at least two follow-ups


def test_a_batch_that_fails_after_a_follow_up_still_finishes_the_others(
        batcher: RequestBatcher, sentences: list[tuple[np.ndarray, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The first window of a batch is left unfinished (its follow-up is made), then the
    # second one breaks the decoder: the batch is retried window by window, and the first
    # request must still get all its words, not wait for a follow-up that was never queued.
    real_take, real_follow = decoding._take, decoding._follow_up
    innocent, reference = end_to_end(sentences[:2], 3.0)
    poisoned = innocent.copy()

    def take(window: Any, tokens: list[int], *scores: float) -> float:
        stop = real_take(window, tokens, *scores)
        if window.request.audio is innocent and window.pieces and len(window.pieces) > 1:
            window.pieces = window.pieces[:1]
            return float(window.pieces[0][1])
        return stop

    def follow_up(model: Any, window: Any, stop: float) -> Any:
        if window.request.audio is poisoned:
            raise RuntimeError("decoder exploded")
        return real_follow(model, window, stop)

    monkeypatch.setattr(decoding, "_take", take)
    monkeypatch.setattr(decoding, "_follow_up", follow_up)
    good, bad = batcher.submit(innocent, OPTS), batcher.submit(poisoned, OPTS)
    with pytest.raises(RuntimeError, match="decoder exploded"):
        bad.result(timeout=300)
    result = good.result(timeout=300)
    assert wer(reference, result.text) <= 0.05, result.text
    assert batcher.stats.largest_batch == 2  # both were in the batch that failed


def test_vad_of_a_request_that_comes_during_a_batch_runs_in_its_own_thread(
        batcher: RequestBatcher, jfk: np.ndarray, jfk_ref: str,
        sentences: list[tuple[np.ndarray, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    # On an idle batcher VAD waits for the batcher (a lone clip may go to transcribe(),
    # which runs its own); while a batch decodes, a new request's VAD runs in the caller's
    # thread, so it does not hold up the next batch.
    import threading

    from earful.asr import windows

    where: list[str] = []
    real_vad, real_decode = windows.find_speech, batcher_module.decode_batch
    decoding, release = threading.Event(), threading.Event()

    def vad(req: Any) -> None:
        where.append(threading.current_thread().name)
        real_vad(req)

    def decode(model: Any, batch: list[Any]) -> Any:
        decoding.set()
        release.wait(timeout=60)
        return real_decode(model, batch)

    monkeypatch.setattr(windows, "find_speech", vad)
    monkeypatch.setattr(batcher_module, "find_speech", vad)
    monkeypatch.setattr(batcher_module, "decode_batch", decode)
    long, reference = end_to_end(sentences, 3.0)
    first = batcher.submit(long, OPTS)
    assert decoding.wait(timeout=60)
    second = batcher.submit(jfk, OPTS)
    release.set()
    assert where[0].startswith("earful-batcher-")
    assert where[1:] == [threading.current_thread().name]
    assert wer(reference, first.result(timeout=300).text) <= 0.05
    assert wer(jfk_ref, second.result(timeout=300).text) <= 0.05


def test_two_decoders_decode_two_batches_at_once(jfk: np.ndarray, jfk_ref: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # While one decoder is held inside its batch, the other takes the next request and
    # finishes it; each decodes on its own replica of the model.
    import threading

    real_decode = batcher_module.decode_batch
    held, release = threading.Event(), threading.Event()
    models: list[Any] = []

    def decode(model: Any, batch: list[Any]) -> Any:
        models.append(model)
        if len(models) == 1:
            held.set()
            release.wait(timeout=120)
        return real_decode(model, batch)

    monkeypatch.setattr(batcher_module, "decode_batch", decode)
    with RequestBatcher(ModelSpec(), alone="batched", decoders=2) as b:
        try:
            first = b.submit(jfk, OPTS)
            assert held.wait(timeout=60)
            second = b.submit(jfk, OPTS).result(timeout=120)
            assert not first.done()
        finally:
            release.set()
        assert wer(jfk_ref, first.result(timeout=120).text) <= 0.05
    assert wer(jfk_ref, second.text) <= 0.05
    assert b.stats.batches == 2
    # The batches' model has a replica per decoder, each with half of the cores.
    assert models[0] is models[1] and models[0].model.num_workers == 2


def test_replicas_share_the_threads() -> None:
    from earful.asr.engines import model_params

    assert "num_workers" not in model_params(ModelSpec(cpu_threads=4))
    params = model_params(ModelSpec(cpu_threads=4), replicas=2)
    assert params["num_workers"] == 2 and params["cpu_threads"] == 2
    assert model_params(ModelSpec(cpu_threads=1), replicas=2)["cpu_threads"] == 1
    assert model_params(ModelSpec(), replicas=2)["cpu_threads"] >= 1


@pytest.mark.parametrize("vad", [True, False])
def test_silence_and_noise_give_empty_text(batcher: RequestBatcher, test_data: Path,
                                           vad: bool) -> None:
    opts = OPTS.with_(vad=vad)
    noise = np.resize(load_audio(test_data / "background_noise.wav"), 8 * 16000)
    futures = [batcher.submit(np.zeros(8 * 16000, np.float32), opts),
               batcher.submit(np.zeros(3 * 16000, np.float32), opts),
               batcher.submit(noise, opts)]
    for future in futures:
        result = future.result()
        assert result.text == "" and result.segments == []
        assert result.model == "tiny.en" and result.engine == "faster-whisper"


def test_a_bad_request_fails_alone(batcher: RequestBatcher, jfk: np.ndarray, jfk_ref: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A window that breaks the decoder: a shared window holding it is decoded again as
    # windows of their own, and a batch is retried window by window, so only the request
    # it belongs to fails.
    poisoned = jfk[: 9 * 16000].copy()
    real_decode, real_shared = batcher_module.decode_batch, batcher_module.decode_shared

    def decode(model: Any, windows: list[Any]) -> list[Any]:
        if any(w.request.audio is poisoned for w in windows):
            raise RuntimeError("decoder exploded")
        return real_decode(model, windows)

    def shared(model: Any, groups: list[Any]) -> list[Any]:
        if any(w.request.audio is poisoned for g in groups for w in g.windows):
            raise RuntimeError("decoder exploded")
        return real_shared(model, groups)  # type: ignore[no-any-return]

    monkeypatch.setattr(batcher_module, "decode_batch", decode)
    monkeypatch.setattr(batcher_module, "decode_shared", shared)
    good = batcher.submit(jfk, OPTS)
    bad = batcher.submit(poisoned, OPTS)
    stereo = batcher.submit(np.stack([jfk, jfk]), OPTS)          # not one channel
    french = batcher.submit(jfk, TranscribeOptions(language="fr"))  # English-only model
    also_good = batcher.submit(jfk[: 6 * 16000], OPTS)
    with pytest.raises(RuntimeError, match="decoder exploded"):
        bad.result()
    for future in (stereo, french):
        with pytest.raises(InvalidOptionError):
            future.result()
    assert wer(jfk_ref, good.result().text) <= 0.05
    assert "fellow americans" in NORM(also_good.result().text)
    assert batcher.stats.shared_windows >= 1  # the shared path was tried and failed


def test_options_it_cannot_batch_go_through_transcribe(
        batcher: RequestBatcher, jfk: np.ndarray,
        sentences: list[tuple[np.ndarray, str]]) -> None:
    result = batcher.transcribe(jfk, OPTS.with_(word_timestamps=True))
    assert batcher.stats.direct_requests == 1 and batcher.stats.batched_requests == 0
    words = [w for s in result.segments for w in (s.words or [])]
    assert len(words) >= 20
    # A window prompted with the text before it waits for that text: decoded in order.
    conditioned = OPTS.with_(condition_on_previous_text=True)
    long, _ = end_to_end(sentences, 3.0)
    result = batcher.transcribe(long, conditioned)
    assert batcher.stats.direct_requests == 2 and batcher.stats.batched_requests == 0
    assert result.text == transcribe(long, conditioned).text
    batcher.transcribe(jfk, conditioned)  # one window: nothing before it to wait for
    assert batcher.stats.direct_requests == 2 and batcher.stats.batched_requests == 1


def test_a_clip_that_comes_alone_is_decoded_as_one_at_a_time(jfk: np.ndarray) -> None:
    # Nobody to share a batch with: the exact transcript of the unbatched path (timestamped
    # segments), which is also what a streamed transcript of the same audio gives.
    direct = transcribe(jfk, OPTS)
    with RequestBatcher(ModelSpec(), max_wait_ms=0.0) as b:
        alone = b.transcribe(jfk, OPTS)
        assert b.stats.alone_requests == 1 and b.stats.batches == 0
    assert alone.text == direct.text
    assert [(s.start, s.end, s.text) for s in alone.segments] == \
        [(s.start, s.end, s.text) for s in direct.segments]


def test_a_lone_clip_cancelled_while_waiting_is_not_decoded(jfk: np.ndarray) -> None:
    with RequestBatcher(ModelSpec(), max_wait_ms=GATHER_MS) as b:
        future = b.submit(jfk, OPTS)
        assert future.cancel()  # still waiting for company: nothing has started
    assert future.cancelled()
    assert b.stats.alone_requests == 0 and b.stats.batches == 0


def test_short_clips_can_go_direct(test_data: Path) -> None:
    with RequestBatcher(ModelSpec(), short_clips="direct") as b:
        result = b.transcribe(load_audio(test_data / "digit_7.wav"), OPTS)
        assert NORM(result.text) == "7"
        assert b.stats.direct_requests == 1 and b.stats.batches == 0


def test_close_finishes_queued_work(jfk: np.ndarray, test_data: Path) -> None:
    b = RequestBatcher(ModelSpec(), max_batch=2, max_wait_ms=GATHER_MS)
    clips = [jfk, jfk[: 6 * 16000], load_audio(test_data / "yes.wav"), jfk]
    futures = [b.submit(c, OPTS) for c in clips]
    b.close()  # returns once everything queued is done
    assert all(f.done() for f in futures)
    assert [NORM(f.result().text) != "" for f in futures] == [True] * 4
    assert b.stats.batches >= 2 and b.stats.largest_batch <= 2
    with pytest.raises(RuntimeError, match="closed"):
        b.submit(jfk, OPTS)
    b.close()  # idempotent


def test_a_cancelled_request_is_dropped(batcher: RequestBatcher, jfk: np.ndarray,
                                        jfk_ref: str) -> None:
    dropped = batcher.submit(jfk, OPTS)
    kept = batcher.submit(jfk[: 6 * 16000], OPTS)
    assert dropped.cancel()  # still gathering: nothing has started
    assert "fellow americans" in NORM(kept.result().text)
    batcher.close()
    assert dropped.cancelled() and batcher.stats.windows == 1


def test_librispeech_batched_as_good_as_one_at_a_time(shared_data: Path) -> None:
    rows = read_manifest(shared_data / "speech" / "librispeech_test_other" / "transcripts.tsv")
    rows = rows[:8]
    audios = [load_audio(path) for path, _ in rows]
    refs = [text for _, text in rows]
    alone = [transcribe(a, OPTS).text for a in audios]
    with RequestBatcher(ModelSpec(), max_wait_ms=GATHER_MS) as b:
        batched = [f.result().text for f in [b.submit(a, OPTS) for a in audios]]
        assert b.stats.batches < len(audios)
    assert abs(score(refs, batched, NORM).wer - score(refs, alone, NORM).wer) <= 0.02
    # Every utterance got its own words: its transcript is closest to its own reference.
    for i, hyp in enumerate(batched):
        errors = [wer(ref, hyp) for ref in refs]
        assert int(np.argmin(errors)) == i and errors[i] <= 0.4, (i, hyp)


def test_windows_are_packed_from_whole_stretches() -> None:
    from earful.asr.windows import pack

    stretches = [{"start": s, "end": e} for s, e in [(0, 10), (20, 35), (40, 50), (60, 90)]]
    groups = pack(stretches, 30)
    assert [[st["start"] for st in g] for g in groups] == [[0, 20], [40], [60]]
    assert pack([], 30) == []
