"""The FastAPI application: ``create_app(settings)`` builds it; ``earful serve`` runs it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from earful import __version__
from earful.config import Settings, get_settings
from earful.models import manager
from earful.service import errors, memory
from earful.service.core import Service
from earful.service.middleware import ApiKey, BodyLimit, RequestContext
from earful.service.realtime import router as realtime_router
from earful.service.routes import router
from earful.service.routes_diarize import router as diarize_router
from earful.service.routes_models import router as models_router
from earful.service.routes_tts import router as tts_router
from earful.service.uploads import sweep_stale

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service app from ``settings`` (default: the environment's)."""
    settings = settings or get_settings()
    memory.limit_arenas(settings.malloc_arenas)  # before the worker threads start
    memory.limit_blas_caches()  # before any model runs
    svc = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.start()
        # What a killed predecessor left: half-written outputs, staged uploads.
        svc.outputs.sweep_partials()
        sweep_stale(settings.temp_dir)
        svc.outputs.prune()
        if settings.preload:
            # Off the event loop, so /health answers while models load.
            loop = asyncio.get_running_loop()
            app.state.preloading = loop.run_in_executor(None, svc.preload)
        sweeper = asyncio.create_task(_sweep_idle_models(settings.model_ttl_seconds))
        trimmer = asyncio.create_task(_trim_memory(settings.memory_trim_seconds))
        try:
            yield
        finally:
            sweeper.cancel()
            trimmer.cancel()
            svc.shutdown()

    app = FastAPI(title="earful", version=__version__, lifespan=lifespan,
                  description="Offline speech service: transcription (Whisper), keyword "
                              "classification, speech synthesis and voice cloning, "
                              "OpenAI-compatible audio routes.")
    app.state.service = svc
    app.state.settings = settings
    errors.install(app)
    app.include_router(router)
    app.include_router(models_router)
    app.include_router(realtime_router)
    app.include_router(tts_router)
    app.include_router(diarize_router)
    # Middleware added last runs first: context (id, log, metrics) wraps everything.
    app.add_middleware(BodyLimit, max_bytes=svc.max_upload_bytes)
    if settings.api_key:
        app.add_middleware(ApiKey, key=settings.api_key, open_paths=frozenset({"/health"}))
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["*"])
    app.add_middleware(RequestContext, metrics=svc.metrics, service=svc)
    return app


async def _trim_memory(interval: float) -> None:
    """Hand free heap pages back to the system every ``interval`` seconds (0: never)."""
    if interval <= 0:
        return
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        await loop.run_in_executor(None, memory.trim)


async def _sweep_idle_models(ttl_seconds: float) -> None:
    """Unload models idle past their time-to-live, checking a few times per TTL."""
    if ttl_seconds <= 0:
        return
    interval = min(max(ttl_seconds / 4, 0.25), 30.0)
    while True:
        await asyncio.sleep(interval)
        manager.sweep()
