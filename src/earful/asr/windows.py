"""Requests cut into speech windows, decoded many at once, and put back together.

The pieces :class:`earful.asr.batcher.RequestBatcher` is built from, kept apart from its
threading. A request's audio is cut the way the unbatched path cuts it, so that batching
changes how windows are scheduled, not what is decoded:

* Silero VAD with faster-whisper's default settings (2 s of silence splits speech, 0.4 s of
  padding), plus a 30 s cap on one stretch so any stretch fits a Whisper window. For a clip
  with up to 30 s of speech this is exactly the audio ``WhisperModel.transcribe`` decodes.
* Stretches are packed into windows of at most 30 s (as faster-whisper's ``collect_chunks``),
  each decoded with timestamp tokens, as the unbatched path decodes. Whisper may stop before
  a window's speech ends (it leaves an utterance it thinks cut off for the next window, or
  just ends early; untimed, as ``BatchedInferencePipeline`` decodes, such a window loses its
  last words): the speech after its last closed segment becomes a follow-up window
  (:mod:`earful.asr.decoding`), as the unbatched path seeks on. A window is prompted with
  the initial prompt only if it is the request's first, matching "conditions the first
  window".
* Short clips get the unbatched path's treatment: centred in silence (``pad_short``),
  decoded untimed as one segment, and their output capped at a speaking rate
  (``token_cap``).

:mod:`earful.asr.decoding` decodes the windows; :func:`assemble` puts a request's back
together, skipping a window the model deems silent, as ``no_speech_threshold`` and
``log_prob_threshold`` say.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from earful.asr.guard import drop_hallucinations, pad_short, token_cap
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Segment, Transcript
from earful.audio.constants import SAMPLE_RATE

logger = logging.getLogger(__name__)

#: Whisper's window, in seconds.
WINDOW_SECONDS = 30.0

#: A request whose speech is at most this long (and more than ``single_segment_seconds``, in
#: one window, with no initial prompt) may share a window with other requests'.
PACK_MAX_SECONDS = 15.0

#: A generate call's settings that must be equal for all its windows: beam width,
#: repetition penalty, the position of the start-of-transcript token (CTranslate2 needs
#: it at the same place in every prompt, so a prompted window only joins prompts as long),
#: and whether it is decoded with timestamp tokens.
CallKey = tuple[int, float, int, bool]


def may_share(opts: TranscribeOptions, duration: float) -> bool:
    """Whether a clip of ``duration`` seconds may share a window with others' speech, as
    far as its options and length tell (see :mod:`earful.asr.packing`): longer than
    ``single_segment_seconds`` (shorter clips are decoded untimed, alone) and no initial
    prompt (it conditions one request). Its speech must also be at most
    :data:`PACK_MAX_SECONDS` long, which VAD tells."""
    return opts.single_segment_seconds < duration and not opts.initial_prompt


def unbatchable(opts: TranscribeOptions, duration: float) -> str | None:
    """Why a request cannot be decoded in shared batches, or ``None`` if it can.

    Word timestamps need the cross-attention of each window and a per-request time state;
    without VAD a clip longer than one window has no speech stretches to cut it at; a window
    conditioned on the text before it cannot be decoded before that text is known.
    """
    if opts.word_timestamps:
        return "word timestamps"
    if opts.condition_on_previous_text and duration > WINDOW_SECONDS:
        return "conditioning on previous text"
    if not opts.engine_flag("vad") and duration > WINDOW_SECONDS:
        return "VAD off on audio longer than one window"
    return None


@dataclass(eq=False)
class Window:
    """Up to 30 s of one request's speech, and its decoding once done."""

    request: Request
    features: np.ndarray
    """Log-mel features padded to one Whisper window."""
    prompt: list[int]
    max_new_tokens: int | None
    """The short-clip token cap, or ``None`` for the model's maximum."""
    key: CallKey
    tokens: list[int] = field(default_factory=list)
    """The text tokens decoded (no timestamp tokens)."""
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    fallback: bool = False
    """Whether it was decoded again alone with temperature fallback."""
    audio: np.ndarray | None = None
    """The window's speech, kept while it may still share a window with other requests'
    (see :mod:`earful.asr.packing`); ``None`` once it cannot."""
    stretches: list[tuple[int, int]] = field(default_factory=list)
    """The speech stretches the window is made of, in samples of the (padded) request; its
    :attr:`start` and :attr:`end` come from them."""
    pack_key: tuple[Any, ...] | None = None
    """Windows with equal keys may share a window; ``None``: this one may not."""
    pack_tries: int = 0
    """Shared windows it has been in without getting a complete transcript."""
    pieces: list[tuple[float, float, list[int]]] | None = None
    """Timed segments (seconds on the window's speech); ``None`` for a short clip decoded
    as one untimed segment."""

    @property
    def timed(self) -> bool:
        """Whether it is decoded with timestamp tokens."""
        return self.key[3]

    @property
    def start(self) -> float:
        """Where the window's speech starts in the (padded) request audio, seconds."""
        return self.stretches[0][0] / SAMPLE_RATE

    @property
    def end(self) -> float:
        """Where the window's speech ends in the (padded) request audio, seconds."""
        return self.stretches[-1][1] / SAMPLE_RATE


