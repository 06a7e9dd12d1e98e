"""Model management: what is loaded, load one now, unload one (behind the API key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from earful.models import manager
from earful.service.deps import ERRORS, service

router = APIRouter(tags=["service"])


@router.get("/models/loaded")
async def loaded_models() -> dict[str, Any]:
    """Models in memory: id, kind, name, loaded since and last used (Unix seconds), idle
    time, requests using it, whether it is pinned, and a resident-memory estimate."""
    return {"models": manager.loaded(), "ttl_seconds": manager.ttl_seconds,
            "max_loaded": manager.max_loaded}


@router.post("/models/{model_id}/load", responses=ERRORS)
async def load_model(request: Request, model_id: str) -> dict[str, Any]:
    """Load a model now (ids as in ``GET /models/loaded``, for example
    ``asr.faster-whisper:base``); an unknown id is a 404 listing the loadable ones."""
    svc = service(request)
    await svc.pool.run(svc.load, model_id, timeout=svc.settings.timeout_base_seconds * 4)
    entry = next((m for m in manager.loaded() if m["id"] == model_id), None)
    return {"loaded": model_id, "model": entry}


@router.delete("/models/{model_id}", responses=ERRORS)
async def unload_model(model_id: str) -> dict[str, str]:
    """Unload a model now; one serving a request is a 409 (try again)."""
    manager.unload(model_id)
    return {"unloaded": model_id}
