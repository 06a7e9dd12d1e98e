"""Decoding prepared windows (:mod:`earful.asr.windows`) the way the unbatched path decodes.

:func:`decode_batch` runs one encoder pass and one CTranslate2 ``generate`` over windows of
several requests, with timestamp tokens (short clips without, as one segment). A window that
fails Whisper's quality checks (too repetitive, too unlikely) is decoded again alone with
the sequential path's temperature fallback. Where Whisper stops before a window's speech
ends, the rest becomes a follow-up window decoded in a later batch, as the unbatched path
seeks on to where the last segment ended.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from earful.asr.windows import WINDOW_SECONDS, Window, make_window
from earful.audio.constants import SAMPLE_RATE

logger = logging.getLogger(__name__)

#: The sequential path's temperature schedule and quality thresholds (faster-whisper's
#: defaults, which ``transcribe()`` leaves as they are).
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
COMPRESSION_RATIO_THRESHOLD = 2.4
#: How far (seconds) before a window's speech ends Whisper may stop transcribing and still
#: count as having reached the end (VAD pads speech with 0.4 s of silence on each side).
END_SLACK_SECONDS = 0.5
#: A decode that stops before this many seconds of a window gives no follow-up window (it
#: would be the same window again); what it transcribed is kept.
MIN_PROGRESS_SECONDS = 1.0


def decode_batch(model: Any, windows: list[Window]) -> list[Window]:
    """Decode ``windows`` (all with the same :data:`CallKey`) in one batched call.

    Fills each window's tokens, pieces and scores; windows that fail the quality checks are
    decoded again alone with temperature fallback.

    Returns:
        Follow-up windows for the speech after where Whisper stopped in a window it left
        unfinished, already counted in their requests' windows and ``pending``.
    """
    from faster_whisper.transcribe import get_suppressed_tokens

    beam_size, repetition_penalty, _, _ = windows[0].key
    tokenizer = windows[0].request.tokenizer
    encoder_output = model.encode(np.stack([w.features for w in windows]))
    max_length = min(model.max_length, max(
        len(w.prompt) + (w.max_new_tokens or model.max_length) for w in windows))
    results = model.model.generate(
        encoder_output, [w.prompt for w in windows], beam_size=beam_size, patience=1.0,
        length_penalty=1.0, repetition_penalty=repetition_penalty, max_length=max_length,
        return_scores=True, return_no_speech_prob=True, suppress_blank=True,
        # The suppressed set (non-speech symbols, task tokens) is the same for every language.
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]))
    follow: list[Window] = []
    for window, result in zip(windows, results, strict=True):
        tokens = list(result.sequences_ids[0])
        # Windows share one max_length; a short clip's own cap is applied afterwards.
        if window.max_new_tokens is not None and len(tokens) > window.max_new_tokens:
            tokens = tokens[:window.max_new_tokens]
        avg_logprob = result.scores[0] * len(result.sequences_ids[0]) / (
            len(result.sequences_ids[0]) + 1)
        cut = _take(window, tokens, float(avg_logprob), float(result.no_speech_prob))
        if _needs_fallback(window):
            cut = _decode_with_fallback(model, window)
        rest = _follow_up(model, window, cut)
        if rest is not None:
            follow.append(rest)
    return follow


def _take(window: Window, tokens: list[int], avg_logprob: float, no_speech_prob: float
          ) -> float:
    """Store a decode's result on ``window``; where Whisper stopped, in seconds of it."""
    from faster_whisper.transcribe import get_compression_ratio

    tokenizer = window.request.tokenizer
    window.avg_logprob, window.no_speech_prob = avg_logprob, no_speech_prob
    cut = WINDOW_SECONDS
    if window.timed:
        window.pieces, cut = timed_segments(tokens, tokenizer.timestamp_begin)
        tokens = [t for _, _, text in window.pieces for t in text]
    window.tokens = tokens
    window.compression_ratio = get_compression_ratio(tokenizer.decode(tokens).strip())
    return cut


