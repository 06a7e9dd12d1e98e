"""Transcription and evaluation of large corpora on a Ray cluster.

The driver streams the file list, packs files into tasks of about ``task_seconds`` of audio
and hands each task to whichever worker has the least audio outstanding, so work is balanced
by duration, not file count, and only a bounded number of tasks is ever in flight. Each
worker is a Ray actor that loads its model once (through the model manager) and writes
every output atomically (temporary name, then rename) to the shared output folder.

Exactly one complete output per input, whatever fails: a file whose output exists is skipped
(so a run resumes where it stopped), a worker that dies is restarted by Ray and its task run
again (rewriting the same file is harmless), and only the driver writes the manifest, once
per input, when a task's results come back.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from earful.asr.batch import BatchSummary, Job, expand_inputs, output_path
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.audio.constants import SAMPLE_RATE
from earful.errors import DependencyMissingError, InvalidOptionError

logger = logging.getLogger(__name__)

MANIFEST = "earful-manifest.jsonl"
ACTOR_PREFIX = "earful-asr-"
NAMESPACE = "earful"


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how wide to run."""

    address: str | None = None
    """A running cluster (``auto``, ``HOST:6379`` or ``ray://HOST:10001``); ``None`` starts a
    local Ray on this machine for the run."""
    workers: int = 0
    """Model-holding workers; 0 means one per ``cpus_per_worker`` CPUs of the cluster."""
    cpus_per_worker: float = 1.0
    """CPUs each worker reserves (and its CTranslate2 threads)."""
    gpus_per_worker: float = 0.0
    """GPUs each worker reserves (set with ``device='cuda'`` options)."""
    task_seconds: float = 120.0
    """Audio per task: short files are packed together up to this much."""
    max_files_per_task: int = 64
    """Upper bound on files in one task."""
    inflight_per_worker: int = 2
    """Tasks queued per worker, so a worker never waits for the driver."""
    max_retries: int = 3
    """Times Ray restarts a dead worker and reruns its task."""

    def __post_init__(self) -> None:
        if self.workers < 0 or self.cpus_per_worker <= 0 or self.gpus_per_worker < 0:
            raise InvalidOptionError("workers >= 0, cpus_per_worker > 0, gpus_per_worker >= 0")
        if self.task_seconds <= 0 or self.max_files_per_task < 1:
            raise InvalidOptionError("task_seconds > 0 and max_files_per_task >= 1")
        if self.inflight_per_worker < 1 or self.max_retries < 0:
            raise InvalidOptionError("inflight_per_worker >= 1 and max_retries >= 0")


@dataclass
class Item:
    """One input in a task: the audio, its output (``None``: return the text) and length."""

    path: str
    dest: str | None
    seconds: float


@dataclass
class Task:
    """Files sent to one worker in one call."""

    items: list[Item] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Audio in the task."""
        return sum(i.seconds for i in self.items)


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise DependencyMissingError("ray", "ray", "distributed transcription") from e
    return ray


class Worker:
    """The actor body: one model per process, many files per call."""

    def __init__(self, opts: TranscribeOptions, spec: ModelSpec, fmt: str) -> None:
        self.opts = opts
        self.spec = spec
        self.fmt = fmt

    def pid(self) -> int:
        """The worker's process id (tests kill it to check recovery)."""
        return os.getpid()

    def run(self, items: list[Item]) -> list[dict[str, Any]]:
        """Transcribe (and write, or return the text of) every item; failures are reported."""
        from earful.asr.transcribe import transcribe, transcribe_file
        from earful.asr.writers import write_transcript
        from earful.audio.io import load_audio

        out = []
        for item in items:
            start = time.perf_counter()
            row: dict[str, Any] = {"file": item.path, "output": item.dest, "pid": os.getpid()}
            try:
                if item.dest is None:  # evaluation: the same path as `eval-asr`
                    audio = load_audio(item.path, SAMPLE_RATE)
                    row["text"] = transcribe(audio, self.opts, self.spec).text
                    row["audio_seconds"] = len(audio) / SAMPLE_RATE
                else:
                    result = transcribe_file(item.path, self.opts, self.spec)
                    write_transcript(result, item.dest, self.fmt)
                    row["audio_seconds"] = result.duration
                row["status"] = "done"
            except Exception as e:  # a bad file must not end the task
                row.update(status="failed", reason=str(e) or type(e).__name__)
            row["seconds"] = round(time.perf_counter() - start, 3)
            out.append(row)
        return out


def _plan_outputs(inputs: Sequence[str], output_dir: Path, fmt: str) -> dict[Path, int]:
    """How many inputs map to each plain output name (a pass over names, not audio)."""
    counts: dict[Path, int] = {}
    for job in expand_inputs(inputs):
        p = output_path(job, output_dir, fmt)
        counts[p] = counts.get(p, 0) + 1
    return counts


