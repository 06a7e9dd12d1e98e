"""``earful analyze``."""

from __future__ import annotations

import argparse
import json
import logging

logger = logging.getLogger("earful")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from earful.audio.analyze import analyze

    written = analyze(args.file, args.out)
    for name, path in written.items():
        logger.info("wrote %s: %s", name, path)
    print(json.dumps({k: str(v) for k, v in written.items()}, indent=2))
    return 0


def _add_analyze(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="write waveform/spectrogram/mel/MFCC plots and a summary")
    p.add_argument("file", help="audio file in any supported format")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(handler=_cmd_analyze)


REGISTRARS = [_add_analyze]
