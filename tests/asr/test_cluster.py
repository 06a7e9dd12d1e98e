"""Transcription on a real local Ray cluster (2 CPUs): outputs, failures, a killed worker,
resuming, and distributed evaluation."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from earful.asr.batch import BatchSummary
from earful.asr.cluster import (
    MANIFEST,
    ClusterOptions,
    Item,
    evaluate_on_ray,
    pack,
    transcribe_on_ray,
)
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.errors import InvalidOptionError

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'earful[ray]')")

# Greedy decoding on one thread per worker keeps the corpus runs short; the local reference
# uses exactly the same options.
OPTS = TranscribeOptions(beam_size=1)
SPEC = ModelSpec(cpu_threads=1)
on_ray = functools.partial(transcribe_on_ray, spec=SPEC)
CLUSTER = ClusterOptions(workers=2, task_seconds=30.0)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, namespace="earful", log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def originals(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "speech" / "read_speech").glob("*.flac"))[:30]
    assert len(files) == 30
    return files


def make_corpus(root: Path, originals: list[Path], copies: int) -> dict[Path, Path]:
    """Each original under ``copies`` new names in nested folders -> {copy: original}."""
    made = {}
    for k in range(copies):
        folder = root / f"part{k % 3}" / f"batch{k}"
        folder.mkdir(parents=True)
        for i, src in enumerate(originals):
            dest = folder / f"utt{k:02d}_{i:03d}{src.suffix}"
            try:
                os.link(src, dest)
            except OSError:
                dest.write_bytes(src.read_bytes())
            made[dest] = src
    return made


def manifest_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]


@pytest.fixture(scope="module")
def local_texts(originals: list[Path], tmp_path_factory: pytest.TempPathFactory
                ) -> dict[Path, str]:
    """What the local command writes, run with a worker's thread settings: Ray gives each
    one-CPU worker OMP_NUM_THREADS=1, and CTranslate2's floating-point results (so, rarely,
    a word) depend on the thread count."""
    out = tmp_path_factory.mktemp("local")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EARFUL_ASR_CPU_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "earful", "transcribe", *map(str, originals),
                    "--beam-size", "1", "--output-dir", str(out), "-q"],
                   env=env, check=True, timeout=600)
    return {p: (out / f"{p.stem}.txt").read_text() for p in originals}


def test_pack_balances_by_duration() -> None:
    items = [Item(f"f{i}", None, s) for i, s in enumerate([50, 50, 10, 10, 10, 200, 5])]
    tasks = list(pack(items, task_seconds=60, max_files=2))
    assert [[it.path for it in t.items] for t in tasks] == [
        ["f0"], ["f1", "f2"], ["f3", "f4"], ["f5"], ["f6"]]
    with pytest.raises(InvalidOptionError):
        ClusterOptions(task_seconds=0)


@pytest.mark.slow
def test_corpus_matches_local_and_reports_bad_files(
        local_ray: None, originals: list[Path], local_texts: dict[Path, str],
        tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", originals, copies=8)
    (tmp_path / "corpus" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (tmp_path / "corpus" / "empty.flac").write_bytes(b"")
    out = tmp_path / "out"
    summary = on_ray([str(tmp_path / "corpus")], OPTS, out, cluster=CLUSTER, progress=False)
    assert summary.succeeded == 240 and summary.skipped == 0
    assert sorted(Path(f).name for f, _ in summary.failed) == ["broken.wav", "empty.flac"]
    for copy, original in corpus.items():
        dest = out / copy.relative_to(tmp_path / "corpus").with_suffix(".txt")
        assert dest.read_text() == local_texts[original], copy
    outputs = [p for p in out.rglob("*") if p.is_file() and p.name != MANIFEST]
    assert len(outputs) == 240  # exactly one per good input, no partial files
    rows = manifest_rows(out)
    assert Counter(r["file"] for r in rows).most_common(1)[0][1] == 1
    failed = {Path(r["file"]).name: r["reason"] for r in rows if r["status"] == "failed"}
    assert failed.get("broken.wav")


@pytest.mark.slow
def test_killed_worker_loses_and_duplicates_nothing(
        local_ray: None, originals: list[Path], local_texts: dict[Path, str],
        tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", originals, copies=3)
    out = tmp_path / "out"
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            rows = manifest_rows(out) if (out / MANIFEST).exists() else []
            done = [r for r in rows if r["status"] == "done"]
            if len(done) >= 10:
                pid = done[-1]["pid"]  # a worker that is busy with its next task
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.1)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    summary = on_ray([str(tmp_path / "corpus")], OPTS, out,
                     cluster=ClusterOptions(workers=2, task_seconds=15.0), progress=False)
    thread.join(timeout=5)
    assert killed, "the run finished before a worker could be killed"
    assert summary.succeeded == 90 and not summary.failed
    rows = manifest_rows(out)
    assert sorted(r["file"] for r in rows) == sorted(str(p) for p in corpus)
    assert len({r["pid"] for r in rows}) >= 3  # the killed worker was replaced
    for copy, original in corpus.items():
        dest = out / copy.relative_to(tmp_path / "corpus").with_suffix(".txt")
        assert dest.read_text() == local_texts[original]
    assert not list(out.rglob("*.part"))


@pytest.mark.slow
def test_resume_processes_only_the_rest(local_ray: None, originals: list[Path],
                                        tmp_path: Path) -> None:
    make_corpus(tmp_path / "corpus", originals, copies=2)
    out = tmp_path / "out"

    def halfway(summary: BatchSummary) -> bool:
        return summary.succeeded >= 20

    first = on_ray([str(tmp_path / "corpus")], OPTS, out, cluster=CLUSTER, progress=False,
                   stop=halfway)
    assert 20 <= first.succeeded < 60
    second = on_ray([str(tmp_path / "corpus")], OPTS, out, cluster=CLUSTER, progress=False)
    # A task in flight when the first run stopped may have finished writing a file after the
    # driver stopped listening: that output is complete, so the rerun skips it too.
    assert first.succeeded <= second.skipped <= first.succeeded + 2 * CLUSTER.workers * \
        CLUSTER.max_files_per_task
    assert second.succeeded == 60 - second.skipped and not second.failed
    rows = manifest_rows(out)
    done = [r["file"] for r in rows if r["status"] == "done"]
    assert len(done) == len(set(done))  # nothing transcribed twice
    skipped_now = {r["file"] for r in rows[-60:] if r["status"] == "skipped"}
    assert len(skipped_now) == second.skipped
    assert set(done) | skipped_now == {str(p) for p in (tmp_path / "corpus").rglob("*.flac")}
    assert len(list(out.rglob("*.txt"))) == 60


@pytest.mark.slow
def test_distributed_evaluation_equals_local(local_ray: None, shared_data: Path) -> None:
    from earful.asr.evaluate import read_manifest

    manifest = shared_data / "speech" / "librispeech_test_other" / "transcripts.tsv"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EARFUL_ASR_CPU_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "earful", "eval-asr", str(manifest),
                           "--limit", "12", "--beam-size", "1", "--json", "-q"],
                          env=env, check=True, timeout=600, capture_output=True, text=True)
    local = json.loads(done.stdout)[0]
    remote = evaluate_on_ray(read_manifest(manifest)[:12], OPTS, spec=SPEC, cluster=CLUSTER,
                             progress=False)
    assert [u.hypothesis for u in remote.utterances] == [r["hypothesis"] for r in local["rows"]]
    assert remote.scores.wer == local["wer"] and remote.scores.cer == local["cer"]
