"""Cloning with Kokoro: a reference recording becomes a style, found in two stages.

1. **Look-up.** The reference's speaker embedding is compared with the shipped voice bank
   (:mod:`earful.tts.kokoro_style`): random Kokoro voices paired with the embeddings of what
   they say. The nearest voices, blended by how near they are, are the starting point: a
   mapping from speaker embedding to style learned from pairs generated offline.
2. **Refinement.** A short evolution strategy moves the style toward the reference: each
   candidate says the enrolment sentences, and is scored by its similarity to several pieces
   of the reference at once (not one clip), so that it learns the voice more than the clip.

The result is stored with a saved voice, so later requests start at once. Nothing here
judges the clone: :mod:`earful.tts.clone_eval` scores it against *other* recordings of the
speaker, on sentences it never said during enrolment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from earful.audio.transforms import resample
from earful.errors import InvalidOptionError
from earful.tts.kokoro_style import (
    HALF,
    StyleParams,
    VoiceBank,
    offset_scale,
    pack_stack,
    style_table,
)
from earful.tts.reference import Reference
from earful.tts.result import Speech

logger = logging.getLogger(__name__)

#: What enrolment candidates say (Harvard list 6): neither the bank's sentences nor those a
#: clone is judged on.
_NFFT = 512
#: Points of a channel equaliser: 0 to 8 kHz in steps of 31.25 Hz.
GAIN_BINS = _NFFT // 2 + 1

#: (samples, sample rate) -> L2-normalised speaker embedding.
Embed = Callable[[np.ndarray, int], np.ndarray]

ENROL_SENTENCES = (
    "The small pup gnawed a hole in the sock.",
    "The fish twisted and turned on the bent hook.",
)


@dataclass(frozen=True)
class EnrolOptions:
    """How a reference becomes a Kokoro style."""

    neighbours: int = 8
    """Bank voices blended into the starting point."""
    temperature: float = 0.02
    """Softmax temperature over the neighbours' similarities (smaller: nearest wins)."""
    steps: int = 16
    """Refinement candidates tried after the starting points (0: look-up only, a few
    seconds). On development speakers 15 steps raised the similarity to the speakers'
    *other* recordings from 0.625 to 0.643 (``benchmarks/tts_kokoro_clone.py``)."""
    step_size: float = 0.5
    """First offset step, in units of the packs' spread per dimension."""
    time_budget: float = 45.0
    """Seconds after which refinement stops, whatever ``steps`` says."""
    pieces: int = 3
    """Pieces the reference is cut into; candidates are scored against every piece."""
    seed: int = 0
    """Seed of the refinement's random steps (enrolment is deterministic)."""
    match_channel: bool = True
    """Also measure an equaliser that gives the clone the reference's long-term spectrum
    (its microphone and room as much as its voice), smoothed and bounded."""
    max_gain_db: float = 12.0
    """Largest boost or cut of that equaliser."""

    def __post_init__(self) -> None:
        if self.neighbours < 1:
            raise InvalidOptionError("neighbours must be >= 1")
        if self.temperature <= 0:
            raise InvalidOptionError("temperature must be above 0")
        if self.steps < 0:
            raise InvalidOptionError("steps must be >= 0")
        if not 0 < self.step_size <= 3:
            raise InvalidOptionError("step_size must be in (0, 3]")
        if self.time_budget <= 0:
            raise InvalidOptionError("time_budget must be above 0")
        if not 1 <= self.pieces <= 8:
            raise InvalidOptionError("pieces must be between 1 and 8")
        if not 0 <= self.max_gain_db <= 24:
            raise InvalidOptionError("max_gain_db must be between 0 and 24")


@dataclass
class Enrolment:
    """A reference turned into a style, with how the search went."""

    params: StyleParams
    """The style found."""
    score: float
    """Its mean similarity to the reference's pieces (the guiding score, not a judgement)."""
    start_score: float
    """The look-up's score before refinement."""
    tried: int
    """Candidates synthesised."""
    seconds: float
    """Wall time of the enrolment."""
    history: list[float] = field(default_factory=list)
    """Best score after each candidate."""
    gain_db: np.ndarray | None = None
    """The channel equaliser (:data:`GAIN_BINS` gains in dB from 0 to 8 kHz), or ``None``."""


def reference_targets(embed: Embed, samples: np.ndarray,
                      sample_rate: int, pieces: int) -> np.ndarray:
    """Embeddings of the whole reference and of ``pieces`` equal parts of it (each at least
    1.5 s; fewer parts when the reference is short)."""
    pieces = max(1, min(pieces, int(len(samples) / (1.5 * sample_rate))))
    parts = [samples] + ([] if pieces == 1 else list(np.array_split(samples, pieces)))
    return np.stack([embed(p, sample_rate) for p in parts])


