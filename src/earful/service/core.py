"""What the routes call: validation, ASR and classification, run in the inference pool."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earful.asr.options import TranscribeOptions
from earful.asr.result import Transcript
from earful.audio.io import decode
from earful.config import Settings
from earful.errors import AudioTooLongError, InvalidOptionError
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
    """Per-app state: settings, the inference pool and metrics."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = InferencePool(settings.workers, settings.queue_size)
        self.metrics = Metrics(lambda: self.pool.queued, lambda: self.pool.inflight)
        self.outputs = OutputStore(settings.output_dir, settings.output_max_age_hours * 3600,
                                   int(settings.output_max_total_mb * 1_000_000))

    def start(self) -> None:
        """Make sure a live pool exists (an app's lifespan may run more than once)."""
        if self.pool.closed:
            self.pool = InferencePool(self.settings.workers, self.settings.queue_size)

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.settings.max_upload_mb * 1_000_000)

    def timeout_for(self, seconds_of_audio: float) -> float:
        """A request's time budget, growing with its audio's duration."""
        s = self.settings
        return s.timeout_base_seconds + s.timeout_per_audio_second * seconds_of_audio

    def asr_options(self, model: str | None, language: str | None, word_timestamps: bool,
                    prompt: str | None = None) -> TranscribeOptions:
        """Options for a request; the model must be one the settings allow (never a path)."""
        s = self.settings
        name = model or s.asr_model
        if name not in s.asr_models:
            raise InvalidOptionError(f"unknown model '{name}'; available: "
                                     f"{', '.join(s.asr_models)}")
        if prompt is not None and len(prompt) > 1000:
            raise InvalidOptionError("prompt is longer than 1000 characters")
        return TranscribeOptions.from_settings(s, model=name, language=language or None,
                                               word_timestamps=word_timestamps,
                                               initial_prompt=prompt or None)

    def check_audio(self, path: Path, name: str) -> Checked:
        """Decode once to prove the file is audio and within the duration limit."""
        audio = decode(path, 16000, name=name)
        if audio.duration > self.settings.max_audio_seconds:
            raise AudioTooLongError(audio.duration, self.settings.max_audio_seconds)
        return Checked(path, audio.duration)

    async def transcribe(self, checked: Checked, opts: TranscribeOptions) -> tuple[Transcript,
                                                                                   float]:
        """Transcribe in the pool; returns the transcript and the processing time."""
        from earful.asr.transcribe import transcribe_file

        start = time.perf_counter()
        result = await self.pool.run(transcribe_file, checked.path, opts,
                                     timeout=self.timeout_for(checked.duration))
        return result, time.perf_counter() - start

    async def classify(self, checked: Checked, top_k: int) -> tuple[Any, float]:
        """Classify in the pool with the configured (or shipped) keyword model."""
        from earful.audio.io import load_audio
        from earful.classify.inference import get_classifier

        def work() -> Any:
            clf = get_classifier(self.settings.classify_model)
            return clf.classify(load_audio(checked.path, clf.features.sample_rate), top_k)

        start = time.perf_counter()
        result = await self.pool.run(work, timeout=self.timeout_for(checked.duration))
        return result, time.perf_counter() - start

    def preload(self) -> None:
        """Load the default models now rather than on the first request."""
        from earful.asr.engines import get_model
        from earful.classify.inference import get_classifier

        get_model(self.asr_options(None, None, False))
        try:
            get_classifier(self.settings.classify_model)
        except Exception as e:
            logger.warning("classifier not loaded: %s", e)
