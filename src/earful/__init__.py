"""earful: audio and speech ML toolkit and offline speech service."""

__version__ = "0.1.0"
