"""Speech synthesis routes: /synthesize, /clone-voice, /voices, /v1/audio/speech, /outputs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from earful.audio.io import encode_audio
from earful.audio.transforms import resample
from earful.errors import InvalidOptionError
from earful.service.core import Service
from earful.service.deps import ERRORS, service, upload_label
from earful.service.outputs import MEDIA_TYPES
from earful.service.speech_stream import speech_seconds, stream_speech
from earful.service.uploads import request_dir, stage_upload
from earful.tts.clone import ENGINES as CLONE_ENGINES
from earful.tts.result import Speech

router = APIRouter()
AUDIO: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t in sorted(set(MEDIA_TYPES.values()))},
          "description": "The generated audio."}}
Format = Literal["wav", "flac", "ogg", "mp3"]
#: OpenAI's voice names, all spoken by the default Piper voice.
OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage",
                 "shimmer", "verse")
#: OpenAI's speech ``response_format`` values (each is also earful's format name).
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")


class SynthesizeIn(BaseModel):
    """The body of ``POST /synthesize``."""

    text: str = Field(description="What to say.")
    voice: str | None = Field(default=None, description="A voice of the engine (GET /voices); "
                                                        "Kokoro also takes a mix such as "
                                                        "jf_alpha:0.6,jm_kumo:0.4; default: "
                                                        "the configured one.")
    engine: Literal["piper", "kokoro"] = Field(default="piper", description="Speech engine.")
    format: Format = Field(default="wav", description="Audio format of the response.")
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="Speaking rate.")
    stream: bool = Field(default=False, description="Send the audio piece by piece as it "
                                                    "is synthesised (a short first piece, "
                                                    "then sentences; wav or mp3); a "
                                                    "streamed answer is not saved as an "
                                                    "output.")


class SpeechIn(BaseModel):
    """The body of ``POST /v1/audio/speech`` (OpenAI's shape)."""

    model: str = Field(description="tts-1 or piper: the Piper engine; tts-1-hd or kokoro: "
                                   "Kokoro (a Piper or Kokoro voice in `voice` picks its own "
                                   "engine under tts-1, tts-1-hd and gpt-4o-mini-tts; a saved "
                                   "voice is cloned, with Kokoro under tts-1-hd and kokoro); "
                                   f"a clone engine ({', '.join(CLONE_ENGINES)}) speaks in "
                                   "the saved voice named in `voice`.")
    input: str = Field(description="What to say.")
    voice: str = Field(description="An OpenAI voice name (the engine's default voice), a "
                                   "Piper or Kokoro voice, a Kokoro mix, or a saved voice id.")
    response_format: str = Field(default="mp3", description=", ".join(SPEECH_FORMATS))
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] | None = Field(
        default=None, description="audio: chunked audio piece by piece, a short first "
                                  "piece then sentences (pcm, wav or mp3); sse: "
                                  "speech.audio.delta events, then "
                                  "speech.audio.done. Unset: the whole file, saved as an "
                                  "output.")


def _encode(speech: Speech, fmt: str) -> bytes:
    if fmt == "pcm":  # OpenAI's raw format: 24 kHz, 16-bit little-endian, mono
        pcm = np.clip(resample(speech.samples, speech.sample_rate, 24000), -1, 1)
        return (pcm * 32767).astype("<i2").tobytes()
    return encode_audio(speech.samples, speech.sample_rate, fmt)


