"""``earful listen``: stream a file (or the microphone) into a server's realtime route and
print partial and final lines as they come."""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger("earful")

RATE = 24000  # what OpenAI's realtime protocol sends by default
CHUNK_SECONDS = 0.1


def _file_chunks(path: str, pace: float) -> Iterator[bytes]:
    import numpy as np

    from earful.audio.io import load_audio

    audio = load_audio(path, RATE)
    tail = np.zeros(int(1.5 * RATE), np.float32)  # let server VAD see the end of speech
    pcm = (np.clip(np.concatenate([audio, tail]), -1, 1) * 32767).astype("<i2").tobytes()
    step = int(RATE * CHUNK_SECONDS) * 2
    start = time.monotonic()
    for i in range(0, len(pcm), step):
        yield pcm[i:i + step]
        due = start + (i + step) / (2 * RATE) / pace
        time.sleep(max(0.0, due - time.monotonic()))


def _microphone_chunks() -> Iterator[bytes]:
    try:
        import sounddevice
    except ImportError as e:
        raise SystemExit("listening to the microphone needs the sounddevice package "
                         "(pip install sounddevice); or give a FILE") from e
    with sounddevice.RawInputStream(samplerate=RATE, channels=1, dtype="int16",
                                    blocksize=int(RATE * CHUNK_SECONDS)) as stream:
        logger.info("listening; Ctrl-C to stop")
        while True:
            data, _ = stream.read(int(RATE * CHUNK_SECONDS))
            yield bytes(data)


class Printer:
    """Partial text on one line (rewritten while it grows), each final on its own."""

    def __init__(self) -> None:
        self.partial = ""
        self.committed = 0
        self.completed = 0
        self.lock = threading.Lock()

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("type", "")
        with self.lock:
            if kind == "input_audio_buffer.committed":
                self.committed += 1
            elif kind.endswith("input_audio_transcription.delta"):
                self.partial += event.get("delta", "")
                sys.stdout.write(f"\r… {self.partial}")
            elif kind.endswith("input_audio_transcription.completed"):
                self.completed += 1
                sys.stdout.write(f"\r{event.get('transcript', '')}\n")
                self.partial = ""
            elif kind == "error":
                sys.stderr.write(f"server: {event['error'].get('message')}\n")
            sys.stdout.flush()


def _cmd_listen(args: argparse.Namespace) -> int:
    from websockets.sync.client import connect

    from earful.config import get_settings

    key = get_settings().api_key
    url = args.url.rstrip("/").replace("http", "ws", 1) + "/v1/realtime?intent=transcription"
    transcription = {"model": args.model or "whisper-1", "language": args.language}
    update = {"type": "session.update", "session": {"type": "transcription", "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": RATE},
                  "transcription": transcription,
                  "turn_detection": {"type": "server_vad",
                                     "silence_duration_ms": args.silence_ms}}}}}
    printer = Printer()
    headers = {"Authorization": f"Bearer {key}"} if key else None
    with connect(url, additional_headers=headers, max_size=None) as ws:

        def read() -> None:
            for message in ws:
                printer.event(json.loads(message))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        ws.send(json.dumps(update))
        chunks = _file_chunks(args.file, args.pace) if args.file else _microphone_chunks()
        try:
            for chunk in chunks:
                ws.send(json.dumps({"type": "input_audio_buffer.append",
                                    "audio": base64.b64encode(chunk).decode()}))
        except KeyboardInterrupt:
            pass
        deadline = time.monotonic() + 60
        while printer.completed < printer.committed and time.monotonic() < deadline:
            time.sleep(0.05)
    return 0


def _add_listen(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("listen", help="stream audio into a server's realtime route and print "
                                      "partial and final transcripts")
    p.add_argument("file", nargs="?", default=None,
                   help="audio file, sent at real speed (default: the microphone)")
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the earful server")
    p.add_argument("--language", default=None, help="language code; default: detect")
    p.add_argument("--model", default=None, help="one of the server's models")
    p.add_argument("--pace", type=float, default=1.0, help="speed of a file: 1 is real time")
    p.add_argument("--silence-ms", type=int, default=500,
                   help="silence that ends a turn (server VAD)")
    p.set_defaults(handler=_cmd_listen)


REGISTRARS = [_add_listen]
