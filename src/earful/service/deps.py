"""What every route module shares: the app's :class:`Service`, checked uploads, error docs.

Route modules import from here, never from each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, UploadFile

from earful.service.core import Checked, Service
from earful.service.errors import error_responses
from earful.service.uploads import stage_upload

#: The OpenAPI ``responses`` of every route: each error status of the one status table.
ERRORS: dict[int | str, dict[str, Any]] = error_responses()


def service(request: Request) -> Service:
    """The app's :class:`Service`."""
    svc: Service = request.app.state.service
    return svc


def upload_label(upload: UploadFile, default: str = "upload") -> str:
    """The name an upload is called by in messages: the client's file name, cut short.

    It is only ever a label: the staged copy has a fixed name of the server's choosing.
    """
    return (upload.filename or default)[:200]


async def checked_upload(svc: Service, upload: UploadFile, folder: Path) -> Checked:
    """Stage an upload into ``folder`` and prove it is audio within the limits."""
    path = await stage_upload(upload, folder, svc.max_upload_bytes)
    return await svc.pool.run(svc.check_audio, path, upload_label(upload),
                              timeout=svc.settings.timeout_base_seconds)