@dataclass(eq=False)
class Request:
    """One submitted clip on its way through the batcher."""

    audio: np.ndarray
    opts: TranscribeOptions
    future: Any
    """The ``concurrent.futures.Future`` its transcript is set on."""
    duration: float = 0.0
    offset: float = 0.0
    """Seconds of silence ``pad_short`` put before the audio."""
    padded: np.ndarray | None = None
    """The audio after ``pad_short``, which window stretches index."""
    language: str = "en"
    language_probability: float = 1.0
    tokenizer: Any = None
    windows: list[Window] = field(default_factory=list)
    pending: int = 0
    """Windows not yet decoded."""
    speech: list[dict[str, int]] | None = None
    """Its speech stretches (samples of ``padded``), once :func:`find_speech` has run."""


def find_speech(req: Request) -> None:
    """Pad ``req``'s audio as the unbatched path does and find its speech stretches (VAD).

    Needs no Whisper model, so it runs in the submitting thread: VAD of the next requests
    then overlaps the decoding of a batch instead of holding it up."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = req.opts
    req.duration = len(req.audio) / SAMPLE_RATE
    audio, req.offset = pad_short(req.audio, SAMPLE_RATE, opts.min_window_seconds)
    req.padded = audio
    if opts.engine_flag("vad"):
        req.speech = get_speech_timestamps(
            audio, VadOptions(max_speech_duration_s=WINDOW_SECONDS))
    else:
        req.speech = [{"start": 0, "end": len(audio)}] if len(audio) else []


def prepare(model: Any, req: Request) -> None:
    """Cut ``req`` into windows at its speech stretches (found first, if
    :func:`find_speech` has not run), compute their features and prompts, and settle its
    language (detected on the first window when not given, as the unbatched path does).
    The audio was checked to be one float channel on submission."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer

    if req.speech is None:
        find_speech(req)
    assert req.speech is not None and req.padded is not None
    opts = req.opts
    short = req.duration <= opts.single_segment_seconds
    audio = req.padded
    groups = pack(req.speech, round(WINDOW_SECONDS * SAMPLE_RATE))
    chunks = [np.concatenate([audio[st["start"]:st["end"]] for st in g]) for g in groups]
    features = [pad_or_trim(model.feature_extractor(c)[..., :-1]) for c in chunks]
    _set_language(model, req, features)
    req.tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                              task=opts.task, language=req.language)
    cap = token_cap(req.duration) if short else None
    for i, (feats, group, chunk) in enumerate(zip(features, groups, chunks, strict=True)):
        previous = (req.tokenizer.encode(" " + opts.initial_prompt.strip())
                    if opts.initial_prompt and i == 0 else [])
        window = make_window(model, req, feats, [(st["start"], st["end"]) for st in group],
                         previous, cap, timed=not short)
        if len(groups) == 1 and may_share(opts, req.duration) \
                and len(chunk) <= PACK_MAX_SECONDS * SAMPLE_RATE:
            window.audio = chunk
            window.pack_key = (opts.beam_size, opts.repetition_penalty, req.language, opts.task,
                               opts.log_prob_threshold, opts.no_speech_threshold)
        req.windows.append(window)
    req.pending = len(req.windows)


