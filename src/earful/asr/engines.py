"""The faster-whisper engine: CTranslate2 Whisper with Silero VAD.

``load_faster_whisper`` is the model manager's loader; ``transcribe_faster_whisper`` turns
one array of 16 kHz audio into a :class:`~earful.asr.result.Transcript`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from earful.asr.guard import drop_hallucinations, pad_short, token_cap
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Segment, Transcript, Word
from earful.audio.constants import SAMPLE_RATE
from earful.errors import DependencyMissingError, ModelNotAvailableError
from earful.models import manager

logger = logging.getLogger(__name__)


def load_faster_whisper(model: str, device: str = "cpu", compute_type: str = "int8",
                        cpu_threads: int = 0, num_workers: int = 1) -> Any:
    """Load a faster-whisper model from a local folder or (with internet) the hub;
    ``num_workers`` replicas serve that many concurrent calls."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as e:
        raise DependencyMissingError("faster-whisper", "asr", "the faster-whisper engine") from e
    try:
        return WhisperModel(model, device=device, compute_type=compute_type,
                            cpu_threads=cpu_threads, num_workers=num_workers)
    except Exception as e:
        raise ModelNotAvailableError(
            f"cannot load faster-whisper model '{model}': {e}. Bundled models: tiny.en, base; "
            "any other name is downloaded from the Hugging Face hub, which needs internet "
            "(or pass a local CTranslate2 model folder)") from e


def model_params(spec: ModelSpec, replicas: int = 1) -> dict[str, Any]:
    """The model manager's parameters that identify the faster-whisper model of ``spec``.

    With ``replicas`` > 1 the model serves that many calls at once, each replica with an
    equal share of ``spec.cpu_threads`` (default: CTranslate2's own default of 4 threads, or
    fewer cores where the process may use fewer), at least one thread: the request
    batcher's decoders (:class:`~earful.asr.batcher.BatcherOptions`).
    """
    from earful.asr.bundled import resolve_model

    params = {"model": resolve_model(spec.name, spec.cache_root), "device": spec.device,
              "compute_type": spec.compute_type, "cpu_threads": spec.cpu_threads}
    if replicas > 1:
        params["num_workers"] = replicas
        threads = spec.cpu_threads or min(CT2_DEFAULT_THREADS, _cores())
        params["cpu_threads"] = max(1, threads // replicas)
    return params


#: The threads CTranslate2 gives a model loaded with ``cpu_threads=0``.
CT2_DEFAULT_THREADS = 4


def _cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def model_label(spec: ModelSpec) -> str:
    """The model's public name: a bundled name as given, a folder by its last part only."""
    return Path(spec.name.rstrip("/")).name or spec.name


def get_model(spec: ModelSpec, *, pin: bool = False, replicas: int = 1) -> Any:
    """The cached faster-whisper model of ``spec`` (loaded if needed; not held); see
    :func:`model_params` for ``replicas``."""
    return manager.get("asr.faster-whisper", label=_label(spec, replicas), pin=pin,
                       **model_params(spec, replicas))


def use_model(spec: ModelSpec, replicas: int = 1) -> contextlib.AbstractContextManager[Any]:
    """Hold the faster-whisper model of ``spec`` for a ``with`` block; see
    :func:`model_params` for ``replicas``."""
    return manager.use("asr.faster-whisper", label=_label(spec, replicas),
                       **model_params(spec, replicas))


def _label(spec: ModelSpec, replicas: int) -> str:
    # A model with replicas is a second entry in the manager beside the plain one.
    return model_label(spec) + (f"-x{replicas}" if replicas > 1 else "")


def _decode_kwargs(opts: TranscribeOptions) -> dict[str, Any]:
    return {
        "language": opts.language,
        "task": opts.task,
        "beam_size": opts.beam_size,
        "word_timestamps": opts.word_timestamps,
        "initial_prompt": opts.initial_prompt,
        "condition_on_previous_text": opts.condition_on_previous_text,
        "repetition_penalty": opts.repetition_penalty,
        "no_speech_threshold": opts.no_speech_threshold,
        "log_prob_threshold": opts.log_prob_threshold,
        "vad_filter": opts.engine_flag("vad"),
    }


def transcribe_faster_whisper(audio: np.ndarray, opts: TranscribeOptions,
                              spec: ModelSpec, model: Any | None = None) -> Transcript:
    """Transcribe mono 16 kHz float32 audio.

    Args:
        audio: The samples.
        opts: Decoding options.
        spec: The model; held in the model manager while decoding.
        model: A loaded ``WhisperModel`` to use instead of the manager's.

    Returns:
        The transcript, with times relative to the start of ``audio``.
    """
    if model is None:
        with use_model(spec) as held:
            return transcribe_faster_whisper(audio, opts, spec, held)
    raw_segments, info, offset, duration = start_decoding(audio, opts, model)
    segments = [convert_segment(i, s, offset, duration) for i, s in enumerate(raw_segments)]
    guard = opts.engine_flag("hallucination_guard")
    kept = drop_hallucinations(segments) if guard else segments
    return Transcript(
        text=" ".join(s.text for s in kept).strip(),
        language=info.language,
        language_probability=round(float(info.language_probability), 4),
        duration=round(duration, 3),
        segments=kept,
        model=model_label(spec),
        engine="faster-whisper",
        dropped_segments=len(segments) - len(kept),
    )


def start_decoding(audio: np.ndarray, opts: TranscribeOptions,
                   model: Any) -> tuple[Iterator[Any], Any, float, float]:
    """Start faster-whisper on 16 kHz audio: its lazy segment iterator (decoding happens as
    it is consumed), its info (language), the padding offset and the audio's duration."""
    duration = len(audio) / SAMPLE_RATE
    padded, offset = pad_short(audio, SAMPLE_RATE, opts.min_window_seconds)
    kwargs = _decode_kwargs(opts)
    kwargs["without_timestamps"] = duration <= opts.single_segment_seconds
    if kwargs["without_timestamps"]:
        kwargs["max_new_tokens"] = token_cap(duration)
    if opts.batch_size > 1:
        # The batched pipeline takes segment times from its VAD chunks and decodes without
        # timestamp tokens (its default); asking for them runs it in a slower, odd mode.
        kwargs["without_timestamps"] = True
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(model)
        raw_segments, info = pipeline.transcribe(padded, batch_size=opts.batch_size, **kwargs)
    else:
        raw_segments, info = model.transcribe(padded, **kwargs)
    return raw_segments, info, offset, duration


def _clamp(t: float, offset: float, duration: float) -> float:
    return round(min(max(float(t) - offset, 0.0), duration), 3)


def convert_segment(index: int, seg: Any, offset: float, duration: float) -> Segment:
    """A faster-whisper segment as earful's, times made relative to the unpadded audio."""
    words = None
    if seg.words is not None:
        words = [Word(_clamp(w.start, offset, duration), _clamp(w.end, offset, duration),
                      w.word, round(float(w.probability), 4)) for w in seg.words]
    return Segment(
        id=index,
        start=_clamp(seg.start, offset, duration),
        end=_clamp(seg.end, offset, duration),
        text=seg.text.strip(),
        avg_logprob=round(float(seg.avg_logprob), 4),
        no_speech_prob=round(float(seg.no_speech_prob), 4),
        compression_ratio=round(float(seg.compression_ratio), 4),
        words=words,
    )