def timed_segments(tokens: list[int], timestamp_begin: int
                   ) -> tuple[list[tuple[float, float, list[int]]], float]:
    """The complete segments (start, end, text tokens) of a timestamped decode, and where
    Whisper stopped transcribing: the window's end when the decode ends on a segment's
    closing timestamp; the opening timestamp of a segment Whisper left for the next window
    when it ends on two timestamps; the last closing timestamp when the decode stopped
    mid-segment (the length cap)."""
    segments = []
    start: float | None = None
    text: list[int] = []
    for token in tokens:
        if token < timestamp_begin:
            text.append(token)
            continue
        t = (token - timestamp_begin) * 0.02
        if start is None:
            start = t
        else:
            segments.append((start, t, text))
            start, text = None, []
    reached = max((end for _, end, _ in segments), default=0.0)
    if len(tokens) >= 2 and min(tokens[-2:]) >= timestamp_begin:
        return segments, (tokens[-1] - timestamp_begin) * 0.02  # left for the next window
    if tokens and tokens[-1] >= timestamp_begin and start is None:
        return segments, WINDOW_SECONDS  # finished
    return segments, reached


def _follow_up(model: Any, window: Window, cut: float) -> Window | None:
    """A window for the speech of ``window`` after ``cut`` seconds, when Whisper stopped
    that far before the end; it goes into the request's windows right after ``window``."""
    from faster_whisper.audio import pad_or_trim

    req = window.request
    speech = sum(end - start for start, end in window.stretches) / SAMPLE_RATE
    if not window.timed or cut + END_SLACK_SECONDS >= speech:
        return None
    if cut < MIN_PROGRESS_SECONDS:
        logger.debug("Whisper stopped %.2f s into a %.1f s window; keeping what it gave",
                     cut, speech)
        return None
    skip = round(cut * SAMPLE_RATE)
    stretches = []
    for start, end in window.stretches:
        if skip < end - start:
            stretches.append((start + skip, end))
        skip = max(skip - (end - start), 0)
    assert req.padded is not None
    chunk = np.concatenate([req.padded[start:end] for start, end in stretches])
    features = pad_or_trim(model.feature_extractor(chunk)[..., :-1])
    rest = make_window(model, req, features, stretches, [], None, timed=True)
    logger.debug("Whisper stopped %.2f s into a %.1f s window; the rest is decoded next",
                 cut, speech)
    req.windows.insert(req.windows.index(window) + 1, rest)
    req.pending += 1
    return rest


def _needs_fallback(window: Window) -> bool:
    opts = window.request.opts
    if window.compression_ratio > COMPRESSION_RATIO_THRESHOLD:
        failed = True
    else:
        failed = window.avg_logprob < opts.log_prob_threshold
    silent = (window.no_speech_prob > opts.no_speech_threshold
              and window.avg_logprob < opts.log_prob_threshold)
    return failed and not silent


def _decode_with_fallback(model: Any, window: Window) -> float:
    """Decode ``window`` again alone with temperature fallback; where Whisper stopped."""
    from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

    opts = window.request.opts
    tokenizer = window.request.tokenizer
    options = TranscriptionOptions(
        beam_size=opts.beam_size, best_of=5, patience=1.0, length_penalty=1.0,
        repetition_penalty=opts.repetition_penalty, no_repeat_ngram_size=0,
        log_prob_threshold=opts.log_prob_threshold, no_speech_threshold=opts.no_speech_threshold,
        compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
        condition_on_previous_text=True, prompt_reset_on_temperature=0.5,
        temperatures=list(TEMPERATURES), initial_prompt=None, prefix=None,
        suppress_blank=True, suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        without_timestamps=not window.timed, max_initial_timestamp=1.0, word_timestamps=False,
        prepend_punctuations="", append_punctuations="", multilingual=False,
        max_new_tokens=window.max_new_tokens, clip_timestamps="0",
        hallucination_silence_threshold=None, hotwords=None)
    result, avg_logprob, temperature, _ = model.generate_with_fallback(
        model.encode(window.features), window.prompt, tokenizer, options)
    logger.debug("window re-decoded alone at temperature %.1f", temperature)
    window.fallback = True
    return _take(window, list(result.sequences_ids[0]), float(avg_logprob),
                 float(result.no_speech_prob))