def _mutate(rng: np.random.Generator, p: StyleParams, sigma: float,
            scale: np.ndarray) -> StyleParams:
    def weights(w: np.ndarray) -> np.ndarray:
        logits = np.log(np.clip(w, 1e-4, None)) + sigma * rng.standard_normal(w.size)
        e = np.exp(logits - logits.max())
        return e / e.sum()

    step = sigma * scale * rng.standard_normal(scale.size)
    step[HALF:] *= 0.5  # prosody moves slower: large steps there garble the speech
    return StyleParams(weights(p.timbre), weights(p.prosody), p.offset + step)


def enrol(speak: Callable[[np.ndarray, str], np.ndarray], speak_rate: int, embed: Embed,
          bank: VoiceBank, stack: np.ndarray, samples: np.ndarray, sample_rate: int,
          opts: EnrolOptions | None = None,
          progress: Callable[[int, int], None] | None = None) -> Enrolment:
    """Find the Kokoro style that sounds most like a reference recording.

    Args:
        speak: (style table, sentence) -> samples at ``speak_rate``.
        speak_rate: The rate ``speak`` returns.
        embed: (samples, rate) -> L2-normalised speaker embedding.
        bank: The voice bank (look-up stage).
        stack: The bundled packs, in ``bank.pack_names`` order
            (:func:`earful.tts.kokoro_style.pack_stack`).
        samples: The reference recording (checked already: 3 to 30 s of speech).
        sample_rate: Its rate.
        opts: Search settings.
        progress: Called with (candidates tried, candidates planned).

    Returns:
        The best style found and the search's record.
    """
    opts = opts or EnrolOptions()
    start = time.perf_counter()
    targets = reference_targets(embed, samples, sample_rate, opts.pieces)
    centroid = targets.mean(axis=0)
    idx, sims = bank.nearest(centroid, opts.neighbours)
    w = np.exp((sims - sims.max()) / opts.temperature)
    blended = StyleParams.from_vector((w[:, None] * bank.params[idx]).sum(0) / w.sum(),
                                      len(bank.pack_names))
    candidates = [blended, bank.style(int(idx[0]))]
    planned = len(candidates) + opts.steps

    heard: dict[int, np.ndarray] = {}

    def score(p: StyleParams) -> float:
        table = style_table(stack, p)
        audio = np.concatenate([speak(table, s) for s in ENROL_SENTENCES])
        heard[id(p)] = audio
        return float(np.mean(targets @ embed(audio, speak_rate)))

    scores = [score(p) for p in candidates]
    best_i = int(np.argmax(scores))
    best, best_score = candidates[best_i], scores[best_i]
    best_audio = heard.pop(id(best))
    heard.clear()
    history = [max(scores[: i + 1]) for i in range(len(scores))]
    start_score = best_score
    rng = np.random.default_rng(opts.seed)
    scale = offset_scale(stack)
    sigma = opts.step_size
    tried = len(candidates)
    if progress:
        progress(tried, planned)
    for _ in range(opts.steps):
        if time.perf_counter() - start > opts.time_budget:
            logger.info("enrolment stopped at its %.0f s budget", opts.time_budget)
            break
        cand = _mutate(rng, best, sigma, scale)
        s = score(cand)
        tried += 1
        audio = heard.pop(id(cand))
        if s > best_score:
            best, best_score, best_audio = cand, s, audio
            sigma = min(sigma * 1.5, 3.0)
        else:
            sigma = max(sigma * 0.8, 0.05)
        history.append(best_score)
        if progress:
            progress(tried, planned)
    gain = (channel_gain(samples, sample_rate, best_audio, speak_rate, opts.max_gain_db)
             if opts.match_channel else None)
    return Enrolment(best, best_score, start_score, tried, time.perf_counter() - start,
                     history, gain)


