"""What the routes call: validation, ASR and classification, run in the inference pool."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from earful.asr.languages import language_code
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Transcript
from earful.audio.constants import SAMPLE_RATE
from earful.audio.io import decode
from earful.config import Settings
from earful.errors import AudioTooLongError, InvalidOptionError, NotFoundError
from earful.models import manager
from earful.service.jobs import InferencePool
from earful.service.metrics import Metrics
from earful.service.outputs import OutputStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """An upload that decoded cleanly, and its duration."""

    path: Path
    duration: float


class Service:
    """Per-app state: settings turned into library arguments, the inference pool, metrics."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tts = settings.tts_config()
        self.pool = InferencePool(settings.workers, settings.queue_size)
        self.metrics = Metrics(lambda: self.pool.queued, lambda: self.pool.inflight)
        self.outputs = OutputStore(settings.output_dir, settings.output_max_age_hours * 3600,
                                   int(settings.output_max_total_mb * 1_000_000))

    def start(self) -> None:
        """Make sure a live pool exists (an app's lifespan may run more than once) and
        give the model manager this service's time-to-live and cap."""
        if self.pool.closed:
            self.pool = InferencePool(self.settings.workers, self.settings.queue_size)
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

    def asr_spec(self, model: str | None = None) -> ModelSpec:
        """The spec of a model clients may ask for (by name from the allowed list, never a
        path); default the configured model."""
        name = model or self.settings.asr_model
        if name not in self.settings.asr_models:
            raise InvalidOptionError(f"unknown model '{name[:60]}'; available: "
                                     f"{', '.join(self.settings.asr_models)}")
        return self.settings.asr_spec(name)

    def asr_request(self, model: str | None, language: str | None, word_timestamps: bool,
                    prompt: str | None = None) -> tuple[TranscribeOptions, ModelSpec]:
        """Options and model for a request, checked together before any upload is read:
        an unknown model or language, or one the model cannot speak, fails here."""
        spec = self.asr_spec(model)
        if prompt is not None and len(prompt) > 1000:
            raise InvalidOptionError("prompt is longer than 1000 characters")
        opts = TranscribeOptions(language=language_code(language),
                                 word_timestamps=word_timestamps,
                                 initial_prompt=prompt or None)
        opts.check_for(spec)
        return opts, spec

    def check_audio(self, path: Path, name: str) -> Checked:
        """Decode once to prove the file is audio and within the duration limit."""
        audio = decode(path, SAMPLE_RATE, name=name)
        if audio.duration > self.settings.max_audio_seconds:
            raise AudioTooLongError(audio.duration, self.settings.max_audio_seconds)
        return Checked(path, audio.duration)

    async def transcribe(self, checked: Checked, opts: TranscribeOptions,
                         spec: ModelSpec) -> tuple[Transcript, float]:
        """Transcribe in the pool; returns the transcript and the processing time."""
        from earful.asr.transcribe import transcribe_file

        start = time.perf_counter()
        result = await self.pool.run(transcribe_file, checked.path, opts, spec,
                                     timeout=self.timeout_for(checked.duration))
        return result, time.perf_counter() - start

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
        result = await self.pool.run(work, timeout=self.timeout_for(checked.duration))
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

        get_model(self.asr_spec(), pin=True)
        try:
            get_classifier(self.settings.classify_model, pin=True)
        except Exception as e:
            logger.warning("classifier not loaded: %s", e)
