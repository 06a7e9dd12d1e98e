"""How to diarize: :class:`DiarizeOptions`, validated when built."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from earful.errors import InvalidOptionError

#: The cosine-distance threshold of the clustering, chosen on the development
#: conversations of ``benchmarks/diarization.py`` (never on the test ones).
DEFAULT_THRESHOLD = 0.36
#: The least speech (seconds) a cluster needs to count as a speaker, chosen likewise.
DEFAULT_MIN_CLUSTER = 3.0
#: Pauses, turn changes and overlapped speech (:mod:`earful.diarize.overlap`), chosen on
#: the development conversations: a pause is at most this many dB above the noise floor
#: for at least this many seconds; changes move to a pause within the snap distance; a
#: change with no pause within the overlap search is overlapped speech, reported from
#: ``before`` seconds before the change to ``after`` seconds after it.
DEFAULT_PAUSE_DB = 3.0
DEFAULT_PAUSE_MIN = 0.05
DEFAULT_SNAP_SEARCH = 0.75
DEFAULT_OVERLAP_SEARCH = 0.8
DEFAULT_OVERLAP_BEFORE = 0.3
DEFAULT_OVERLAP_AFTER = 0.4
#: What is done about overlapped speech (:attr:`DiarizeOptions.overlap`).
OVERLAP_MODES = ("off", "detect", "assign")
#: The speaker encoder's arithmetic choices (:attr:`DiarizeOptions.precision`).
PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class DiarizeOptions:
    """Speaker counts, windowing and clustering of one diarization run."""

    num_speakers: int | None = None
    """The exact number of speakers, when known; ``None`` finds it (within
    ``min_speakers``..``max_speakers``)."""
    min_speakers: int = 1
    """The fewest speakers the search may answer."""
    max_speakers: int = 8
    """The most speakers the search may answer."""
    threshold: float = DEFAULT_THRESHOLD
    """Cosine distance at which average-linkage clustering stops merging (when the count
    is not given). Lower finds more speakers."""
    window: float = 1.5
    """Seconds of speech per speaker embedding."""
    step: float = 0.75
    """Seconds between the starts of consecutive windows."""
    min_cluster_seconds: float = DEFAULT_MIN_CLUSTER
    """A cluster holding less speech than this is folded into its nearest neighbour (a
    speaker must say at least this much to count), unless that breaks ``min_speakers``."""
    min_turn: float = 0.4
    """Turns shorter than this, between two turns, are given to a neighbour."""
    vad_threshold: float = 0.5
    """Silero VAD speech probability threshold."""
    min_silence: float = 0.3
    """Pauses shorter than this do not split speech regions."""
    threads: int = 1
    """Torch and BLAS threads while windows are embedded (torch's setting is restored
    after each chunk). One thread is fastest for this small LSTM and the many small mel
    products on a busy or small CPU: measured on two shared cores, one thread embedded a
    batch of 128 windows in 0.56 s, two threads in 6.7 s."""
    overlap: str = "detect"
    """Overlapped speech at speaker changes (:mod:`earful.diarize.overlap`): ``off``;
    ``detect`` lists it in ``Diarization.overlaps``, turns unchanged; ``assign`` also
    gives both speakers a turn there (on the development conversations that added
    slightly more false alarm than it saved missed speech, hence not the default)."""
    pause_db: float = DEFAULT_PAUSE_DB
    """A pause is loudness within this many dB of the noise floor..."""
    pause_min: float = DEFAULT_PAUSE_MIN
    """...for at least this many seconds running."""
    snap_search: float = DEFAULT_SNAP_SEARCH
    """A change between two speakers inside one stretch of speech moves to the middle of
    the nearest pause within this many seconds; 0 leaves changes where they are."""
    overlap_search: float = DEFAULT_OVERLAP_SEARCH
    """A change with no pause within this many seconds is overlapped speech."""
    overlap_before: float = DEFAULT_OVERLAP_BEFORE
    """An overlap is reported from this many seconds before the change..."""
    overlap_after: float = DEFAULT_OVERLAP_AFTER
    """...to this many after it."""
    precision: str = "auto"
    """The speaker encoder's arithmetic: ``float32``, ``bfloat16``, or ``auto`` (bfloat16
    where the CPU has it natively, AVX512-BF16 or AMX: about 3.5 times less CPU, the same
    DER on the benchmark; float32 elsewhere, where bfloat16 would be emulated and slow)."""
    chunk_seconds: float = 60.0
    """Audio is decoded and processed in pieces of about this length (cut at quiet
    points), so memory does not grow with the recording; only embeddings are kept."""

    def __post_init__(self) -> None:
        checks = [
            (self.num_speakers is None or 1 <= self.num_speakers <= 64,
             "num_speakers must be between 1 and 64"),
            (1 <= self.min_speakers <= self.max_speakers <= 64,
             "need 1 <= min_speakers <= max_speakers <= 64"),
            (0.0 < self.threshold < 2.0, "threshold must be in (0, 2)"),
            (0.5 <= self.window <= 10.0, "window must be between 0.5 and 10 seconds"),
            (0.1 <= self.step <= self.window, "step must be between 0.1 s and window"),
            (self.min_cluster_seconds >= 0.0, "min_cluster_seconds must be >= 0"),
            (self.min_turn >= 0.0, "min_turn must be >= 0"),
            (0.0 < self.vad_threshold < 1.0, "vad_threshold must be in (0, 1)"),
            (self.min_silence >= 0.0, "min_silence must be >= 0"),
            (1 <= self.threads <= 256, "threads must be between 1 and 256"),
            (self.overlap in OVERLAP_MODES,
             f"overlap must be one of {', '.join(OVERLAP_MODES)}"),
            (0.0 <= self.pause_db <= 120.0, "pause_db must be between 0 and 120"),
            (0.01 <= self.pause_min <= 1.0, "pause_min must be between 0.01 and 1 second"),
            (0.0 <= self.snap_search <= 5.0, "snap_search must be between 0 and 5 seconds"),
            (0.05 <= self.overlap_search <= 5.0,
             "overlap_search must be between 0.05 and 5 seconds"),
            (0.0 <= self.overlap_before <= 5.0 and 0.0 <= self.overlap_after <= 5.0
             and self.overlap_before + self.overlap_after > 0.0,
             "overlap_before and overlap_after must be between 0 and 5 s, not both 0"),
            (self.precision in PRECISIONS,
             f"precision must be one of {', '.join(PRECISIONS)}"),
            (self.chunk_seconds >= 10.0, "chunk_seconds must be >= 10"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidOptionError(message)

    def speaker_range(self) -> tuple[int, int]:
        """The counts the clustering may answer: ``(n, n)`` when ``num_speakers`` is set."""
        if self.num_speakers is not None:
            return self.num_speakers, self.num_speakers
        return self.min_speakers, self.max_speakers

    def with_(self, **changes: Any) -> DiarizeOptions:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def speaker_counts(num_speakers: int | None = None, min_speakers: int | None = None,
                   max_speakers: int | None = None) -> dict[str, Any]:
    """The speaker-count fields a caller gave, as :class:`DiarizeOptions` keyword arguments.

    Raises:
        InvalidOptionError: ``num_speakers`` given together with a bound.
    """
    if num_speakers is not None and (min_speakers is not None or max_speakers is not None):
        raise InvalidOptionError("give num_speakers or min/max_speakers, not both")
    out = {"num_speakers": num_speakers, "min_speakers": min_speakers,
           "max_speakers": max_speakers}
    chosen = {k: v for k, v in out.items() if v is not None}
    if "min_speakers" in chosen and "max_speakers" not in chosen:
        chosen["max_speakers"] = max(chosen["min_speakers"], DiarizeOptions.max_speakers)
    return chosen
