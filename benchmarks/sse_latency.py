"""Streamed transcription (SSE): how soon the first words arrive, against waiting for all.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/sse_latency.py [--repeats 3]
    [--seconds 60]

About a minute of real speech (LibriSpeech test-other utterances from EARFUL_DATA, one after
another with 0.3 s pauses, written to one FLAC) is POSTed to `/v1/audio/transcriptions` of a
real `earful serve` process on loopback (default settings, tiny.en), once with
`stream=true` and once without, alternately, `repeats` times after a warm-up request.
Measured from the start of the request: the first `transcript.text.delta` event and the
`transcript.text.done` event of the streamed answer, and the whole non-streamed answer.
Medians are reported; the streamed text is checked against the non-streamed one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

from _common import data_dir, save, table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.service.server_process import ServerProcess  # noqa: E402

RATE = 16000
FORM = {"model": "whisper-1", "response_format": "json"}


def long_speech(folder: Path, seconds: float) -> tuple[Path, float]:
    """LibriSpeech utterances joined (0.3 s apart) until ``seconds`` are reached, as FLAC."""
    from earful.asr.evaluate import read_manifest

    rows = read_manifest(data_dir() / "speech" / "librispeech_test_other" /
                         "transcripts.tsv")
    pause = np.zeros(int(0.3 * RATE), np.float32)
    parts: list[np.ndarray] = []
    total = 0.0
    for path, _ in rows:
        audio, rate = sf.read(path, dtype="float32")
        if rate != RATE:
            sys.exit(f"{path}: {rate} Hz, expected {RATE}")
        parts += [audio, pause]
        total += (audio.size + pause.size) / RATE
        if total >= seconds:
            break
    out = folder / "speech.flac"
    sf.write(out, np.concatenate(parts), RATE)
    return out, total


def streamed(client: httpx.Client, url: str, data: bytes) -> tuple[float, float, str]:
    """Seconds to the first delta and to the done event, and the text done carried."""
    start = time.perf_counter()
    first: float | None = None
    done = float("nan")
    text = ""
    with client.stream("POST", url, files={"file": ("speech.flac", data)},
                       data={**FORM, "stream": "true"}) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if event.get("type") == "transcript.text.delta" and first is None:
                first = time.perf_counter() - start
            elif event.get("type") == "transcript.text.done":
                done = time.perf_counter() - start
                text = event["text"]
            elif "error" in event:
                raise RuntimeError(f"error event: {event['error']}")
    if first is None:
        raise RuntimeError("no transcript.text.delta event came")
    return first, done, text


def whole(client: httpx.Client, url: str, data: bytes) -> tuple[float, str]:
    """Seconds to the whole non-streamed answer, and its text."""
    start = time.perf_counter()
    resp = client.post(url, files={"file": ("speech.flac", data)}, data=FORM)
    resp.raise_for_status()
    return time.perf_counter() - start, str(resp.json()["text"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="requests of each kind")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of the speech file (at least)")
    args = parser.parse_args()
    from earful.asr.evaluate import get_normaliser, score

    norm = get_normaliser()
    firsts, dones, wholes, diffs = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp)) as server:
        path, seconds = long_speech(Path(tmp), args.seconds)
        data = path.read_bytes()
        url = f"{server.url}/v1/audio/transcriptions"
        with httpx.Client(timeout=600) as client:
            whole(client, url, data)  # load the model
            for i in range(args.repeats):
                first, done, text = streamed(client, url, data)
                total, reference = whole(client, url, data)
                firsts.append(first)
                dones.append(done)
                wholes.append(total)
                diffs.append(score([reference], [text], norm).wer)
                print(f"run {i + 1}: first delta {first:.2f} s, done {done:.2f} s, "
                      f"non-streamed {total:.2f} s", flush=True)
    rows = [[f"{seconds:.1f} s", f"{statistics.median(firsts):.2f} s",
             f"{statistics.median(dones):.2f} s", f"{statistics.median(wholes):.2f} s",
             f"{100 * max(diffs):.1f}%"]]
    md = ("### Streamed transcription (SSE; LibriSpeech test-other utterances joined into one "
          f"file, tiny.en, `/v1/audio/transcriptions` on loopback, median of {args.repeats})"
          "\n\n" + table(["audio", "first `transcript.text.delta` (streamed)",
                          "`transcript.text.done` (streamed)", "whole answer (not streamed)",
                          "streamed text vs not streamed (WER, worst)"], rows))
    save("sse_latency", md, {"audio_s": seconds, "first_delta_s": firsts, "done_s": dones,
                             "whole_s": wholes, "wer_streamed_vs_whole": diffs})


if __name__ == "__main__":
    main()