def _ltas_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Long-term average spectrum of the louder 70% of frames, in dB on the gain grid."""
    from scipy.signal import stft

    x = resample(np.asarray(samples, dtype=np.float32), sample_rate, 16000)
    _, _, z = stft(x, 16000, nperseg=_NFFT)
    power = np.abs(z) ** 2
    energy = power.sum(axis=0)
    loud = energy >= np.percentile(energy, 30)
    spectrum: np.ndarray = 10 * np.log10(power[:, loud].mean(axis=1) + 1e-10)
    return spectrum


def channel_gain(reference: np.ndarray, reference_rate: int, voice: np.ndarray,
                 voice_rate: int, max_gain_db: float = 12.0) -> np.ndarray:
    """An equaliser taking ``voice``'s long-term spectrum to ``reference``'s.

    The difference of the two spectra (level removed) is smoothed over about 140 Hz, so
    that it follows the microphone, room and vocal-tract colouring rather than single
    harmonics, and bounded to +-``max_gain_db``.

    Returns:
        :data:`GAIN_BINS` gains in dB, from 0 Hz to 8 kHz.
    """
    from scipy.ndimage import uniform_filter1d

    diff = _ltas_db(reference, reference_rate) - _ltas_db(voice, voice_rate)
    # Near 8 kHz the 16 kHz resampler's roll-off, not the voices, sets the spectra: the
    # curve is measured up to 7 kHz and held flat above.
    top = int(7000 / 8000 * (GAIN_BINS - 1))
    diff[top:] = diff[top - 1]
    smooth = uniform_filter1d(diff - diff[:top].mean(), 9)
    gain: np.ndarray = np.clip(smooth, -max_gain_db, max_gain_db).astype(np.float32)
    return gain


def apply_gain(samples: np.ndarray, sample_rate: int, gain_db: np.ndarray) -> np.ndarray:
    """Filter ``samples`` by a :func:`channel_gain` curve, keeping their loudness (above 8 kHz
    the last gain holds)."""
    from scipy.signal import istft, stft

    x = np.asarray(samples, dtype=np.float32)
    if x.size == 0:
        return x
    nper = int(_NFFT * sample_rate / 16000)
    freqs, _, z = stft(x, sample_rate, nperseg=nper)
    grid = np.linspace(0, 8000, GAIN_BINS)
    gains = 10 ** (np.interp(freqs, grid, gain_db, right=float(gain_db[-1])) / 20)
    _, y = istft(z * gains[:, None], sample_rate, nperseg=nper)
    y = y[: x.size]
    if y.size < x.size:
        y = np.pad(y, (0, x.size - y.size))
    rms_in, rms_out = np.sqrt(np.mean(x ** 2)), np.sqrt(np.mean(y ** 2))
    return np.asarray(y * (rms_in / (rms_out + 1e-9)), dtype=np.float32)




class KokoroCloner:
    """Kokoro, a speaker encoder and the voice bank, wired for enrolment and cloning."""

    def __init__(self, model: Any, encoder: Any, bank: VoiceBank | None = None) -> None:
        """Args: ``model`` from :func:`earful.tts.kokoro_engine.load_kokoro`, ``encoder``
        from :func:`earful.tts.similarity.load_speaker_encoder`, ``bank`` (default: the
        shipped one)."""
        self.model = model
        self.encoder = encoder
        self.bank = bank or VoiceBank.load()
        missing = set(self.bank.pack_names) - set(model.packs)
        if missing:
            raise InvalidOptionError(f"the voice bank needs Kokoro packs {sorted(missing)}")
        _, self.stack = pack_stack(model.packs, self.bank.pack_names)

    def _speak(self, table: np.ndarray, sentence: str) -> np.ndarray:
        out: np.ndarray = self.model.sentence(sentence, table)
        return out

    def _embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        from earful.tts.similarity import embed

        return embed(self.encoder, samples, sample_rate)

    def enrol(self, reference: Reference, opts: EnrolOptions | None = None,
              progress: Callable[[int, int], None] | None = None) -> Enrolment:
        """Turn a checked reference recording into a style (see :func:`enrol`)."""
        from earful.tts.kokoro_engine import SAMPLE_RATE

        return enrol(self._speak, SAMPLE_RATE, self._embed, self.bank, self.stack,
                     reference.samples, reference.sample_rate, opts, progress)

    def table(self, params: StyleParams) -> np.ndarray:
        """The style table of an enrolled voice."""
        return style_table(self.stack, params)

    def speak(self, text: str, params: StyleParams, gain_db: np.ndarray | None,
              label: str, opts: Any = None) -> Speech:
        """Say ``text`` with an enrolled style, through its channel equaliser if it has one.

        Args:
            text: Cleaned text.
            params: The enrolled style.
            gain_db: Its equaliser (:func:`channel_gain`), or ``None``.
            label: The voice's name in the result.
            opts: :class:`earful.tts.kokoro_engine.KokoroOptions`.
        """
        from earful.tts.kokoro_engine import speak_style

        speech = speak_style(self.model, text, self.table(params), label, opts)
        if gain_db is None:
            return speech
        start = time.perf_counter()
        samples = apply_gain(speech.samples, speech.sample_rate, gain_db)
        timings = {**speech.timings, "equaliser": time.perf_counter() - start}
        return replace(speech, samples=np.clip(samples, -1.0, 1.0), timings=timings)
