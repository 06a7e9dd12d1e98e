"""Many files in one run: expand inputs, transcribe each, isolate failures, summarise."""

from __future__ import annotations

import glob
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Transcript
from earful.asr.transcribe import transcribe_file
from earful.asr.writers import write_transcript
from earful.audio.io import AUDIO_EXTENSIONS
from earful.errors import EarfulError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One input file and where its output goes (relative to the output folder)."""

    path: Path
    relative: Path


@dataclass
class BatchSummary:
    """What a batch run did."""

    succeeded: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def total(self) -> int:
        """Files seen."""
        return self.succeeded + len(self.failed) + self.skipped

    def line(self) -> str:
        """One human-readable summary line."""
        speed = self.audio_seconds / self.wall_seconds if self.wall_seconds else 0.0
        return (f"{self.succeeded} transcribed, {len(self.failed)} failed, {self.skipped} "
                f"skipped; {self.audio_seconds:.1f} s of audio in {self.wall_seconds:.1f} s "
                f"({speed:.1f}x real time)")


def expand_inputs(inputs: Iterable[str]) -> Iterator[Job]:
    """Yield each audio file named by ``inputs`` once: files, folders (recursively) or globs.

    A name that matches nothing is yielded as is, so the caller reports it as missing.
    """
    seen: set[Path] = set()

    def emit(path: Path, relative: Path) -> Iterator[Job]:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            yield Job(path, relative)

    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS:
                    yield from emit(f, f.relative_to(p))
        elif p.exists():
            yield from emit(p, Path(p.name))
        else:
            matches = sorted(glob.glob(item, recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file()]
            if not files:
                yield from emit(p, Path(p.name))
            for f in files:
                yield from emit(f, Path(f.name))


def output_path(job: Job, output_dir: Path, fmt: str) -> Path:
    """Where a job's output goes: its relative path under ``output_dir`` with a new suffix."""
    return output_dir / job.relative.with_suffix(f".{fmt}")


def assign_outputs(jobs: list[Job], output_dir: Path, fmt: str) -> list[Path]:
    """Output paths for ``jobs``: ``<stem>.<fmt>``, or ``<name>.<fmt>`` (source extension
    kept) where two inputs would otherwise write the same file."""
    plain = [output_path(job, output_dir, fmt) for job in jobs]
    counts: dict[Path, int] = {}
    for p in plain:
        counts[p] = counts.get(p, 0) + 1
    out = []
    for job, p in zip(jobs, plain, strict=True):
        if counts[p] > 1:
            p = output_dir / job.relative.with_name(f"{job.relative.name}.{fmt}")
            logger.warning("%s shares its stem with another input; writing %s", job.path, p)
        out.append(p)
    return out


def run_batch(jobs: Iterable[Job], opts: TranscribeOptions, spec: ModelSpec | None = None,
              *, fmt: str = "txt",
              output_dir: Path | None = None, skip_existing: bool = False,
              on_result: Callable[[Job, Transcript], None] | None = None,
              progress: bool = True,
              postprocess: Callable[[Job, Transcript], Transcript] | None = None,
              ) -> BatchSummary:
    """Transcribe every job; a failing file is logged, counted and skipped.

    Args:
        jobs: Files to transcribe.
        opts: Decoding options.
        spec: The model (default :class:`ModelSpec`).
        fmt: Output format when writing files.
        output_dir: Write ``<relative stem>.<fmt>`` files here (atomically); ``None`` writes
            nothing and only calls ``on_result``.
        skip_existing: Leave files whose output already exists alone.
        on_result: Called with each successful transcript (for printing).
        progress: Show a progress bar on stderr.
        postprocess: Applied to each transcript before it is written (speaker
            attribution); its errors count as the file's failure.
    """
    from tqdm import tqdm

    spec = spec or ModelSpec()
    opts.check_for(spec)  # a bad combination fails once, not once per file
    summary = BatchSummary()
    start = time.perf_counter()
    job_list = list(jobs)
    dests: list[Path | None] = (list(assign_outputs(job_list, output_dir, fmt))
                                if output_dir is not None else [None] * len(job_list))
    bar = tqdm(zip(job_list, dests, strict=True), total=len(job_list), unit="file",
               disable=not progress or len(job_list) < 2, leave=False)
    for job, dest in bar:
        bar.set_postfix_str(job.path.name[:30], refresh=False)
        if skip_existing and dest is not None and dest.exists():
            summary.skipped += 1
            continue
        t0 = time.perf_counter()
        try:
            result = transcribe_file(job.path, opts, spec)
            if postprocess is not None:
                result = postprocess(job, result)
            if dest is not None:
                write_transcript(result, dest, fmt)
        except EarfulError as e:
            summary.failed.append((str(job.path), str(e)))
            logger.error("skipped %s: %s", job.path, e)
            continue
        except Exception as e:
            summary.failed.append((str(job.path), f"{type(e).__name__}: {e}"))
            logger.exception("skipped %s after an unexpected error", job.path)
            continue
        summary.succeeded += 1
        summary.audio_seconds += result.duration
        logger.debug("%s: %.1f s of audio in %.2f s", job.path, result.duration,
                     time.perf_counter() - t0)
        if on_result is not None:
            on_result(job, result)
    summary.wall_seconds = time.perf_counter() - start
    return summary
