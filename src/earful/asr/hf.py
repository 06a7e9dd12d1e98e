"""The Hugging Face transformers engine: Whisper and Wav2Vec2 CTC checkpoints.

Models are given by hub id (downloaded on first use, which needs internet) or by a local
folder written with ``save_pretrained``. The bundled names ``tiny.en`` and ``base`` map to
the matching ``openai/whisper-*`` hub ids here, because the bundled copies are CTranslate2
conversions that only faster-whisper reads.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Segment, Transcript, Word
from earful.audio.constants import SAMPLE_RATE
from earful.errors import DependencyMissingError, InvalidOptionError, ModelNotAvailableError
from earful.models import manager

logger = logging.getLogger(__name__)
HUB_ALIASES = {name: f"openai/whisper-{name}" for name in
               ("tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "large-v3")}


def load_transformers_pipeline(model: str, device: str = "cpu") -> Any:
    """Build an ``automatic-speech-recognition`` pipeline for ``model``."""
    try:
        from transformers import pipeline
    except ImportError as e:
        raise DependencyMissingError("transformers", "transformers",
                                     "the transformers engine") from e
    try:
        return pipeline("automatic-speech-recognition", model=model,
                        device=0 if device == "cuda" else -1)
    except Exception as e:
        raise ModelNotAvailableError(
            f"cannot load transformers model '{model}': {e}. Give a local folder written by "
            "save_pretrained, or a hub id (needs internet on first use)") from e


def _span(ts: Any, duration: float) -> tuple[float, float]:
    start, end = ts if ts is not None else (0.0, duration)
    start = 0.0 if start is None else float(start)
    end = duration if end is None else float(end)
    return round(min(start, duration), 3), round(min(max(end, start), duration), 3)


def transcribe_transformers(audio: np.ndarray, opts: TranscribeOptions,
                            spec: ModelSpec) -> Transcript:
    """Transcribe 16 kHz audio with a transformers pipeline (chunked for long audio).

    Raises:
        InvalidOptionError: An option the engine cannot honour (``opts.check_for``), or a
            language, task or beam asked of a CTC model, which has none of them.
    """
    opts.check_for(spec)
    model_id = HUB_ALIASES.get(spec.name, spec.name)
    label = Path(spec.name.rstrip("/")).name or spec.name
    with manager.use("asr.transformers", label=label, model=model_id,
                     device=spec.device) as pipe:
        return _run(pipe, audio, opts, label)


def _run(pipe: Any, audio: np.ndarray, opts: TranscribeOptions, label: str) -> Transcript:
    duration = len(audio) / SAMPLE_RATE
    is_whisper = getattr(pipe.model.config, "model_type", "") == "whisper"
    kwargs: dict[str, Any] = {"batch_size": opts.batch_size}
    if is_whisper:
        # No chunk_length_s: Whisper's own sequential long-form decoding (timestamps on) is
        # what transformers recommends over the experimental chunked mode for seq2seq.
        kwargs["return_timestamps"] = "word" if opts.word_timestamps else True
        gen: dict[str, Any] = {"num_beams": opts.beam_size}
        if opts.repetition_penalty != 1.0:
            gen["repetition_penalty"] = opts.repetition_penalty
        if getattr(pipe.model.generation_config, "is_multilingual", False):
            gen["task"] = opts.task
            if opts.language:
                gen["language"] = opts.language
        kwargs["generate_kwargs"] = gen
    else:
        if opts.language not in (None, "en") or opts.task != "transcribe" or \
                opts.beam_size != TranscribeOptions.beam_size:
            raise InvalidOptionError("a CTC model has no language, task or beam options; "
                                     "leave them at their defaults")
        kwargs["chunk_length_s"] = 30  # CTC chunks cleanly with overlapping strides
        kwargs["return_timestamps"] = "word"  # and gives word times for free
    out = pipe({"raw": audio.astype(np.float32), "sampling_rate": SAMPLE_RATE}, **kwargs)
    chunks = out.get("chunks") or []
    if kwargs["return_timestamps"] == "word":
        words = [Word(*_span(c.get("timestamp"), duration), c["text"], 1.0) for c in chunks]
        segments = [Segment(0, 0.0, round(duration, 3), out["text"].strip(),
                            words=words if opts.word_timestamps else None)]
    else:
        segments = [Segment(i, *_span(c.get("timestamp"), duration), c["text"].strip())
                    for i, c in enumerate(chunks)]
    segments = [s for s in segments if s.text]
    return Transcript(
        text=out["text"].strip(),
        language=opts.language,
        language_probability=None,
        duration=round(duration, 3),
        segments=segments,
        model=label,
        engine="transformers",
    )