def make_window(model: Any, req: Request, features: np.ndarray,
                stretches: list[tuple[int, int]], previous: list[int], cap: int | None, *,
                timed: bool) -> Window:
    """A window of ``req`` made of ``stretches`` (samples of its padded audio), prompted
    with ``previous`` text tokens, decoded with timestamp tokens or not."""
    prompt = model.get_prompt(req.tokenizer, previous, without_timestamps=not timed)
    key = (req.opts.beam_size, req.opts.repetition_penalty, prompt.index(req.tokenizer.sot),
           timed)
    return Window(req, features, prompt, cap, key, stretches=stretches)


def pack(stretches: list[dict[str, int]], limit: int) -> list[list[dict[str, int]]]:
    """Group consecutive speech stretches into windows of at most ``limit`` samples.

    The grouping of faster-whisper's ``collect_chunks``, reimplemented because its metadata
    leaves out the first stretch of every window after the first, and the times of a
    window come from its stretches.
    """
    groups: list[list[dict[str, int]]] = []
    size = 0
    for stretch in stretches:
        length = stretch["end"] - stretch["start"]
        if groups and size + length <= limit:
            groups[-1].append(stretch)
            size += length
        else:
            groups.append([stretch])
            size = length
    return groups


def _set_language(model: Any, req: Request, features: list[np.ndarray]) -> None:
    if req.opts.language is not None or not model.model.is_multilingual:
        req.language = req.opts.language or "en"
        return
    # As the unbatched path: detected on the first window of speech.
    source = features[0] if features else model.feature_extractor(req.audio[:30 * SAMPLE_RATE])
    language, probability, _ = model.detect_language(features=source)
    req.language, req.language_probability = language, float(probability)


def assemble(req: Request, spec: ModelSpec) -> Transcript:
    """The transcript of a request whose windows are all decoded, shaped as
    ``transcribe()``'s: times on the request's timeline, hallucinations dropped."""
    from earful.asr.engines import model_label

    opts = req.opts
    segments: list[Segment] = []
    for window in req.windows:
        if (window.no_speech_prob > opts.no_speech_threshold
                and window.avg_logprob <= opts.log_prob_threshold):
            continue  # the sequential path's "no speech" skip
        if window.pieces is not None:
            for start, end, tokens in window.pieces:
                segments.append(Segment(
                    id=len(segments),
                    start=_clamp(_on_request(window, start), req.offset, req.duration),
                    end=_clamp(_on_request(window, end), req.offset, req.duration),
                    text=req.tokenizer.decode(tokens).strip(),
                    avg_logprob=round(float(window.avg_logprob), 4),
                    no_speech_prob=round(window.no_speech_prob, 4),
                    compression_ratio=round(window.compression_ratio, 4)))
            continue
        segments.append(Segment(
            id=len(segments),
            start=_clamp(window.start, req.offset, req.duration),
            end=_clamp(window.end, req.offset, req.duration),
            text=req.tokenizer.decode(window.tokens).strip(),
            avg_logprob=round(float(window.avg_logprob), 4),
            no_speech_prob=round(window.no_speech_prob, 4),
            compression_ratio=round(window.compression_ratio, 4)))
    kept = drop_hallucinations(segments) if opts.engine_flag("hallucination_guard") else segments
    return Transcript(
        text=" ".join(s.text for s in kept).strip(),
        language=req.language,
        language_probability=round(req.language_probability, 4),
        duration=round(req.duration, 3),
        segments=kept,
        model=model_label(spec),
        engine="faster-whisper",
        dropped_segments=len(segments) - len(kept),
    )


def _on_request(window: Window, t: float) -> float:
    """Seconds into a window's speech (its stretches laid end to end) as seconds into the
    (padded) request audio."""
    sample = t * SAMPLE_RATE
    for start, end in window.stretches:
        if sample <= end - start:
            return (start + sample) / SAMPLE_RATE
        sample -= end - start
    return window.end


def _clamp(t: float, offset: float, duration: float) -> float:
    return round(min(max(t - offset, 0.0), duration), 3)
