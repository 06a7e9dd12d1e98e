"""All run-time settings in one place, read from ``EARFUL_*`` environment variables.

Library code never reads the environment directly; it asks :func:`get_settings`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache() -> Path:
    return Path.home() / ".cache" / "earful"


class Settings(BaseSettings):
    """earful settings. Every field can be set as ``EARFUL_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="EARFUL_", env_file=None, extra="ignore")

    data: Path | None = Field(
        default=None,
        description="Folder holding the shared data sets (fsdd/, speech_commands/, speech/).",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache,
        description="Where assembled models and cached features are kept.",
    )
    asr_model: str = Field(default="tiny.en", description="Default ASR model name or folder.")
    asr_engine: str = Field(default="faster-whisper", description="Default ASR engine.")
    asr_device: str = Field(default="cpu", description="Device for ASR: cpu, cuda or auto.")
    asr_compute_type: str = Field(default="int8", description="CTranslate2 compute type.")
    asr_cpu_threads: int = Field(default=0, description="CPU threads for ASR (0 = default).")
    classify_model: Path | None = Field(
        default=None, description="Keyword-spotting checkpoint; default is the shipped model."
    )
    max_upload_mb: float = Field(default=25.0, description="Largest accepted upload, in MB.")
    max_audio_seconds: float = Field(default=3600.0, description="Longest accepted audio.")
    output_dir: Path = Field(
        default=Path("outputs"), description="Root folder of per-request output folders."
    )
    api_key: str | None = Field(default=None, description="Bearer token; unset = no auth.")
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins.")
    workers: int = Field(default=1, description="Concurrent inference jobs in the service.")
    queue_size: int = Field(default=8, description="Requests allowed to wait for a worker.")
    asr_models: list[str] = Field(default_factory=lambda: ["tiny.en", "base"],
                                  description="Model names clients may request (never paths).")
    temp_dir: Path | None = Field(default=None, description="Where uploads are staged.")
    preload: bool = Field(default=True, description="Load the default models at start-up.")
    timeout_base_seconds: float = Field(default=30.0, description="Fixed part of a timeout.")
    timeout_per_audio_second: float = Field(default=2.0,
                                            description="Timeout added per second of audio.")
    host: str = Field(default="127.0.0.1", description="Address `earful serve` binds.")
    port: int = Field(default=8000, description="Port `earful serve` listens on.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
