"""Realtime transcription at real-time pace: latency, partials, accuracy, concurrent sessions.

Run: .venv/bin/python benchmarks/realtime.py [utterances=10]
LibriSpeech test-other utterances (from EARFUL_DATA) are streamed at real speed, each
followed by 1.5 s of silence, into `/v1/realtime` of a server on loopback (default settings,
server VAD with 500 ms of silence). Measured per turn: end of speech -> completed transcript
(target median <= 1.0 s), speech start -> first partial; WER of the realtime finals against
the batch transcript of the same audio (target within 2 points); then the same with 2, 4
and 6 sessions at once (target: >= 4 sessions with the median <= 1.5 s).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from _common import data_dir, save, table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.service.conftest import LiveServer, make_settings  # noqa: E402
from tests.service.realtime_client import COMPLETED, DELTA, Realtime, pcm16  # noqa: E402

UPDATE = {"type": "session.update", "session": {"type": "transcription", "audio": {"input": {
    "format": {"type": "audio/pcm", "rate": 24000},
    "transcription": {"model": "whisper-1", "language": "en"},
    "turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}}}}


async def one_session(url: str, clips: list[np.ndarray]) -> dict[str, list]:
    """Stream the clips one after another; per clip: latency to its last completed
    transcript, time to its first partial, and the text of its finals."""
    out: dict[str, list] = {"latency": [], "first_partial": [], "texts": []}
    async with Realtime(url) as rt:
        await rt.send(UPDATE)
        await rt.wait_for("session.updated")
        for clip in clips:
            before = len(rt.events)
            start = asyncio.get_running_loop().time()
            data = pcm16(np.concatenate([clip, np.zeros(24000, np.float32)]), 16000)
            speech_end = start + clip.size / 16000
            await rt.stream(data, 48000)
            await rt.settle()
            await rt.stream(pcm16(np.zeros(8000, np.float32), 16000), 48000)  # a gap
            new = rt.events[before:]
            done = [(t, e) for t, e in new if e["type"] == COMPLETED]
            deltas = [t for t, e in new if e["type"] == DELTA]
            if done:
                out["latency"].append(done[-1][0] - speech_end)
                out["texts"].append(" ".join(e["transcript"] for _, e in done))
            if deltas:
                out["first_partial"].append(min(deltas) - start)
    return out


def main() -> None:
    from earful.asr.evaluate import get_normaliser, read_manifest, score
    from earful.asr.transcribe import transcribe

    norm = get_normaliser()

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    rows = read_manifest(data_dir() / "speech" / "librispeech_test_other" /
                         "transcripts.tsv")[:count]
    clips = [sf.read(path, dtype="float32")[0] for path, _ in rows]
    batch = [transcribe(c).text for c in clips]
    table_rows, raw = [], {}
    with tempfile.TemporaryDirectory() as tmp, LiveServer(make_settings(Path(tmp),
                                                                        queue_size=64)) as srv:
        asyncio.run(one_session(srv.url, clips[:1]))  # warm the model
        for sessions in (1, 2, 4, 6):
            async def run(n: int = sessions) -> list[dict[str, list]]:
                return await asyncio.gather(*[one_session(srv.url, clips) for _ in range(n)])

            results = asyncio.run(run())
            lat = sorted(x for r in results for x in r["latency"])
            partial = [x for r in results for x in r["first_partial"]]
            texts = results[0]["texts"]
            wer = score(batch, texts, norm).wer if len(texts) == len(batch) else float("nan")
            refs = score([t for _, t in rows], texts, norm).wer if \
                len(texts) == len(rows) else float("nan")
            table_rows.append([sessions, len(lat), f"{statistics.median(lat):.2f} s",
                               f"{lat[min(len(lat) - 1, int(0.95 * len(lat)))]:.2f} s",
                               f"{statistics.median(partial):.2f} s" if partial else "-",
                               f"{100 * wer:.1f}%", f"{100 * refs:.1f}%"])
            raw[str(sessions)] = {"latency_s": lat, "first_partial_s": partial,
                                  "wer_vs_batch": wer, "wer_vs_reference": refs}
            print(table_rows[-1], flush=True)
    batch_wer = score([t for _, t in rows], batch, norm).wer
    md = (f"### Realtime transcription ({count} LibriSpeech test-other utterances at real "
          "speed, tiny.en, server VAD 500 ms, 2 CPU cores)\n\n"
          + table(["sessions", "turns", "end of speech -> final (median)", "p95",
                   "speech start -> first partial (median)",
                   "WER of finals vs batch transcript", "WER vs reference"], table_rows)
          + f"\n\nBatch transcription of the same audio: WER {100 * batch_wer:.1f}% against "
            "the references.")
    save("realtime", md, raw)


if __name__ == "__main__":
    main()
