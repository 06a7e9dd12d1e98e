"""What to transcribe with (:class:`ModelSpec`) and how (:class:`TranscribeOptions`).

The two are kept apart as openai/whisper keeps the model apart from its decoding options:
a spec names one loaded model (the model manager's key), options change per request. Both
are validated when built, so a bad value fails before any audio is decoded or model loaded;
:meth:`TranscribeOptions.check_for` adds the checks that need both (an English-only model
asked for French, an option the engine cannot honour).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from earful.asr.languages import LANGUAGES
from earful.errors import InvalidOptionError

ENGINES = ("faster-whisper", "transformers")
DEVICES = ("cpu", "cuda", "auto")

#: Options an engine cannot honour. Setting one (to anything but its default) with that
#: engine is refused rather than silently ignored.
UNSUPPORTED: dict[str, tuple[str, ...]] = {
    "faster-whisper": (),
    "transformers": ("vad", "hallucination_guard", "initial_prompt",
                     "condition_on_previous_text", "no_speech_threshold",
                     "log_prob_threshold", "min_window_seconds", "single_segment_seconds"),
}


def _check(checks: list[tuple[bool, str]]) -> None:
    for ok, message in checks:
        if not ok:
            raise InvalidOptionError(message)


@dataclass(frozen=True)
class ModelSpec:
    """Which ASR model to run, and where. One spec is one loaded model."""

    name: str = "tiny.en"
    """Model name (``tiny.en`` and ``base`` are bundled; other names download from the
    Hugging Face hub, which needs internet) or a local model folder."""
    engine: str = "faster-whisper"
    """``faster-whisper`` (CTranslate2 Whisper) or ``transformers`` (Whisper or Wav2Vec2 CTC)."""
    device: str = "cpu"
    """``cpu``, ``cuda`` or ``auto``."""
    compute_type: str = "int8"
    """CTranslate2 weight type: ``int8``, ``int8_float16``, ``float16``, ``float32``..."""
    cpu_threads: int = 0
    """CTranslate2 threads (0 lets the library decide)."""
    cache_dir: Path | None = None
    """Where bundled models that must be assembled (``base``) are written once; ``None``
    uses ``~/.cache/earful``."""

    def __post_init__(self) -> None:
        _check([
            (self.engine in ENGINES, f"engine must be one of {ENGINES}, got {self.engine!r}"),
            (bool(self.name), "model must not be empty"),
            (self.device in DEVICES, f"device must be one of {DEVICES}, got {self.device!r}"),
            (self.cpu_threads >= 0, "cpu_threads must be >= 0"),
        ])

    @property
    def english_only(self) -> bool:
        """Whether the model knows English alone (Whisper's ``*.en`` models)."""
        return Path(self.name.rstrip("/")).name.endswith(".en")

    @property
    def cache_root(self) -> Path:
        """The cache folder in use."""
        return self.cache_dir or Path.home() / ".cache" / "earful"

    def with_(self, **changes: Any) -> ModelSpec:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class TranscribeOptions:
    """How to decode. Defaults suit the bundled tiny.en model on a CPU."""

    language: str | None = None
    """Spoken language code (``en``, ``fr``...; see ``earful.asr.languages``), or ``None``
    to detect it."""
    task: str = "transcribe"
    """``transcribe``, or ``translate`` to English (multilingual models only)."""
    beam_size: int = 5
    """Beam width; 1 is greedy decoding."""
    vad: bool | None = None
    """Skip non-speech with the Silero VAD bundled in faster-whisper before decoding.
    ``None`` is the engine's default: on for faster-whisper; transformers has none."""
    word_timestamps: bool = False
    """Attach start/end times and a probability to every word."""
    initial_prompt: str | None = None
    """Text that conditions the first window (vocabulary, spelling, style)."""
    condition_on_previous_text: bool = False
    """Give each 30 s window the text of the one before as its prompt (faster-whisper's and
    openai-whisper's default). Off by default: on long audio with VAD it can make Whisper copy
    the previous window's words instead of hearing new ones (``benchmarks/asr_long_wer.py``).
    The batched service path never conditions, so a request asking for it is decoded alone."""
    repetition_penalty: float = 1.0
    """Divide the scores of tokens already in the context by this (1 = off). Above 1 it
    breaks the loops Whisper falls into on short or unclear audio ("six, six, six")."""
    batch_size: int = 1
    """Windows decoded together; above 1 uses faster-whisper's batched pipeline."""
    no_speech_threshold: float = 0.6
    """A window whose no-speech probability is above this ..."""
    log_prob_threshold: float = -1.0
    """... and whose mean token log-probability is below this is treated as silence."""
    hallucination_guard: bool | None = None
    """Drop segments that are almost certainly invented on silence or noise (see
    ``earful.asr.guard``). ``None`` is the engine's default: on for faster-whisper."""
    min_window_seconds: float = 1.0
    """Clips shorter than this are centred in this much silence before decoding: Whisper
    was trained on long windows and hallucinates on tiny ones."""
    single_segment_seconds: float = 5.0
    """Clips up to this long are decoded as one segment without timestamp tokens: on
    isolated words this halves the errors, and so short a clip needs no segmentation."""
    chunk_seconds: float = 600.0
    """Long files are decoded and transcribed in pieces of about this length, cut at quiet
    points, so memory stays bounded whatever the file's duration."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for any out-of-range field."""
        _check([
            (self.task in ("transcribe", "translate"), f"unknown task {self.task!r}"),
            (1 <= self.beam_size <= 20, f"beam_size must be 1..20, got {self.beam_size}"),
            (1.0 <= self.repetition_penalty <= 3.0,
             f"repetition_penalty must be in [1, 3], got {self.repetition_penalty}"),
            (1 <= self.batch_size <= 64, f"batch_size must be 1..64, got {self.batch_size}"),
            (0.0 <= self.no_speech_threshold <= 1.0, "no_speech_threshold must be in [0, 1]"),
            (self.log_prob_threshold <= 0.0, "log_prob_threshold must be <= 0"),
            (0.0 <= self.min_window_seconds <= 30.0, "min_window_seconds must be in [0, 30]"),
            (0.0 <= self.single_segment_seconds <= 30.0,
             "single_segment_seconds must be in [0, 30]"),
            (self.chunk_seconds >= 60.0, "chunk_seconds must be at least 60"),
            (self.language is None or self.language in LANGUAGES,
             f"unknown language code {self.language!r}: give a code such as 'en' or 'fr'"),
        ])

    def check_for(self, spec: ModelSpec) -> None:
        """Refuse what ``spec``'s model or engine cannot do (cheap: loads nothing).

        Raises:
            InvalidOptionError: A non-English language or translation asked of an
                English-only model, or an option the engine does not support.
        """
        if spec.english_only and self.language not in (None, "en"):
            raise InvalidOptionError(f"model '{Path(spec.name).name}' is English-only; "
                                     f"language '{self.language}' needs a multilingual "
                                     "model such as 'base'")
        if spec.english_only and self.task == "translate":
            raise InvalidOptionError(f"model '{Path(spec.name).name}' is English-only and "
                                     "cannot translate; use a multilingual model such as "
                                     "'base'")
        defaults = {f.name: f.default for f in fields(self)}
        # ``False`` for vad/hallucination_guard asks for nothing: it is "off" explicitly.
        asked = [name for name in UNSUPPORTED[spec.engine]
                 if getattr(self, name) is not False and getattr(self, name) != defaults[name]]
        if asked:
            raise InvalidOptionError(f"the {spec.engine} engine does not support "
                                     f"{', '.join(asked)}; use the faster-whisper engine")

    def engine_flag(self, name: str) -> bool:
        """A ``bool | None`` option resolved for faster-whisper (``None`` means on)."""
        value = getattr(self, name)
        return True if value is None else bool(value)

    def with_(self, **changes: Any) -> TranscribeOptions:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


SHORT_CLIPS = ("batched", "direct")
ALONE = ("batched", "direct")


@dataclass(frozen=True)
class BatcherOptions:
    """How a :class:`~earful.asr.batcher.RequestBatcher` groups requests."""

    max_batch: int = 8
    """Most windows decoded in one ``generate`` call. Larger batches amortise more per-call
    cost but make every request in them wait for the slowest window."""
    max_wait_ms: float = 20.0
    """How long the first request of a batch waits for others to join it. Under load the
    queue is never empty and nobody waits; alone, a request pays at most this much."""
    short_clips: str = "batched"
    """Clips up to ``single_segment_seconds``: ``batched`` decodes them in shared batches
    with the unbatched path's padding and token cap; ``direct`` sends them through
    ``transcribe()`` one at a time."""
    share_windows: bool = True
    """Put the speech of several 5-15 s requests into one Whisper window (one encoder pass
    for all of them; :mod:`earful.asr.packing`). Off: each request's speech is decoded in
    windows of its own, batched."""
    alone: str = "direct"
    """A clip of at most one window (30 s) that finds the batcher idle and that nobody
    joins within ``max_wait_ms``: ``direct`` decodes it exactly as one at a time
    (``transcribe()``: timestamped segments, the same text as a streamed transcript of the
    same audio), since a batch of one window saves nothing; ``batched`` decodes it on the
    batched path all the same. Longer clips always use the batched path, where their own
    windows fill the batch."""
    decoders: int = 2
    """Batches decoded at once, each on its own thread and its own replica of the model,
    with an equal share of ``ModelSpec.cpu_threads`` (default: CTranslate2's 4, or the
    cores there are if fewer). On a CPU two
    single-threaded CTranslate2 calls keep two cores busier than one call with two
    threads, and one batch's Python work (features, packing, splitting transcripts) runs
    while the other decodes (``benchmarks/service_load.py``). A request alone is decoded on
    the plain model, with all of its threads."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_batch <= 64:
            raise InvalidOptionError(f"max_batch must be 1..64, got {self.max_batch}")
        if not 0.0 <= self.max_wait_ms <= 10_000.0:
            raise InvalidOptionError(f"max_wait_ms must be in [0, 10000], got {self.max_wait_ms}")
        if self.short_clips not in SHORT_CLIPS:
            raise InvalidOptionError(f"short_clips must be one of {SHORT_CLIPS}, "
                                     f"got {self.short_clips!r}")
        if self.alone not in ALONE:
            raise InvalidOptionError(f"alone must be one of {ALONE}, got {self.alone!r}")
        if not 1 <= self.decoders <= 8:
            raise InvalidOptionError(f"decoders must be 1..8, got {self.decoders}")