async def _respond(svc: Service, request: Request, work: Any, fmt: str, seconds_hint: float,
                   extra: dict[str, Any] | None = None,
                   score_against: Any = None, setup_seconds: float = 0.0) -> Response:
    """Run ``work`` in the pool, save the output folder, answer with the audio.

    ``score_against``, a callable returning the reference, adds the speaker similarity of
    the output to it (header ``X-Speaker-Similarity`` and the metadata). ``setup_seconds``
    is time the job may spend before it speaks (a Kokoro enrolment), added to its timeout.
    """
    def job() -> tuple[Speech, bytes, str, float | None]:
        speech = work()
        similarity = None
        if score_against is not None:
            from earful.tts.synth import similarity_to

            similarity = round(similarity_to(score_against(), speech), 4)
        audio = _encode(speech, fmt)
        meta = {**speech.metadata(), **(extra or {}), "speaker_similarity": similarity,
                "request_id": request.state.request_id}
        return speech, audio, svc.outputs.save(audio, fmt, meta), similarity

    speech, audio, out_id, similarity = await svc.pool.run(
        job, timeout=svc.timeout_for(seconds_hint) + setup_seconds,
        work=seconds_hint, setup=setup_seconds)
    headers = {"X-Output-ID": out_id, "X-Audio-Duration": f"{speech.duration:.3f}",
               "X-Engine": speech.engine, "X-Voice": speech.voice}
    if similarity is not None:
        headers["X-Speaker-Similarity"] = f"{similarity:.4f}"
    return Response(audio, media_type=MEDIA_TYPES[fmt], headers=headers)


def _speak_options(engine: str, speed: float) -> Any:
    """The engine's options (validated before any work is queued)."""
    from earful.tts.kokoro_engine import KokoroOptions
    from earful.tts.piper_engine import SpeakOptions

    return KokoroOptions(speed=speed) if engine == "kokoro" else SpeakOptions(speed=speed)


def _saved_voice(svc: Service, voice: str) -> str | None:
    """The id of the saved voice named or numbered ``voice``, if there is one."""
    from earful.errors import NotFoundError
    from earful.tts.store import VoiceStore

    try:
        return VoiceStore(svc.tts.voice_store).find(voice).id
    except NotFoundError:
        return None


async def _setup_seconds(engine: str, svc: Service | None = None, *, reference: Any = None,
                         voice_id: str | None = None) -> float:
    """The longest a clone engine may spend on a reference before it speaks: Kokoro's
    enrolment (its search budget plus the look-up), nothing for the others, nor when the
    reference's or saved voice's Kokoro style is already known (given ``svc``). Admission
    counts it as time ahead in the queue, so a cached reference must not count it: one
    clone in flight would otherwise look like a minute of work and turn every other request
    away. The check reads a saved voice's file, so it runs off the event loop."""
    from starlette.concurrency import run_in_threadpool

    from earful.tts.kokoro_clone import EnrolOptions
    from earful.tts.synth import kokoro_enrolled

    if engine != "kokoro":
        return 0.0
    if svc is not None and await run_in_threadpool(
            kokoro_enrolled, svc.tts, reference=reference, voice_id=voice_id):
        return 0.0
    return EnrolOptions().time_budget + 15.0


@router.post("/synthesize", responses={**ERRORS, **AUDIO}, response_class=Response,
             tags=["tts"])
async def synthesize(request: Request, body: SynthesizeIn) -> Response:
    """Speak text with a Piper or Kokoro voice."""
    from earful.tts.synth import speak_text

    svc = service(request)
    opts = _speak_options(body.engine, body.speed)

    def speak(text: str) -> Speech:
        return speak_text(text, svc.tts, body.voice, opts, engine=body.engine)

    if body.stream:
        return await stream_speech(request, speak, body.text, body.format, sse=False)
    return await _respond(svc, request, lambda: speak(body.text), body.format,
                          speech_seconds(body.text))


@router.post("/clone-voice", responses={**ERRORS, **AUDIO}, response_class=Response,
             tags=["tts"])
