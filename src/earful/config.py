"""All run-time settings in one place, read from ``EARFUL_*`` environment variables.

Settings are read only at the edges: the CLI, the service and the Space call
:func:`get_settings` (or build a :class:`Settings`) and turn it into the explicit arguments
library functions take, with the builders here (:meth:`Settings.asr_spec`,
:meth:`Settings.tts_config`). Library code never reads settings or the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from earful.asr.options import ModelSpec
    from earful.tts.synth import TtsConfig


def _default_cache() -> Path:
    return Path.home() / ".cache" / "earful"


class Settings(BaseSettings):
    """earful settings. Every field can be set as ``EARFUL_<FIELD>`` in the environment."""

    # An empty variable means unset: `make` exports EARFUL_DATA empty when no data lies
    # beside the checkout, and an empty path would otherwise be read as the current folder.
    model_config = SettingsConfigDict(env_prefix="EARFUL_", env_file=None, extra="ignore",
                                      env_ignore_empty=True)

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
    model_ttl_seconds: float = Field(
        default=900.0, ge=0, description="Unload a model idle this long (0 = never); models "
                                         "preloaded at start-up stay (pinned).")
    max_loaded_models: int = Field(
        default=8, ge=0, description="Most models loaded at once (0 = no cap); the least "
                                     "recently used idle one makes room.")
    max_upload_mb: float = Field(default=25.0, description="Largest accepted upload, in MB.")
    max_audio_seconds: float = Field(default=3600.0, description="Longest accepted audio.")
    output_dir: Path = Field(
        default=Path("outputs"), description="Root folder of per-request output folders."
    )
    api_key: str | None = Field(default=None, description="Bearer token; unset = no auth.")
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins.")
    workers: int = Field(default=1, description="Concurrent inference jobs in the service.")
    queue_size: int = Field(default=64, description="Most requests waiting for a worker (a hard "
                                                    "cap; a request is admitted only while its "
                                                    "estimated wait fits its time budget).")
    asr_batching: bool = Field(
        default=True, description="Concurrent transcriptions (faster-whisper) are decoded "
                                  "together: several requests' speech in one Whisper window, "
                                  "windows in one decoding call. Off: one at a time in the "
                                  "inference pool.")
    asr_batch_size: int = Field(default=8, ge=1, le=64,
                                description="With asr_batching, most transcriptions under way "
                                            "at once, and most Whisper windows in one call.")
    asr_decoders: int = Field(
        default=2, ge=1, le=8,
        description="With asr_batching, batches decoded at once, each on its own thread and "
                    "model replica with an equal share of the cores (two single-threaded "
                    "decoders keep two cores busier than one with two threads).")
    asr_share_windows: bool = Field(
        default=True, description="With asr_batching, 5-15 s requests may share one Whisper "
                                  "window (each gets only the words timed inside its own "
                                  "audio). Off: each request's speech has windows of its own, "
                                  "for strict isolation at some throughput.")
    realtime_max_sessions: int = Field(default=8, ge=0,
                                       description="Most realtime sessions open at once.")
    realtime_max_session_seconds: float = Field(default=1800.0, gt=0,
                                                description="Longest realtime session.")
    realtime_max_buffer_seconds: float = Field(
        default=60.0, gt=0, description="Most uncommitted audio a realtime session holds (a "
                                        "longer server-VAD turn is cut there).")
    shutdown_grace_seconds: float = Field(
        default=30.0, ge=0, description="On SIGTERM, how long running requests may take to "
                                        "finish (new ones get 503 meanwhile).")
    asr_models: list[str] = Field(default_factory=lambda: ["tiny.en", "base"],
                                  description="Model names clients may request (never paths).")
    translation_model: str = Field(default="base", description="The multilingual model that "
                                                               "`whisper-1` means for "
                                                               "translations.")
    temp_dir: Path | None = Field(default=None, description="Where uploads are staged.")
    preload: bool = Field(default=True, description="Load the default models at start-up.")
    timeout_base_seconds: float = Field(default=30.0, description="Fixed part of a timeout.")
    timeout_per_audio_second: float = Field(default=2.0,
                                            description="Timeout added per second of audio.")
    tts_voice: str = Field(default="joe", description="Default Piper voice (name or alias).")
    kokoro_voice: str = Field(
        default="jm_kumo", description="Default Kokoro voice, or a mix such as "
                                       "jf_alpha:0.6,jm_kumo:0.4.")
    kokoro_cpu_threads: int = Field(
        default=0, ge=0, description="ONNX Runtime threads for Kokoro (0 = every CPU).")
    tts_voices_dir: Path | None = Field(
        default=None, description="Extra Piper voices (NAME.onnx + NAME.onnx.json).")
    voice_store: Path = Field(
        default=Path("voices"), description="Where saved cloning voices are kept.")
    malloc_arenas: int = Field(
        default=2, ge=0, le=64, description="Cap on glibc malloc arenas in the server (0: "
        "glibc's default of 8 per core, which lets resident memory ratchet up under load).")
    memory_trim_seconds: float = Field(
        default=30.0, ge=0, description="How often the server returns free heap pages to "
        "the system (malloc_trim; 0: never).")
    clone_engine: str = Field(default="kokoro", description="Default cloning engine: kokoro, "
                              "offline or xtts.")
    clone_enrol_steps: int = Field(
        default=16, ge=0, le=200, description="Kokoro cloning: search steps after the "
        "voice-bank look-up when a reference is enrolled (0: look-up only, a few seconds).")
    xtts_model_dir: Path | None = Field(
        default=None, description="Folder with XTTS-v2 config.json, model.pth, vocab.json.")
    xtts_accept_license: bool = Field(
        default=False, description="Set true to accept the Coqui Public Model License and "
                                   "let coqui download XTTS-v2 (needs internet).")
    xtts_device: str = Field(default="cpu", description="Device for XTTS: cpu or cuda.")
    max_text_chars: int = Field(default=2000, description="Longest text one request speaks.")
    output_max_age_hours: float = Field(
        default=24.0, description="Saved outputs older than this are deleted.")
    output_max_total_mb: float = Field(
        default=500.0, description="Oldest saved outputs are deleted beyond this total.")
    demo: bool = Field(default=True, description="Mount the Gradio demo at / in `earful serve` "
                                                 "(when gradio is installed).")
    host: str = Field(default="127.0.0.1", description="Address `earful serve` binds.")
    port: int = Field(default=8000, description="Port `earful serve` listens on.")

    def asr_spec(self, name: str | None = None) -> ModelSpec:
        """The ASR model spec for ``name`` (default ``asr_model``) with these settings'
        engine, device, compute type, threads and cache folder."""
        from earful.asr.options import ModelSpec

        return ModelSpec(name=name or self.asr_model, engine=self.asr_engine,
                         device=self.asr_device, compute_type=self.asr_compute_type,
                         cpu_threads=self.asr_cpu_threads, cache_dir=self.cache_dir)

    def tts_config(self) -> TtsConfig:
        """What the speech-synthesis entry points need from these settings."""
        from earful.tts.synth import TtsConfig

        return TtsConfig(default_voice=self.tts_voice, kokoro_voice=self.kokoro_voice,
                         kokoro_threads=self.kokoro_cpu_threads, cache_dir=self.cache_dir,
                         voices_dir=self.tts_voices_dir,
                         voice_store=self.voice_store, max_text_chars=self.max_text_chars,
                         xtts_model_dir=self.xtts_model_dir, xtts_device=self.xtts_device,
                         xtts_accept_license=self.xtts_accept_license,
                         enrol_steps=self.clone_enrol_steps)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
