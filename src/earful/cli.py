"""The ``earful`` command line: thin subcommands over library calls.

Each subcommand registers its arguments in a ``_add_*`` function and runs a handler that
imports its library module lazily, so ``earful --help`` starts fast and a missing optional
extra only affects the command that needs it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from earful import __version__
from earful.errors import EarfulError

logger = logging.getLogger("earful")

Handler = Callable[[argparse.Namespace], int]


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


def _registrars() -> list[Callable[[argparse._SubParsersAction], None]]:
    from earful import cli_asr, cli_classify, cli_service, cli_tts

    return [_add_analyze, *cli_asr.REGISTRARS, *cli_classify.REGISTRARS,
            *cli_service.REGISTRARS, *cli_tts.REGISTRARS]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="earful", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"earful {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _registrars():
        register(sub)
    # Accept -v/-q after the subcommand too; SUPPRESS keeps the top-level value otherwise.
    for child in sub.choices.values():
        child.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                           help="debug logging")
        child.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                           help="warnings and errors only")
    return parser


def configure_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Log to stderr at INFO (DEBUG with ``verbose``, WARNING with ``quiet``)."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        for noisy in ("faster_whisper", "httpx", "matplotlib", "numba", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    try:
        return int(args.handler(args))
    except EarfulError as e:
        logger.error("%s", e)
        return 2
    except KeyboardInterrupt:
        logger.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