async def clone_voice(
    request: Request,
    text: Annotated[str, Form(description="What to say.")],
    reference: Annotated[UploadFile | None, File(description="3 to 30 s of the voice")] = None,
    voice_id: Annotated[str | None, Form(description="A saved voice (POST /voices)")] = None,
    engine: Annotated[str | None, Form(description=" or ".join(CLONE_ENGINES))] = None,
    language: Annotated[str, Form()] = "en",
    format: Annotated[Format, Form()] = "wav",
    speed: Annotated[float, Form(ge=0.25, le=4.0)] = 1.0,
    score: Annotated[bool, Form(description="Also measure the speaker similarity of the "
                                            "output to the reference")] = False,
) -> Response:
    """Speak text in the voice of a reference recording or a saved voice."""
    from earful.tts.clone import CloneOptions
    from earful.tts.reference import load_reference
    from earful.tts.synth import clone

    svc = service(request)
    if (reference is None) == (not voice_id):
        raise InvalidOptionError("send either a 'reference' file or a 'voice_id'")
    opts = CloneOptions(engine=engine or svc.settings.clone_engine, language=language,
                        speed=speed, base_voice=svc.settings.tts_voice)
    with request_dir(svc.settings.temp_dir) as folder:
        ref = None
        if reference is not None:
            path = await stage_upload(reference, folder, svc.max_upload_bytes)
            label = upload_label(reference, "reference")
            ref = await svc.pool.run(lambda: load_reference(path, name=label),
                                     timeout=svc.settings.timeout_base_seconds)

        def reference_audio() -> Any:
            if ref is not None:
                return ref
            from earful.tts.store import VoiceStore

            store = VoiceStore(svc.tts.voice_store)
            return store.reference(store.find(voice_id or "").id)

        return await _respond(
            svc, request,
            lambda: clone(text, svc.tts, opts, reference=ref, voice_id=voice_id or None),
            format, speech_seconds(text), {"language": language},
            score_against=reference_audio if score else None,
            setup_seconds=await _setup_seconds(opts.engine, svc, reference=ref,
                                               voice_id=voice_id or None))


#: ``POST /voices`` answers 201 with the saved voice, or (``stream=true``) 200 with events.
VOICE_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"description": "The saved voice.", "content": {"application/json": {
        "schema": {"type": "object", "additionalProperties": True}}}},
    200: {"description": "stream=true: voice.enrol.progress events, then voice.created (or "
                         "an error event).", "content": {"text/event-stream": {}}}}


@router.post("/voices", responses={**ERRORS, **VOICE_CREATED}, tags=["tts"], status_code=201,
             response_model=None)
async def add_voice(
    request: Request,
    name: Annotated[str, Form(description="A display name")],
    reference: Annotated[UploadFile, File(description="3 to 30 s of the voice")],
    stream: Annotated[bool, Form(description="Send server-sent events while the Kokoro style "
                                             "is sought: voice.enrol.progress (done, "
                                             "planned), then voice.created with the voice, "
                                             "or an error event")] = False,
) -> dict[str, Any] | Response:
    """Save a reference recording as a voice; returns its id."""
    from earful.tts.reference import load_reference
    from earful.tts.synth import save_voice

    svc = service(request)
    setup = await _setup_seconds("kokoro")
    if stream:
        from earful.service.voice_stream import stream_enrolment
        from earful.tts.store import VoiceStore

        clean_name = VoiceStore(svc.tts.voice_store).check_name(name)
        label = upload_label(reference, "reference")
        with request_dir(svc.settings.temp_dir) as folder:  # decoded, then removed
            path = await stage_upload(reference, folder, svc.max_upload_bytes)
            ref = await svc.pool.run(lambda: load_reference(path, name=label),
                                     timeout=svc.settings.timeout_base_seconds)
        return stream_enrolment(request, clean_name, ref,
                                timeout=svc.settings.timeout_base_seconds + setup, setup=setup)
    with request_dir(svc.settings.temp_dir) as folder:
        path = await stage_upload(reference, folder, svc.max_upload_bytes)

        def work() -> dict[str, Any]:
            label = upload_label(reference, "reference")
            return save_voice(name, load_reference(path, name=label), svc.tts)

        result: dict[str, Any] = await svc.pool.run(
            work, timeout=svc.settings.timeout_base_seconds + setup, setup=setup)
        return result


