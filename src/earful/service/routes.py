"""HTTP routes. Domain errors are raised, never turned into responses here."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from earful.asr.bundled import bundled_models
from earful.asr.languages import LANGUAGES
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.result import Transcript
from earful.asr.writers import OPENAI_FORMATS, render, to_diarized_json, to_verbose_json
from earful.errors import InvalidOptionError
from earful.models import manager
from earful.service.deps import ERRORS, checked_upload, service
from earful.service.errors import scrub_paths
from earful.service.schemas import ClassificationOut, ErrorOut, TranscriptionOut
from earful.service.speakers import diarize_options, known_speakers, with_speakers
from earful.service.sse import stream_response, transcript_events
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
    ready = loaded and not svc.draining
    body = {"ready": ready, "draining": svc.draining, "models": manager.loaded()}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/models", tags=["service"])
async def models(request: Request) -> dict[str, Any]:
    """The ASR models clients may ask for, and the classifier in use."""
    svc = service(request)
    installed = bundled_models()
    asr = [{"id": label, "bundled": installed.get(name, False),
            "default": name == svc.settings.asr_model}
           for label, name in svc.asr_names().items()]
    out: dict[str, Any] = {"asr": asr, "engine": svc.settings.asr_engine, "classifier": None}
    try:
        from earful.classify.inference import get_classifier

        clf = get_classifier(svc.settings.classify_model)
        out["classifier"] = {"name": svc.classifier_name, "labels": clf.labels,
                             "metrics": clf.meta.get("metrics"),
                             "dataset": clf.meta.get("dataset", {}).get("name")}
    except Exception as e:
        out["classifier_error"] = scrub_paths(str(e))
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
    diarize: Annotated[bool, Form(description="Label segments and words with speakers")] = False,
    num_speakers: Annotated[int | None, Form(ge=1, le=64)] = None,
    min_speakers: Annotated[int | None, Form(ge=1, le=64)] = None,
    max_speakers: Annotated[int | None, Form(ge=1, le=64)] = None,
) -> dict[str, Any]:
    """Transcribe one audio file (``diarize=true``: with speakers)."""
    svc = service(request)
    dopts = diarize_options(num_speakers, min_speakers, max_speakers) if diarize else None
    opts, spec = svc.asr_request(model, language, word_timestamps or diarize)
    with request_dir(svc.settings.temp_dir) as folder:
        checked = await checked_upload(svc, file, folder)
        result, seconds = await svc.transcribe(checked, opts, spec)
        if dopts is not None:
            result = await with_speakers(svc, checked, result, dopts,
                                         keep_words=word_timestamps)
    return {**result.to_dict(), "processing_seconds": round(seconds, 3),
            "truncated": checked.truncated, "request_id": request.state.request_id}


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
    stream: Annotated[bool, Form(description="Send server-sent events as segments are "
                                             "decoded (json or text format)")] = False,
    known_speaker_names: Annotated[list[str] | None,
                                   Form(alias="known_speaker_names[]")] = None,
    known_speaker_references: Annotated[list[str] | None, Form(
        alias="known_speaker_references[]",
        description="diarized_json: audio data URLs or saved voice ids")] = None,
) -> Response:
    """OpenAI-compatible transcription (the official OpenAI client works against it, also
    with ``stream=True``)."""
    svc = service(request)
    if response_format == "diarized_json":
        return await _diarized(request, file, model, language, prompt,
                               known_speakers(svc, known_speaker_names,
                                              known_speaker_references))
    if response_format not in OPENAI_FORMATS:
        raise InvalidOptionError(f"response_format must be one of "
                                 f"{', '.join(OPENAI_FORMATS)}, diarized_json")
    granularities = set(timestamp_granularities or [])
    if not granularities <= {"word", "segment"}:
        raise InvalidOptionError("timestamp_granularities[] accepts 'word' and 'segment'")
    words = "word" in granularities and response_format == "verbose_json"
    opts, spec = svc.asr_request(None if model == "whisper-1" else model, language, words,
                                 prompt)
    if stream:
        if response_format not in ("json", "text"):
            raise InvalidOptionError("stream=true works with response_format json or text")
        return await _streamed(request, file, opts, spec)
    with request_dir(svc.settings.temp_dir) as folder:
        checked = await checked_upload(svc, file, folder)
        result, _ = await svc.transcribe(checked, opts, spec)
    return _openai_body(result, response_format, words)


@router.post("/v1/audio/translations", responses=ERRORS, tags=["openai"])
async def openai_translations(
    request: Request,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form(description="whisper-1 (the translation model, a multilingual "
                                           "one) or a model id")],
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[str, Form()] = "json",
    temperature: Annotated[float, Form(ge=0.0, le=1.0)] = 0.0,
) -> Response:
    """OpenAI-compatible translation of speech in any language into English text."""
    svc = service(request)
    if response_format not in OPENAI_FORMATS:
        raise InvalidOptionError(f"response_format must be one of {', '.join(OPENAI_FORMATS)}")
    name = svc.settings.translation_model if model == "whisper-1" else model
    opts, spec = svc.asr_request(name, None, False, prompt, task="translate")
    with request_dir(svc.settings.temp_dir) as folder:
        checked = await checked_upload(svc, file, folder)
        result, _ = await svc.transcribe(checked, opts, spec)
    return _openai_body(result, response_format, False, task="translate")


async def _diarized(request: Request, file: UploadFile, model: str, language: str | None,
                    prompt: str | None, known: list[tuple[str, str]]) -> Response:
    """OpenAI's ``diarized_json``: segments with speakers (known speakers named)."""
    svc = service(request)
    opts, spec = svc.asr_request(None if model == "whisper-1" else model, language, True,
                                 prompt)
    with request_dir(svc.settings.temp_dir) as folder:
        checked = await checked_upload(svc, file, folder)
        result, _ = await svc.transcribe(checked, opts, spec)
        result = await with_speakers(svc, checked, result, diarize_options(None, None, None),
                                     known)
    return JSONResponse(to_diarized_json(result))


def _openai_body(result: Transcript, response_format: str, words: bool,
                 task: str = "transcribe") -> Response:
    if response_format == "json":
        return JSONResponse({"text": result.text})
    if response_format == "text":
        return PlainTextResponse(result.text)
    if response_format in ("srt", "vtt"):
        return PlainTextResponse(render(result, response_format))
    return JSONResponse(to_verbose_json(result, words, task))


async def _streamed(request: Request, file: UploadFile, opts: TranscribeOptions,
                    spec: ModelSpec) -> Response:
    """Stage and check the upload, admit the job (errors so far are plain HTTP errors),
    then stream its segments; the staged file lives until the stream ends."""
    svc = service(request)
    stack = contextlib.ExitStack()
    try:
        folder = stack.enter_context(request_dir(svc.settings.temp_dir))
        checked = await checked_upload(svc, file, folder)
        segments = svc.stream_transcript(checked, opts, spec)
    except BaseException:
        stack.close()
        raise
    rid = request.state.request_id
    return stream_response(transcript_events(segments, rid, stack.close), rid)


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
            "model": svc.classifier_name, "truncated": checked.truncated,
            "processing_seconds": round(seconds, 3), "request_id": request.state.request_id}
