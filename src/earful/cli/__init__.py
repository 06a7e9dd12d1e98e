"""The ``earful`` command line: thin subcommands over library calls.

Each capability has its module here (``audio``, ``asr``, ``diarize``, ``classify``,
``service``, ``tts``) with a ``REGISTRARS`` list of functions that add its subcommands.
Handlers import their library modules lazily, so ``earful --help`` starts fast and a
missing optional extra only affects the command that needs it.

Options that set a field of a library dataclass (``TranscribeOptions``, ``TrainConfig``,
``SpeakOptions``...) default to ``None``, and only the values the user gave reach the
dataclass (:func:`given`): the dataclass field defaults are the only defaults. Their help
shows that default, looked up when help is printed (:class:`FieldHelp`), never repeated.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from earful import __version__
from earful.errors import EarfulError

logger = logging.getLogger("earful")

Handler = Callable[[argparse.Namespace], int]
Registrar = Callable[[argparse._SubParsersAction], None]


def field_default(owner: str, name: str) -> Any:
    """The default of field ``name`` of ``owner``.

    Args:
        owner: ``"module:Name"``: a dataclass (its field's default) or a function (the
            default of its keyword parameter ``name``).
        name: The field or parameter.

    Raises:
        ImportError: The owner's module needs an optional extra that is not installed.
        LookupError: ``owner`` has no such field, or the field has no default.
    """
    module, _, attr = owner.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.name == name and f.default is not dataclasses.MISSING:
                return f.default
            if f.name == name and f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
        raise LookupError(f"{owner} has no field {name!r} with a default")
    param = inspect.signature(obj).parameters.get(name)
    if param is None or param.default is inspect.Parameter.empty:
        raise LookupError(f"{owner} has no parameter {name!r} with a default")
    return param.default


class FieldHelp(str):
    """Help text for an option that sets a library field; :class:`HelpFormatter` appends
    the field's default, read when help is printed.

    ``owners`` maps a label to ``"module:Name"`` (see :func:`field_default`); the label is
    empty for an option with one owner, and names the case for an option that sets a field
    of several ("the CNN", "an encoder head").
    """

    owners: dict[str, str]
    name: str

    def __new__(cls, text: str, owners: dict[str, str], name: str) -> FieldHelp:
        help_ = super().__new__(cls, text)
        help_.owners, help_.name = owners, name
        return help_

    def describe_default(self) -> str:
        """``0.2`` or ``0.2 for the CNN, 0.3 for an encoder head`` (imports the owners)."""
        return ", ".join(f"{field_default(owner, self.name)}{f' for {label}' if label else ''}"
                         for label, owner in self.owners.items())


class HelpFormatter(argparse.HelpFormatter):
    """Adds "(default: X)" to :class:`FieldHelp` texts."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)
        if not isinstance(action.help, FieldHelp):
            return text
        try:
            default = action.help.describe_default()
        except ImportError:  # the extra this command needs is missing: show no default
            return text
        return f"{text} (default: {default.replace('%', '%%')})"  # %-formatted next


def field_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *flags: str,
                 owner: str | dict[str, str], help: str, name: str | None = None,
                 **kwargs: Any) -> argparse.Action:
    """Add an option that sets field ``name`` (default: the option's dest) of ``owner``.

    Its default is ``None``, meaning "not given": read the values with :func:`given`.

    Args:
        parser: Where to add it.
        flags: The option strings.
        owner: ``"module:Name"`` of the dataclass (or function) whose default applies, or
            ``{label: "module:Name"}`` for an option that sets a field of each.
        help: What the option does; "(default: X)" is added.
        name: The field, when it is not named like the option.
        kwargs: Passed to ``add_argument``.
    """
    action = parser.add_argument(*flags, default=None, **kwargs)
    owners = {"": owner} if isinstance(owner, str) else owner
    action.help = FieldHelp(help, owners, name or action.dest)
    return action


def given(args: argparse.Namespace, *names: str, **renamed: str) -> dict[str, Any]:
    """The options the user gave, as keyword arguments for a dataclass.

    Args:
        args: Parsed arguments.
        names: Fields whose option dest has the same name.
        renamed: ``field=dest`` for options named differently from their field.
    """
    pairs = [(n, n) for n in names] + list(renamed.items())
    return {field: getattr(args, dest) for field, dest in pairs
            if getattr(args, dest, None) is not None}


def show_progress(args: argparse.Namespace) -> bool:
    """Whether to draw progress bars (on stderr): not with ``--quiet``."""
    return not args.quiet


def report_failures(failed: Sequence[tuple[str, str]]) -> int:
    """Log the inputs that failed and why; return the exit code (1 if any failed)."""
    if failed:
        lines = os.linesep.join(f"  {path}: {reason}" for path, reason in failed)
        logger.error("%d file(s) failed:\n%s", len(failed), lines)
    return 1 if failed else 0


def _registrars() -> list[Registrar]:
    from earful.cli import asr, audio, classify, diarize, live, service, tts

    return [*audio.REGISTRARS, *asr.REGISTRARS, *diarize.REGISTRARS, *classify.REGISTRARS,
            *service.REGISTRARS, *live.REGISTRARS, *tts.REGISTRARS]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="earful", description=__doc__.splitlines()[0],
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"earful {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _registrars():
        register(sub)
    for child in sub.choices.values():
        child.formatter_class = HelpFormatter
        # Accept -v/-q after the subcommand too; SUPPRESS keeps the top-level value otherwise.
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