def _dest(job: Job, output_dir: Path, fmt: str, counts: dict[Path, int]) -> Path:
    """The same name the local command gives (see ``batch.assign_outputs``)."""
    p = output_path(job, output_dir, fmt)
    if counts.get(p, 0) > 1:
        return output_dir / job.relative.with_name(f"{job.relative.name}.{fmt}")
    return p


def _duration(path: Path) -> float:
    from earful.audio.io import probe_duration

    try:
        return probe_duration(path)
    except Exception:
        return 0.0  # the worker reports what is wrong with it


def pack(items: Iterable[Item], task_seconds: float, max_files: int) -> Iterator[Task]:
    """Group items into tasks of about ``task_seconds`` of audio (streaming)."""
    task = Task()
    for item in items:
        if task.items and (task.seconds + item.seconds > task_seconds
                           or len(task.items) >= max_files):
            yield task
            task = Task()
        task.items.append(item)
    if task.items:
        yield task


class Dispatcher:
    """Runs tasks on a pool of actors, least outstanding audio first, retrying lost tasks."""

    def __init__(self, opts: TranscribeOptions, spec: ModelSpec, fmt: str,
                 cluster: ClusterOptions) -> None:
        ray = _ray()
        self.ray = ray
        self.started_ray = False
        if not ray.is_initialized():
            if cluster.address is None:
                ray.init(include_dashboard=False, namespace=NAMESPACE, log_to_driver=False,
                         configure_logging=False)
                self.started_ray = True
            else:
                ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
        n = cluster.workers or max(1, int(ray.cluster_resources().get("CPU", 1)
                                          // cluster.cpus_per_worker))
        if spec.cpu_threads == 0:
            spec = spec.with_(cpu_threads=max(1, int(cluster.cpus_per_worker)))
        actor_cls = ray.remote(Worker)
        stamp = f"{os.getpid()}-{time.time_ns()}"
        self.actors = [actor_cls.options(
            name=f"{ACTOR_PREFIX}{i}-{stamp}", num_cpus=cluster.cpus_per_worker,
            num_gpus=cluster.gpus_per_worker, max_restarts=cluster.max_retries,
            max_task_retries=cluster.max_retries).remote(opts, spec, fmt) for i in range(n)]
        self.load = [0.0] * n
        self.capacity = n * cluster.inflight_per_worker
        self.max_retries = cluster.max_retries
        self.inflight: dict[Any, tuple[int, Task, int]] = {}

    @property
    def full(self) -> bool:
        """Whether as many tasks are in flight as the pool should hold."""
        return len(self.inflight) >= self.capacity

    def submit(self, task: Task, attempt: int = 0) -> None:
        """Send a task to the worker with the least outstanding audio."""
        i = min(range(len(self.actors)), key=self.load.__getitem__)
        self.load[i] += task.seconds
        self.inflight[self.actors[i].run.remote(task.items)] = (i, task, attempt)

    def collect(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Wait for at least one task and return its rows (resubmitting lost tasks)."""
        if not self.inflight:
            return []
        ready, _ = self.ray.wait(list(self.inflight), num_returns=1, timeout=timeout)
        rows: list[dict[str, Any]] = []
        for ref in ready:
            i, task, attempt = self.inflight.pop(ref)
            self.load[i] -= task.seconds
            try:
                rows += self.ray.get(ref)
            except self.ray.exceptions.RayError as e:
                if attempt < self.max_retries:
                    logger.warning("a task was lost (%s); running it again", type(e).__name__)
                    self.submit(task, attempt + 1)
                else:
                    rows += [{"file": it.path, "output": it.dest, "status": "failed",
                              "reason": f"worker lost: {type(e).__name__}"}
                             for it in task.items]
        return rows

    def run(self, tasks: Iterable[Task],
            handle: Callable[[list[dict[str, Any]]], bool]) -> None:
        """Submit ``tasks`` as capacity allows and pass every batch of rows to ``handle``;
        ``handle`` returning True stops the run (tasks still in flight are abandoned)."""
        for task in tasks:
            while self.full:
                if handle(self.collect()):
                    return
            self.submit(task)
        while self.inflight:
            if handle(self.collect()):
                return

    def close(self) -> None:
        """Release the actors (and the local Ray this run started)."""
        for actor in self.actors:
            self.ray.kill(actor)
        if self.started_ray:
            self.ray.shutdown()


class Progress:
    """Files and audio hours done, throughput and ETA on the driver's terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="file", disable=not enabled, dynamic_ncols=True)
        self.audio = 0.0
        self.start = time.perf_counter()

    def update(self, rows: list[dict[str, Any]]) -> None:
        """Count finished rows."""
        self.audio += sum(r.get("audio_seconds", 0.0) for r in rows)
        wall = time.perf_counter() - self.start
        self.bar.set_postfix_str(f"{self.audio / 3600:.2f} h audio, "
                                 f"{self.audio / wall if wall else 0:.1f}x real time",
                                 refresh=False)
        self.bar.update(len(rows))

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


def _record(manifest: Any, rows: list[dict[str, Any]], summary: BatchSummary) -> None:
    for row in rows:
        row["time"] = round(time.time(), 3)
        manifest.write(json.dumps(row, ensure_ascii=False) + "\n")
        if row["status"] == "done":
            summary.succeeded += 1
            summary.audio_seconds += row.get("audio_seconds", 0.0)
        elif row["status"] == "skipped":
            summary.skipped += 1
        else:
            summary.failed.append((row["file"], row.get("reason", "")))
            logger.error("failed %s: %s", row["file"], row.get("reason"))
    manifest.flush()


def _sweep_partials(output_dir: Path) -> int:
    """Remove temporary files a killed worker left behind (never a complete output)."""
    removed = 0
    for part in output_dir.rglob(".*.part"):
        try:
            part.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def transcribe_on_ray(inputs: Sequence[str], opts: TranscribeOptions, output_dir: Path, *,
                      spec: ModelSpec | None = None, fmt: str = "txt",
                      cluster: ClusterOptions | None = None, progress: bool = True,
                      stop: Callable[[BatchSummary], bool] | None = None) -> BatchSummary:
    """Transcribe files, folders or globs on Ray, writing one output per input.

    Args:
        inputs: As for ``earful transcribe``.
        opts: Decoding options.
        spec: The model (each worker loads it once; default :class:`ModelSpec`).
        output_dir: Where outputs and ``earful-manifest.jsonl`` go (shared storage on a real
            cluster). Existing complete outputs are skipped, so rerunning resumes.
        fmt: Output format.
        cluster: Ray address and pool shape.
        progress: Show progress on stderr.
        stop: Called after each finished task; returning True stops the run early (what a
            Ctrl-C does), leaving every written output complete.
    """
    cluster = cluster or ClusterOptions()
    output_dir.mkdir(parents=True, exist_ok=True)
    counts = _plan_outputs(inputs, output_dir, fmt)
    summary = BatchSummary()
    start = time.perf_counter()
    spec = spec or ModelSpec()
    opts.check_for(spec)
    pool = Dispatcher(opts, spec, fmt, cluster)
    bar = Progress(sum(counts.values()), progress)
    try:
        with open(output_dir / MANIFEST, "a", encoding="utf-8") as manifest:

            def items() -> Iterator[Item]:
                for job in expand_inputs(inputs):
                    dest = _dest(job, output_dir, fmt, counts)
                    if dest.exists():
                        rows = [{"file": str(job.path), "output": str(dest),
                                 "status": "skipped"}]
                        _record(manifest, rows, summary)
                        bar.update(rows)
                        continue
                    yield Item(str(job.path), str(dest), _duration(job.path))

            def handle(rows: list[dict[str, Any]]) -> bool:
                _record(manifest, rows, summary)
                bar.update(rows)
                return bool(rows) and stop is not None and stop(summary)

            pool.run(pack(items(), cluster.task_seconds, cluster.max_files_per_task), handle)
    except KeyboardInterrupt:
        logger.warning("interrupted; completed outputs are kept, rerun to resume")
        raise
    finally:
        bar.close()
        pool.close()
        swept = _sweep_partials(output_dir)
        if swept:
            logger.info("removed %d partial file(s) left by lost workers", swept)
    summary.wall_seconds = time.perf_counter() - start
    return summary


def evaluate_on_ray(rows: Sequence[tuple[Path, str]], opts: TranscribeOptions, *,
                    spec: ModelSpec | None = None, normaliser: str = "english",
                    cluster: ClusterOptions | None = None, progress: bool = True) -> Any:
    """``eval-asr`` distributed: hypotheses on the workers, corpus scores on the driver."""
    from earful.asr.evaluate import build_report, get_normaliser, utterance

    cluster = cluster or ClusterOptions()
    norm = get_normaliser(normaliser)
    refs = {str(p): text for p, text in rows}
    start = time.perf_counter()
    spec = spec or ModelSpec()
    opts.check_for(spec)
    pool = Dispatcher(opts, spec, "txt", cluster)
    bar = Progress(len(rows), progress)
    results: list[dict[str, Any]] = []

    def handle(got: list[dict[str, Any]]) -> bool:
        results.extend(got)
        bar.update(got)
        return False

    try:
        items = (Item(str(p), None, _duration(p)) for p, _ in rows)
        pool.run(pack(items, cluster.task_seconds, cluster.max_files_per_task), handle)
    finally:
        bar.close()
        pool.close()
    order = {str(p): i for i, (p, _) in enumerate(rows)}
    results.sort(key=lambda r: order[r["file"]])
    done = [utterance(r["file"], refs[r["file"]], r["text"], r["audio_seconds"], norm)
            for r in results if r["status"] == "done"]
    failed = [(r["file"], r.get("reason", "")) for r in results if r["status"] != "done"]
    return build_report(None, done, failed, time.perf_counter() - start, norm)
