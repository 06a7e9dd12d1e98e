"""Batching across requests: concurrent transcriptions share batched decoding.

One request at a time, the decoder runs one window per ``generate`` call and most of a
CPU's arithmetic goes to overheads that do not grow with the batch. A
:class:`RequestBatcher` collects the requests that arrive within a few milliseconds of each
other, cuts each into speech windows (:mod:`earful.asr.windows`), and decodes windows of
several requests in one encoder pass and one CTranslate2 ``generate`` call, so throughput
rises with load instead of staying flat. Each request then gets its own
:class:`~earful.asr.result.Transcript`, shaped as :func:`~earful.asr.transcribe.transcribe`
shapes it.

Usage::

    with RequestBatcher(ModelSpec()) as batcher:
        future = batcher.submit(audio, TranscribeOptions(language="en"))
        print(future.result().text)

A request the batched path cannot honour (word timestamps; no VAD on audio longer than one
window) goes through the ordinary :func:`~earful.asr.transcribe.transcribe` on a side
thread rather than being decoded differently from what it asked for.

What differs from ``transcribe()``: a request's speech is cut into windows of up to 30 s
first (VAD stretches packed whole), and the windows are decoded independently, so a window
after the first is not conditioned on the text before it. Each is decoded with timestamp
tokens as ``transcribe()`` decodes, and where Whisper stops early the rest of the window is
decoded next, as ``transcribe()`` seeks on; the text is as good (corpus WER on LibriSpeech
and held-out read sentences, ``benchmarks/asr_batching.py``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np

from earful.asr.decoding import attach, decode_batch
from earful.asr.options import BatcherOptions, ModelSpec, TranscribeOptions
from earful.asr.packing import (
    FILL_SECONDS,
    GAP_SECONDS,
    MAX_TRIES,
    Shared,
    can_share,
    decode_shared,
    group,
    may_share,
)
from earful.asr.result import Transcript
from earful.asr.windows import (
    PACK_MAX_SECONDS,
    WINDOW_SECONDS,
    Request,
    Window,
    assemble,
    find_speech,
    prepare,
    unbatchable,
)
from earful.audio.constants import SAMPLE_RATE
from earful.errors import InvalidOptionError

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class BatcherStats:
    """What a batcher has done so far."""

    requests: int
    """Requests submitted."""
    batched_requests: int
    """Requests queued for the batcher (``alone_requests`` of them then went through
    ``transcribe()`` all the same; the rest of all requests are ``direct_requests``)."""
    direct_requests: int
    """Requests sent through ``transcribe()``: options the batched path cannot honour, or
    short clips with ``short_clips="direct"``."""
    alone_requests: int
    """Batchable requests decoded through ``transcribe()`` because they came alone
    (``alone="direct"``)."""
    batches: int
    """Batched ``generate`` calls."""
    windows: int
    """Windows decoded in them."""
    largest_batch: int
    """Most windows in one call."""
    most_requests_in_batch: int
    """Most distinct requests in one call."""
    fallback_windows: int
    """Windows decoded again alone with temperature fallback."""
    shared_windows: int
    """Whisper windows that held several requests' speech (:mod:`earful.asr.packing`)."""
    shared_requests: int
    """Requests transcribed in a shared window."""


