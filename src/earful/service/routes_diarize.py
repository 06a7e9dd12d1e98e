"""Speaker diarization routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from earful.errors import InvalidOptionError
from earful.service.deps import ERRORS, checked_upload, service, upload_label
from earful.service.speakers import diarize, diarize_options, known_speakers
from earful.service.uploads import request_dir

router = APIRouter()

Count = Annotated[int | None, Form(ge=1, le=64)]


@router.post("/v1/audio/diarization", responses=ERRORS, tags=["diarize"])
async def diarization(
    request: Request,
    file: Annotated[UploadFile, File(description="Audio in any supported format")],
    num_speakers: Count = None,
    min_speakers: Count = None,
    max_speakers: Count = None,
    response_format: Annotated[str, Form(description="json or rttm")] = "json",
    known_speaker_names: Annotated[list[str] | None,
                                   Form(alias="known_speaker_names[]")] = None,
    known_speaker_references: Annotated[list[str] | None, Form(
        alias="known_speaker_references[]",
        description="Audio data URLs, or ids of voices saved with POST /voices")] = None,
) -> Response:
    """Who spoke when: speaker turns (``SPEAKER_1``... or known speakers' names)."""
    svc = service(request)
    if response_format not in ("json", "rttm"):
        raise InvalidOptionError("response_format must be json or rttm")
    opts = diarize_options(num_speakers, min_speakers, max_speakers)
    known = known_speakers(svc, known_speaker_names, known_speaker_references)
    with request_dir(svc.settings.temp_dir) as folder:
        checked = await checked_upload(svc, file, folder)
        result = await diarize(svc, checked, opts, known)
    if response_format == "rttm":
        stem = "".join(c if c.isalnum() or c in "-_." else "_"
                       for c in upload_label(file, "audio").rsplit(".", 1)[0]) or "audio"
        return PlainTextResponse(result.to_rttm(stem))
    body: dict[str, Any] = {**result.to_dict(), "request_id": request.state.request_id}
    return JSONResponse(body)
