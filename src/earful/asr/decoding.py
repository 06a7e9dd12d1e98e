"""Decoding prepared windows (:mod:`earful.asr.windows`) the way the unbatched path decodes.

:func:`decode_batch` runs one encoder pass and one CTranslate2 ``generate`` over windows of
several requests, with timestamp tokens (short clips without, as one segment). A window that
fails Whisper's quality checks (too repetitive, too unlikely) is decoded again alone with
the sequential path's temperature fallback. Where Whisper stops before a window's speech
ends (it leaves a segment for the next window, hits the length cap, or ends more than
:data:`FINISHED_SLACK_SECONDS` early), the speech after its last closed segment becomes a
follow-up window decoded in a later batch, as the unbatched path seeks on to that point.
A follow-up is not prompted with the initial prompt, even when it continues the first
window.
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
#: A decode that ends on a closed segment is finished, unless more than this much of the
#: window's speech (seconds) comes after that segment: a window is speech stretches laid end
#: to end, so no silence is left there to explain it.
FINISHED_SLACK_SECONDS = 2.0
#: A follow-up window starts at least this far (seconds) into the window it continues, so a
#: chain of them always ends.
MIN_PROGRESS_SECONDS = 1.0


def decode_batch(model: Any, windows: list[Window]) -> list[tuple[Window, Window]]:
    """Decode ``windows`` (all with the same :data:`CallKey`) in one batched call.

    Fills each window's tokens, pieces and scores; windows that fail the quality checks are
    decoded again alone with temperature fallback. Requests are not changed otherwise: the
    caller adds the follow-ups (:func:`attach`) once the whole batch is decoded, so a batch
    that fails half way leaves no follow-up counted that is never queued.

    Returns:
        ``(window, follow-up)`` for each window Whisper left unfinished: the follow-up
        holds the speech after where it stopped.
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
    follow: list[tuple[Window, Window]] = []
    for window, result in zip(windows, results, strict=True):
        tokens = list(result.sequences_ids[0])
        # Windows share one max_length; a short clip's own cap is applied afterwards.
        if window.max_new_tokens is not None and len(tokens) > window.max_new_tokens:
            tokens = tokens[:window.max_new_tokens]
        stop = _take(window, tokens, mean_logprob(result), float(result.no_speech_prob))
        if _needs_fallback(window):
            stop = _decode_with_fallback(model, window)
        rest = _follow_up(model, window, stop)
        if rest is not None:
            follow.append((window, rest))
    return follow


def mean_logprob(result: Any) -> float:
    """A generate result's mean token log-probability, as faster-whisper computes it: the
    score is length-normalised over the tokens plus the end-of-text token."""
    length = len(result.sequences_ids[0])
    return float(result.scores[0] * length / (length + 1))


def attach(window: Window, rest: Window) -> None:
    """Put a follow-up into its request, right after the window it continues."""
    req = window.request
    req.windows.insert(req.windows.index(window) + 1, rest)
    req.pending += 1


def _speech_seconds(window: Window) -> float:
    return sum(end - start for start, end in window.stretches) / SAMPLE_RATE


def _take(window: Window, tokens: list[int], avg_logprob: float, no_speech_prob: float
          ) -> float:
    """Store a decode's result on ``window``; return where the rest of its speech starts,
    in seconds of it (:data:`WINDOW_SECONDS`: nothing is left)."""
    from faster_whisper.transcribe import get_compression_ratio

    tokenizer = window.request.tokenizer
    window.avg_logprob, window.no_speech_prob = avg_logprob, no_speech_prob
    text = [t for t in tokens if t < tokenizer.timestamp_begin]
    # On all the text, closed segments or not: a repetition loop runs to the length cap
    # inside a segment that never closes, and must fail the check and be decoded again.
    window.compression_ratio = get_compression_ratio(tokenizer.decode(text).strip())
    window.tokens = text
    stop = WINDOW_SECONDS
    if not window.timed:
        return stop
    segments, cut = timed_segments(tokens, tokenizer.timestamp_begin)
    speech = _speech_seconds(window)
    if not segments:
        # No segment closed: the whole text is one segment over the window, as
        # faster-whisper keeps it (and it moves on past the window).
        window.pieces = [(0.0, speech, text)] if text else []
        return stop
    window.pieces = segments
    reached = max(end for _, end, _ in segments)
    if cut < WINDOW_SECONDS or speech - reached > FINISHED_SLACK_SECONDS:
        # Left a segment for the next window, cut off by the length cap, or ended well
        # before the speech does: go on from the last closing timestamp, where
        # faster-whisper seeks to.
        stop = reached
    return stop


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


def _follow_up(model: Any, window: Window, stop: float) -> Window | None:
    """A window for the speech of ``window`` after ``stop`` seconds, when Whisper stopped
    that far before its end."""
    from faster_whisper.audio import pad_or_trim

    speech = _speech_seconds(window)
    if not window.timed or stop + END_SLACK_SECONDS >= speech:
        return None
    if stop < MIN_PROGRESS_SECONDS:
        # Whatever was said in the skipped part is lost; it is less than a second, and a
        # follow-up that moves on less could be the same window again.
        logger.warning("Whisper stopped %.2f s into a %.1f s window; going on from %.1f s",
                       stop, speech, MIN_PROGRESS_SECONDS)
        stop = MIN_PROGRESS_SECONDS
    skip = round(stop * SAMPLE_RATE)
    stretches = []
    for start, end in window.stretches:
        if skip < end - start:
            stretches.append((start + skip, end))
        skip = max(skip - (end - start), 0)
    req = window.request
    assert req.padded is not None
    chunk = np.concatenate([req.padded[start:end] for start, end in stretches])
    features = pad_or_trim(model.feature_extractor(chunk)[..., :-1])
    logger.debug("Whisper stopped %.2f s into a %.1f s window; the rest is decoded next",
                 stop, speech)
    return make_window(model, req, features, stretches, [], None, timed=True)


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
