"""What the routes call: validation, ASR and classification, run in the inference pool."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from earful.asr.languages import language_code
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Segment, Transcript
from earful.audio.probe import probe_audio
from earful.config import Settings
from earful.errors import InvalidOptionError, NotFoundError
from earful.models import manager
from earful.service.jobs import InferencePool
from earful.service.metrics import Metrics
from earful.service.outputs import OutputStore

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Checked:
    """An upload that decoded cleanly, and its duration."""

    path: Path
    duration: float
    truncated: bool = False
    """Its header claimed more audio than it holds (what is there was used)."""


class Service:
    """Per-app state: settings turned into library arguments, the inference pool, metrics."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tts = settings.tts_config()
        self.realtime_sessions = 0
        """Open realtime sessions (changed only on the event loop)."""
        self.active_requests = 0
        """HTTP requests under way (changed only on the event loop)."""
        self.draining = False
        """Stopping: new requests get 503 while those under way finish."""
        self.pool = InferencePool(settings.workers, settings.queue_size)
        self.asr_pool = self._asr_pool()
        """Where transcriptions run: with ``asr_batching``, a pool as wide as a batch, whose
        jobs feed the request batcher; otherwise the inference pool itself."""
        self._batchers: dict[ModelSpec, Any] = {}
        self._batchers_lock = threading.Lock()
        self.metrics = Metrics(lambda: self._pools(lambda p: p.queued),
                               lambda: self._pools(lambda p: p.inflight))
        self.outputs = OutputStore(settings.output_dir, settings.output_max_age_hours * 3600,
                                   int(settings.output_max_total_mb * 1_000_000))

    def _asr_pool(self) -> InferencePool:
        s = self.settings
        # Each decoder of the batcher holds up to a batch.
        width = s.asr_batch_size * s.asr_decoders
        return InferencePool(width, s.queue_size) if s.asr_batching else self.pool

    def _pools(self, measure: Callable[[InferencePool], int]) -> int:
        return measure(self.pool) + (measure(self.asr_pool) if self.asr_pool is not self.pool
                                     else 0)

    @property
    def inflight(self) -> int:
        """Jobs running or waiting in the service's pools."""
        return self._pools(lambda p: p.inflight)

    def batcher(self, spec: ModelSpec) -> Any:
        """The request batcher of a faster-whisper model (made on first use), or ``None``
        when batching is off or the engine has none."""
        if not self.settings.asr_batching or spec.engine != "faster-whisper":
            return None
        from earful.asr.batcher import RequestBatcher

        with self._batchers_lock:
            if spec not in self._batchers:
                self._batchers[spec] = RequestBatcher(
                    spec, max_batch=self.settings.asr_batch_size,
                    decoders=self.settings.asr_decoders,
                    share_windows=self.settings.asr_share_windows)
            return self._batchers[spec]

    def shutdown(self) -> None:
        """Finish the work under way and stop the pools and batchers."""
        self.pool.shutdown()
        if self.asr_pool is not self.pool:
            self.asr_pool.shutdown()
        with self._batchers_lock:
            batchers, self._batchers = list(self._batchers.values()), {}
        for batcher in batchers:
            batcher.close()

    def drain(self) -> None:
        """Refuse new requests from now on (503); requests under way go on to the end."""
        self.draining = True

    def start(self) -> None:
        """Make sure a live pool exists (an app's lifespan may run more than once) and
        give the model manager this service's time-to-live and cap."""
        if self.pool.closed:
            self.pool = InferencePool(self.settings.workers, self.settings.queue_size)
        if self.asr_pool.closed:
            self.asr_pool = self._asr_pool()
        manager.configure(ttl_seconds=self.settings.model_ttl_seconds,
                          max_loaded=self.settings.max_loaded_models)

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.settings.max_upload_mb * 1_000_000)

    def timeout_for(self, seconds_of_audio: float) -> float:
        """A request's time budget, growing with its audio's duration."""
        s = self.settings
        return s.timeout_base_seconds + s.timeout_per_audio_second * seconds_of_audio

    def asr_names(self) -> dict[str, str]:
        """Public name -> configured model for every model clients may ask for (a model
        configured as a folder is offered by the folder's name, never its path)."""
        from earful.asr.engines import model_label

        return {model_label(ModelSpec(name=m)): m for m in self.settings.asr_models}

    def asr_spec(self, model: str | None = None) -> ModelSpec:
        """The spec of a model clients may ask for (by its public name, never a path);
        default the configured model."""
        if model is None:
            return self.settings.asr_spec()
        names = self.asr_names()
        if model not in names:
            raise InvalidOptionError(f"unknown model '{model[:60]}'; available: "
                                     f"{', '.join(names)}")
        return self.settings.asr_spec(names[model])

    def asr_request(self, model: str | None, language: str | None, word_timestamps: bool,
                    prompt: str | None = None,
                    task: str = "transcribe") -> tuple[TranscribeOptions, ModelSpec]:
        """Options and model for a request, checked together before any upload is read:
        an unknown model or language, or one the model cannot speak, fails here."""
        spec = self.asr_spec(model)
        if prompt is not None and len(prompt) > 1000:
            raise InvalidOptionError("prompt is longer than 1000 characters")
        opts = TranscribeOptions(language=language_code(language), task=task,
                                 word_timestamps=word_timestamps,
                                 initial_prompt=prompt or None)
        opts.check_for(spec)
        return opts, spec

    def check_audio(self, path: Path, name: str, max_seconds: float | None = None) -> Checked:
        """Prove the file is audio within the duration limit (default the settings'),
        decoding it as a stream that stops at the limit: no upload makes the server hold
        more than a block of audio, whatever its header claims."""
        probe = probe_audio(path, max_seconds or self.settings.max_audio_seconds, name=name)
        return Checked(path, probe.duration, probe.truncated)

    async def transcribe(self, checked: Checked, opts: TranscribeOptions,
                         spec: ModelSpec) -> tuple[Transcript, float]:
        """Transcribe in the pool; returns the transcript and the processing time."""
        from earful.asr.transcribe import transcribe_file

        start = time.perf_counter()
        batcher = self.batcher(spec)
        if batcher is None:
            result = await self.pool.run(transcribe_file, checked.path, opts, spec,
                                         timeout=self.timeout_for(checked.duration),
                                         work=checked.duration)
        else:
            result = await self.asr_pool.run(
                partial(transcribe_file, transcriber=lambda audio, o, _: batcher.transcribe(
                    audio, o)), checked.path, opts, spec,
                timeout=self.timeout_for(checked.duration), work=checked.duration)
        return result, time.perf_counter() - start

    def stream_job(self, produce: Callable[[threading.Event], Iterator[T]], *,
                   timeout: float, work: float, setup: float = 0.0) -> AsyncIterator[T]:
        """Admit a job that produces items now (raising at once if it is refused) and
        return the items as the pool's thread makes them. Closing the iterator early (a
        client gone) sets the event ``produce`` gets, and it stops at its next item."""
        def run(emit: Callable[[T], None], stop: threading.Event) -> None:
            for item in produce(stop):
                if stop.is_set():
                    return
                emit(item)

        return self.stream_reports(run, timeout=timeout, work=work, setup=setup)

    def stream_reports(self, run: Callable[[Callable[[T], None], threading.Event], None], *,
                       timeout: float, work: float, setup: float = 0.0) -> AsyncIterator[T]:
        """:meth:`stream_job` for a job that reports items through a callback rather than
        yielding them (one whose library call takes a progress callback).

        ``run(emit, stop)`` runs in the pool; each ``emit(item)`` is sent on at once. Closing
        the iterator early sets ``stop`` (later items are dropped): ``run`` should check it
        wherever it can stop, and return.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[T] | None] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: T) -> None:
            if not stop.is_set():
                loop.call_soon_threadsafe(queue.put_nowait, (item,))

        def job() -> None:
            try:
                run(emit, stop)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        waiter = self.pool.start(job, timeout=timeout, work=work, setup=setup)

        async def items() -> AsyncIterator[T]:
            task = asyncio.ensure_future(waiter)
            # Retrieved here so an early-closed stream leaves no "never retrieved" warning.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            try:
                while (item := await queue.get()) is not None:
                    yield item[0]
                await task  # a failure in the job surfaces here
            finally:
                stop.set()

        return items()

    def stream_transcript(self, checked: Checked, opts: TranscribeOptions,
                          spec: ModelSpec) -> AsyncIterator[Segment]:
        """Admit a transcription now and return its segments as they are decoded."""
        from earful.asr.streaming import stream_file

        return self.stream_job(lambda stop: stream_file(checked.path, opts, spec, stop),
                               timeout=self.timeout_for(checked.duration),
                               work=checked.duration)

    @property
    def classifier_name(self) -> str:
        """The keyword model's public name (never its path)."""
        from earful.classify.inference import model_name

        return model_name(self.settings.classify_model)

    async def classify(self, checked: Checked, top_k: int) -> tuple[Any, float]:
        """Classify in the pool with the configured (or shipped) keyword model."""
        from earful.audio.io import load_audio
        from earful.classify.inference import use_classifier

        def work() -> Any:
            with use_classifier(self.settings.classify_model) as clf:
                audio = load_audio(checked.path, clf.features.sample_rate)
                return clf.classify(audio, top_k, encoder_base=self.settings.asr_spec())

        start = time.perf_counter()
        # Scoring windows costs about a tenth of transcribing the same audio.
        result = await self.pool.run(work, timeout=self.timeout_for(checked.duration),
                                     work=checked.duration / 10)
        return result, time.perf_counter() - start

    def loadable(self) -> dict[str, Callable[[], Any]]:
        """Models a client may load by id (``POST /models/{id}/load``): the allowed ASR
        models, the keyword model, the Piper voices and the speaker encoder."""
        from earful.asr.engines import get_model, model_label
        from earful.classify.inference import get_classifier
        from earful.tts.piper_engine import piper_voices

        out: dict[str, Callable[[], Any]] = {}
        for name in self.settings.asr_models:
            spec = self.settings.asr_spec(name)
            if spec.engine == "faster-whisper":
                out[f"asr.faster-whisper:{model_label(spec)}"] = partial(get_model, spec)
        out[f"classify:{self.classifier_name}"] = partial(get_classifier,
                                                          self.settings.classify_model)
        for voice in piper_voices(self.tts.voices_dir).values():
            out[f"tts.piper:{voice.name}"] = partial(
                manager.get, "tts.piper", label=voice.name, name=voice.name,
                voices_dir=str(self.tts.voices_dir) if self.tts.voices_dir else None)
        out["speaker-encoder:resemblyzer"] = partial(
            manager.get, "speaker-encoder", label="resemblyzer", device="cpu")
        return out

    def load(self, model_id: str) -> None:
        """Load a model by its id (see :meth:`loadable`)."""
        loader = self.loadable().get(model_id)
        if loader is None:
            raise NotFoundError(f"unknown model '{model_id[:80]}'; loadable: "
                                f"{', '.join(sorted(self.loadable()))}")
        loader()

    def preload(self) -> None:
        """Load the default models now rather than on the first request; they are pinned
        (never unloaded for idling)."""
        from earful.asr.engines import get_model
        from earful.classify.inference import get_classifier

        spec = self.asr_spec()
        get_model(spec, pin=True)
        if self.settings.asr_batching and self.settings.asr_decoders > 1 \
                and spec.engine == "faster-whisper":
            # The batcher's decoders use a model with a replica each.
            get_model(spec, pin=True, replicas=self.settings.asr_decoders)
        try:
            get_classifier(self.settings.classify_model, pin=True)
        except Exception as e:
            logger.warning("classifier not loaded: %s", e)
        try:  # the default clone engine and tts-1-hd: its first sentence should not wait
            from earful.tts.synth import preload_kokoro

            preload_kokoro(self.tts)
        except Exception as e:
            logger.warning("Kokoro not loaded: %s", e)