class RequestBatcher:
    """Decodes windows of concurrent requests together on background threads.

    Args:
        spec: The faster-whisper model; held in the model manager for each batch.
        max_batch: See :class:`BatcherOptions`.
        max_wait_ms: See :class:`BatcherOptions`.
        short_clips: See :class:`BatcherOptions`.
        share_windows: See :class:`BatcherOptions`.
        alone: See :class:`BatcherOptions`.
        decoders: See :class:`BatcherOptions`.
        options: All of the above at once (the keywords are ignored when given).

    Raises:
        InvalidOptionError: An option is out of range, or ``spec`` is not faster-whisper.
    """

    def __init__(self, spec: ModelSpec, *, max_batch: int = 8, max_wait_ms: float = 20.0,
                 short_clips: str = "batched", share_windows: bool = True,
                 alone: str = "direct", decoders: int = 2,
                 options: BatcherOptions | None = None) -> None:
        if spec.engine != "faster-whisper":
            raise InvalidOptionError("request batching needs the faster-whisper engine, "
                                     f"not {spec.engine}")
        self.spec = spec
        self.options = options or BatcherOptions(max_batch, max_wait_ms, short_clips,
                                                 share_windows, alone, decoders)
        self._queue: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        #: Held by the decoder that is taking requests from the queue: one batch forms at a
        #: time, as with one decoder, and the next decoder free forms the next.
        self._gathering = threading.Lock()
        self._closed = False
        #: Decoder threads at work (changed under the lock; read without it as a hint).
        self._active = 0
        self._counts = dict.fromkeys(
            ("requests", "batched_requests", "direct_requests", "alone_requests", "batches",
             "windows",
             "largest_batch", "most_requests_in_batch", "fallback_windows", "shared_windows",
             "shared_requests"), 0)
        # Requests the batched path cannot honour run here, so a long one does not stall
        # the batches; one worker, since the decoders already use every core.
        self._direct = ThreadPoolExecutor(max_workers=1, thread_name_prefix="earful-direct")
        self._threads = [
            threading.Thread(target=self._run, name=f"earful-batcher-{i}", daemon=True)
            for i in range(self.options.decoders)]
        for thread in self._threads:
            thread.start()

    # -- public API ---------------------------------------------------------------------

    def submit(self, audio: np.ndarray, opts: TranscribeOptions | None = None
               ) -> Future[Transcript]:
        """Queue mono 16 kHz float32 audio for transcription.

        Returns:
            A future that holds the transcript, or the exception that failed this request
            (an invalid option, unusable audio, a decoding error); other requests are not
            affected. Cancelling it before it finishes drops the request's remaining work.

        Raises:
            RuntimeError: The batcher is closed.
        """
        opts = opts or TranscribeOptions()
        future: Future[Transcript] = Future()
        self._check_open()
        req: Request | None = None
        reason: str | None = None
        try:
            opts.check_for(self.spec)
            samples = _mono(audio)
            duration = len(samples) / SAMPLE_RATE
            reason = unbatchable(opts, duration)
            if reason is None and self.options.short_clips == "direct" \
                    and duration <= opts.single_segment_seconds:
                reason = "short clip"
            if reason is None:
                req = Request(samples, opts, future)
                if self._active:
                    # VAD here, in the caller's thread, overlaps the batch being decoded
                    # instead of holding up the next one. On an idle batcher it is left to
                    # the batcher: a clip that stays alone is decoded by transcribe(),
                    # which runs its own VAD.
                    find_speech(req)
        except Exception as e:  # the request's own failure, in its future
            with self._lock:
                self._count("requests")
            future.set_exception(e)
            return future
        with self._lock:
            self._check_open()
            self._count("requests")
            if req is None:
                logger.debug("request goes through transcribe(): %s", reason)
                self._count("direct_requests")
                self._chain(future, self._direct.submit(_transcribe, samples, opts, self.spec))
            else:
                self._count("batched_requests")
                self._queue.put(req)
        return future

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the request batcher is closed")

    def transcribe(self, audio: np.ndarray, opts: TranscribeOptions | None = None) -> Transcript:
        """Submit and wait: the blocking form of :meth:`submit`."""
        return self.submit(audio, opts).result()

    @property
    def stats(self) -> BatcherStats:
        """Counts of requests, batches and windows so far."""
        with self._lock:
            return BatcherStats(**self._counts)

    def close(self) -> None:
        """Finish all queued work, then stop the background threads. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)  # after every request already queued
        for thread in self._threads:
            thread.join()
        self._direct.shutdown(wait=True)

    def __enter__(self) -> RequestBatcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the background thread ---------------------------------------------------------

    def _run(self) -> None:
        # One decoder. The windows a request is cut into (and their follow-ups) stay with
        # the decoder that took the request, so no request is shared between threads.
        pending: list[Window] = []
        stopping = False
        while not stopping or pending:
            arrived, stopping = self._gather(pending, stopping)
            if not arrived and not pending:
                continue
            with self._lock:
                self._active += 1
            try:
                self._step(arrived, pending)
            except Exception as e:  # e.g. the model failed to load
                logger.exception("request batcher step failed")
                for req in {id(w.request): w.request for w in pending}.values():
                    _fail(req, e)
                for req in arrived:
                    _fail(req, e)
                pending.clear()
            finally:
                with self._lock:
                    self._active -= 1

    def _gather(self, pending: list[Window], stopping: bool) -> tuple[list[Request], bool]:
        """Take what has arrived. With no work, block for a first request and then wait up
        to ``max_wait_ms`` for others to join it; with leftover windows, wait for nobody
        (not even for another decoder that is gathering). Stop taking once a batch's worth
        of windows is in hand."""
        if not self._gathering.acquire(blocking=not pending and not stopping):
            return [], stopping
        try:
            return self._take(pending, stopping)
        finally:
            self._gathering.release()

    def _take(self, pending: list[Window], stopping: bool) -> tuple[list[Request], bool]:
        arrived: list[Request] = []
        idle = not pending and not stopping
        deadline: float | None = None
        while self._windows_in_hand(pending, arrived) < self.options.max_batch:
            try:
                if idle and not arrived and not stopping:
                    item = self._queue.get()
                elif deadline is not None and not stopping:
                    item = self._queue.get(timeout=max(deadline - time.monotonic(), 0.0))
                else:
                    item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:  # close(): everything queued before it is already taken
                self._queue.put(None)  # for the other decoders
                stopping = True
                break
            if idle and deadline is None:
                deadline = time.monotonic() + self.options.max_wait_ms / 1000
            arrived.append(item)
        return arrived, stopping

    def _windows_in_hand(self, pending: list[Window], arrived: list[Request]) -> float:
        # Before VAD an arrival's windows are unknown: one per started 30 s is close enough,
        # and a clip that may share a window takes its share of one.
        def windows(req: Request) -> float:
            seconds = len(req.audio) / SAMPLE_RATE
            if self.options.share_windows and may_share(req.opts, seconds) \
                    and seconds <= PACK_MAX_SECONDS:
                return (seconds + GAP_SECONDS) / FILL_SECONDS
            return 1 + seconds // WINDOW_SECONDS

        return len(pending) + sum(windows(r) for r in arrived)

    def _step(self, arrived: list[Request], pending: list[Window]) -> None:
        from earful.asr.engines import use_model

        if self.options.alone == "direct" and not pending and len(arrived) == 1 \
                and len(arrived[0].audio) <= WINDOW_SECONDS * SAMPLE_RATE \
                and self._active == 1:  # no other decoder at work: it may take every core
            self._decode_alone(arrived[0])
            return

        # Held for the whole step so the model manager cannot unload it mid-batch.
        with use_model(self.spec, self.options.decoders) as model:
            for req in arrived:
                try:
                    prepare(model, req)
                except Exception as e:  # fails this request only
                    _fail(req, e)
                    continue
                if not req.windows:  # no speech at all
                    self._finish(req)
                pending.extend(req.windows)
            # Windows of a request that failed meanwhile need no decoding.
            pending[:] = [w for w in pending if not w.request.future.done()]
            if not pending:
                return
            # Oldest window first; it decides the call's settings, and compatible windows
            # of any request (in arrival order) fill the rest of the batch. Windows that may
            # share a Whisper window with others' do so when they have company.
            if self.options.share_windows and can_share(pending[0]):
                mates = [w for w in pending
                         if can_share(w) and w.pack_key == pending[0].pack_key]
                if len(mates) > 1:
                    groups = group(mates, self.options.max_batch)
                    chosen = {id(w) for g in groups for w in g.windows}
                    pending[:] = [w for w in pending if id(w) not in chosen]
                    self._decode_shared(model, groups, pending)
                    return
            key = pending[0].key
            batch = [w for w in pending if w.key == key][:self.options.max_batch]
            chosen = {id(w) for w in batch}
            pending[:] = [w for w in pending if id(w) not in chosen]
            self._decode(model, batch, pending)

    def _decode_alone(self, req: Request) -> None:
        # A request its caller cancelled while it waited for company is dropped, and one
        # that starts can no longer be cancelled (as with an executor's futures).
        if not req.future.set_running_or_notify_cancel():
            return
        with self._lock:
            self._counts["alone_requests"] += 1
        try:
            result = _transcribe(req.audio, req.opts, self.spec)
        except Exception as e:  # this request's own failure
            logger.warning("a request decoded alone failed", exc_info=True)
            _fail(req, e)
            return
        _settle(req.future, result=result)

    def _decode(self, model: Any, batch: list[Window], pending: list[Window]) -> None:
        try:
            follow = decode_batch(model, batch)
            decoded = batch
        except Exception:  # find the window at fault: decode one by one
            logger.exception("batched decode of %d windows failed; retrying one by one",
                             len(batch))
            decoded, follow = [], []
            for window in batch:
                try:
                    follow += decode_batch(model, [window])
                    decoded.append(window)
                except Exception as e:
                    _fail(window.request, e)
        # The rest of windows Whisper left unfinished is the oldest work: it goes first.
        for window, rest in follow:
            attach(window, rest)
        pending[:0] = [rest for _, rest in follow]
        requests = {id(w.request) for w in batch}
        with self._lock:
            self._counts["batches"] += 1
            self._counts["windows"] += len(batch)
            self._counts["largest_batch"] = max(self._counts["largest_batch"], len(batch))
            self._counts["most_requests_in_batch"] = max(self._counts["most_requests_in_batch"],
                                                         len(requests))
        for window in decoded:
            window.request.pending -= 1
            if window.request.pending == 0:
                self._finish(window.request)

    def _decode_shared(self, model: Any, groups: list[Shared], pending: list[Window]) -> None:
        windows = [w for g in groups for w in g.windows]
        try:
            again = decode_shared(model, groups)
        except Exception:  # decode them alone, where a fault is found window by window
            logger.exception("shared decode of %d windows failed; decoding them alone",
                             len(windows))
            for window in windows:
                window.pack_tries = MAX_TRIES
            again = windows
        # Left-over windows are the oldest work: they go first.
        pending[:0] = again
        retried = {id(w) for w in again}
        with self._lock:
            self._counts["batches"] += 1
            self._counts["windows"] += len(groups)
            self._counts["shared_windows"] += len(groups)
            self._counts["shared_requests"] += len(windows) - len(again)
            self._counts["largest_batch"] = max(self._counts["largest_batch"], len(groups))
            self._counts["most_requests_in_batch"] = max(
                self._counts["most_requests_in_batch"], len(windows))
        for window in windows:
            if id(window) in retried:
                continue
            window.request.pending -= 1
            if window.request.pending == 0:
                self._finish(window.request)

    def _finish(self, req: Request) -> None:
        if req.future.done():
            return
        try:
            result = assemble(req, self.spec)
        except Exception as e:
            _fail(req, e)
            return
        with self._lock:
            self._counts["fallback_windows"] += sum(w.fallback for w in req.windows)
        _settle(req.future, result=result)

    def _count(self, name: str) -> None:
        self._counts[name] += 1

    @staticmethod
    def _chain(target: Future[Transcript], source: Future[Transcript]) -> None:
        def copy(done: Future[Transcript]) -> None:
            error = done.exception()
            _settle(target, error=error, result=None if error else done.result())
        source.add_done_callback(copy)


def _transcribe(audio: np.ndarray, opts: TranscribeOptions, spec: ModelSpec) -> Transcript:
    from earful.asr.transcribe import transcribe

    return transcribe(audio, opts, spec)


def _mono(audio: np.ndarray) -> np.ndarray:
    array = np.asarray(audio)
    if array.ndim != 1:
        raise InvalidOptionError(f"audio must be one channel of samples, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise InvalidOptionError(f"audio must be float samples, got {array.dtype}")
    return array.astype(np.float32, copy=False)


def _fail(req: Request, error: BaseException) -> None:
    _settle(req.future, error=error)


def _settle(future: Future[Transcript], *, result: Transcript | None = None,
            error: BaseException | None = None) -> None:
    """Set a future's outcome unless its caller cancelled it (then nobody wants it)."""
    try:
        if error is not None:
            future.set_exception(error)
        elif result is not None:
            future.set_result(result)
    except InvalidStateError:
        logger.debug("request was cancelled before it finished")

