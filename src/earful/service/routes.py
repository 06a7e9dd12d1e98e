"""HTTP routes. Domain errors are raised, never turned into responses here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from earful.asr.bundled import bundled_models
from earful.asr.languages import LANGUAGES
from earful.asr.writers import OPENAI_FORMATS, render, to_verbose_json
from earful.errors import InvalidOptionError
from earful.models import manager
from earful.service.deps import ERRORS, checked_upload, service
from earful.service.schemas import ClassificationOut, ErrorOut, TranscriptionOut
from earful.service.uploads import request_dir

router = APIRouter()


@router.get("/health", tags=["service"])
async def health() -> dict[str, str]:
    """Answers while the process is alive."""
    return {"status": "ok"}


@router.get("/ready", tags=["service"], responses={503: {"model": ErrorOut}})
async def ready(request: Request) -> JSONResponse:
    """Whether the default ASR model is loaded and requests will be served at full speed."""
    svc = service(request)
    from earful.asr.engines import model_params

    loaded = manager.is_loaded("asr.faster-whisper", **model_params(svc.asr_spec()))
    body = {"ready": loaded, "models": manager.loaded()}
    return JSONResponse(body, status_code=200 if loaded else 503)


@router.get("/models", tags=["service"])
async def models(request: Request) -> dict[str, Any]:
    """The ASR models clients may ask for, and the classifier in use."""
    svc = service(request)
    installed = bundled_models()
    asr = [{"id": m, "bundled": installed.get(m, False),
            "default": m == svc.settings.asr_model} for m in svc.settings.asr_models]
    out: dict[str, Any] = {"asr": asr, "engine": svc.settings.asr_engine, "classifier": None}
    try:
        from earful.classify.inference import get_classifier

        clf = get_classifier(svc.settings.classify_model)
        out["classifier"] = {"name": svc.classifier_name, "labels": clf.labels,
                             "metrics": clf.meta.get("metrics"),
                             "dataset": clf.meta.get("dataset", {}).get("name")}
    except Exception as e:
        out["classifier_error"] = str(e)
    return out


@router.get("/languages", tags=["asr"])
async def languages() -> dict[str, str]:
    """The language codes (and their names) that ``language`` fields accept."""
    return LANGUAGES


@router.get("/metrics", tags=["service"], response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    svc = service(request)
    return Response(svc.metrics.render(), media_type=svc.metrics.content_type)


@router.post("/transcribe", response_model=TranscriptionOut, responses=ERRORS, tags=["asr"])
async def transcribe(
    request: Request,
    file: Annotated[UploadFile, File(description="Audio in any supported format")],
    language: Annotated[str | None, Form(description="Language code; empty = detect")] = None,
    word_timestamps: Annotated[bool, Form()] = False,
    model: Annotated[str | None, Form(description="One of GET /models")] = None,
) -> dict[str, Any]:
    """Transcribe one audio file."""
    svc = service(request)
    opts, spec = svc.asr_request(model, language, word_timestamps)
    with request_dir(svc.settings.temp_dir) as folder:
        checked = await checked_upload(svc, file, folder)
        result, seconds = await svc.transcribe(checked, opts, spec)
    return {**result.to_dict(), "processing_seconds": round(seconds, 3),
            "request_id": request.state.request_id}


@router.post("/v1/audio/transcriptions", responses=ERRORS, tags=["openai"])
async def openai_transcriptions(
    request: Request,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form(description="whisper-1 (the default model) or a model id")],
    language: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[str, Form()] = "json",
    temperature: Annotated[float, Form(ge=0.0, le=1.0)] = 0.0,
    timestamp_granularities: Annotated[list[str] | None,
                                       Form(alias="timestamp_granularities[]")] = None,
) -> Response:
    """OpenAI-compatible transcription (the official OpenAI client works against it)."""
    svc = service(request)
    if response_format not in OPENAI_FORMATS:
        raise InvalidOptionError(f"response_format must be one of {', '.join(OPENAI_FORMATS)}")
    granularities = set(timestamp_granularities or [])
    if not granularities <= {"word", "segment"}:
        raise InvalidOptionError("timestamp_granularities[] accepts 'word' and 'segment'")
    words = "word" in granularities and response_format == "verbose_json"
    opts, spec = svc.asr_request(None if model == "whisper-1" else model, language, words,
                                 prompt)
    with request_dir(svc.settings.temp_dir) as folder:
        checked = await checked_upload(svc, file, folder)
        result, _ = await svc.transcribe(checked, opts, spec)
    if response_format == "json":
        return JSONResponse({"text": result.text})
    if response_format == "text":
        return PlainTextResponse(result.text)
    if response_format in ("srt", "vtt"):
        return PlainTextResponse(render(result, response_format))
    return JSONResponse(to_verbose_json(result, words))


@router.post("/classify", response_model=ClassificationOut, responses=ERRORS, tags=["classify"])
async def classify(
    request: Request,
    file: Annotated[UploadFile, File()],
    top_k: Annotated[int, Form(ge=1, le=50)] = 3,
) -> dict[str, Any]:
    """Classify a clip with the keyword-spotting model (or the configured checkpoint)."""
    svc = service(request)
    with request_dir(svc.settings.temp_dir) as folder:
        checked = await checked_upload(svc, file, folder)
        pred, seconds = await svc.classify(checked, top_k)
    return {**pred.to_dict(), "duration": round(checked.duration, 3),
            "model": svc.classifier_name,
            "processing_seconds": round(seconds, 3), "request_id": request.state.request_id}
