"""Typed exceptions for earful.

Every failure the library reports on purpose is an :class:`EarfulError`. The service maps
each subclass to one HTTP status in a single place (``earful.service.errors``), and the CLI
prints the message and exits non-zero, so no caller ever has to catch a third-party exception.
"""

from __future__ import annotations


class EarfulError(Exception):
    """Base class of all errors earful raises deliberately."""

    #: Short machine-readable type name used in JSON error bodies.
    kind: str = "earful_error"


class InvalidOptionError(EarfulError, ValueError):
    """An option or argument has a value outside its documented range."""

    kind = "invalid_option"


class AudioDecodeError(EarfulError):
    """Audio could not be decoded: empty, truncated, corrupt, or not audio at all.

    Args:
        source: A printable name of the input (file path or ``"<bytes>"``).
        reason: What went wrong, in words a user can act on.
    """

    kind = "audio_decode_error"

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"cannot decode audio from {source}: {reason}")


class UnsupportedFormatError(AudioDecodeError):
    """The input is not in a container or codec earful can read."""

    kind = "unsupported_format"


class AudioTooLongError(EarfulError):
    """The audio is longer than a configured maximum."""

    kind = "audio_too_long"

    def __init__(self, duration: float, limit: float) -> None:
        self.duration = duration
        self.limit = limit
        super().__init__(f"audio is {duration:.1f} s long; the limit is {limit:.1f} s")


class ModelNotAvailableError(EarfulError):
    """A model is unknown, not installed, or its optional dependency is missing."""

    kind = "model_not_available"


class DependencyMissingError(ModelNotAvailableError):
    """An optional Python package that a feature needs is not installed."""

    kind = "dependency_missing"

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs the '{package}' package; install it with "
            f"`pip install 'earful[{extra}]'`"
        )


class DatasetError(EarfulError):
    """A data set folder is missing, empty, or not in the expected layout."""

    kind = "dataset_error"


class CheckpointError(EarfulError):
    """A checkpoint file is missing, corrupt, or from an incompatible version."""

    kind = "checkpoint_error"


class PayloadTooLargeError(EarfulError):
    """An upload is larger than the configured limit."""

    kind = "payload_too_large"


class UnsupportedMediaTypeError(EarfulError):
    """An upload's declared content type is not audio."""

    kind = "unsupported_media_type"


class QueueFullError(EarfulError):
    """Every worker is busy and the waiting queue is full; try again shortly."""

    kind = "queue_full"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ServerStoppingError(QueueFullError):
    """The server is shutting down and takes no new requests; retry on another instance."""

    kind = "server_stopping"


class RequestTimeoutError(EarfulError):
    """Inference took longer than the request's time budget."""

    kind = "timeout"


class NotFoundError(EarfulError):
    """A named resource (voice, output) does not exist."""

    kind = "not_found"


class AuthenticationError(EarfulError):
    """A missing or wrong API key."""

    kind = "unauthorized"


class ReferenceAudioError(InvalidOptionError):
    """A voice-cloning reference is unusable: undecodable, too short, too long or silent."""

    kind = "invalid_reference"


class ModelBusyError(EarfulError):
    """A model cannot be unloaded because a request is using it right now."""

    kind = "model_busy"