@router.get("/voices", tags=["tts"])
async def get_voices(request: Request) -> dict[str, Any]:
    """Piper voices, Kokoro voices and saved cloning voices."""
    from earful.tts.synth import list_voices

    return list_voices(service(request).tts)


@router.delete("/voices/{voice_id}", responses=ERRORS, tags=["tts"])
async def delete_voice(request: Request, voice_id: str) -> dict[str, Any]:
    """Delete a saved voice."""
    from earful.errors import NotFoundError
    from earful.tts.store import ID_PATTERN, VoiceStore

    if not ID_PATTERN.match(voice_id):
        raise NotFoundError(f"unknown voice '{voice_id[:40]}'")
    return {"deleted": VoiceStore(service(request).tts.voice_store).remove(voice_id).id}


@router.post("/v1/audio/speech", responses={**ERRORS, **AUDIO}, response_class=Response,
             tags=["openai"])
async def openai_speech(request: Request, body: SpeechIn) -> Response:
    """OpenAI-compatible speech (the official client's ``audio.speech.create`` works)."""
    from earful.tts.clone import CloneOptions
    from earful.tts.synth import clone, engine_for_voice, speak_text

    svc = service(request)
    fmt = body.response_format
    if fmt not in SPEECH_FORMATS:
        raise InvalidOptionError(f"response_format must be one of {', '.join(SPEECH_FORMATS)}")
    plain_models = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "piper", "kokoro")
    if body.model not in plain_models and body.model not in CLONE_ENGINES:
        raise InvalidOptionError("model must be tts-1, tts-1-hd, piper, kokoro or a clone "
                                 f"engine: {', '.join(CLONE_ENGINES)}")
    saved = _saved_voice(svc, body.voice)
    if body.model in plain_models and saved is None:
        voice = None if body.voice in OPENAI_VOICES else body.voice
        engine = {"piper": "piper", "kokoro": "kokoro"}.get(body.model) or (
            engine_for_voice(voice, svc.tts)
            or ("kokoro" if body.model == "tts-1-hd" else "piper"))
        speak_opts = _speak_options(engine, body.speed)
        setup = 0.0

        def speak(text: str) -> Speech:
            return speak_text(text, svc.tts, voice, speak_opts, engine=engine)
    else:
        # A clone engine, or a plain model asked for a saved voice: tts-1-hd and kokoro
        # clone with Kokoro, the others with the default clone engine.
        engine = (body.model if body.model in CLONE_ENGINES and body.model != "kokoro"
                  else "kokoro" if body.model in ("kokoro", "tts-1-hd")
                  else svc.settings.clone_engine)
        opts = CloneOptions(engine=engine, speed=body.speed, base_voice=svc.settings.tts_voice)
        setup = await _setup_seconds(engine, svc, voice_id=saved or body.voice)

        def speak(text: str) -> Speech:
            return clone(text, svc.tts, opts, voice_id=saved or body.voice)
    if body.stream_format is not None:
        return await stream_speech(request, speak, body.input, fmt,
                                   sse=body.stream_format == "sse", setup=setup)
    return await _respond(svc, request, lambda: speak(body.input), fmt,
                          speech_seconds(body.input), setup_seconds=setup)


@router.get("/outputs/{output_id}", responses={**ERRORS, **AUDIO},
            response_class=FileResponse, tags=["tts"])
async def get_output(request: Request, output_id: str) -> FileResponse:
    """Fetch a saved output's audio (GET /outputs/{id}/metadata describes it)."""
    saved = service(request).outputs.get(output_id)
    return FileResponse(saved.audio, media_type=saved.media_type,
                        filename=f"{saved.id}.{saved.metadata['format']}")


@router.get("/outputs/{output_id}/metadata", responses=ERRORS, tags=["tts"])
async def get_output_metadata(request: Request, output_id: str) -> dict[str, Any]:
    """A saved output's metadata (text, voice, engine, durations, timings)."""
    return service(request).outputs.get(output_id).metadata
