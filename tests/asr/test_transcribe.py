"""Transcription with the real bundled Whisper models on real audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earful.asr.bundled import BASE_MODEL_BYTES, resolve_model
from earful.asr.evaluate import get_normaliser, score
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe, transcribe_file
from earful.audio.io import load_audio, save_audio
from earful.audio.transforms import add_noise, pink_noise, white_noise
from earful.errors import AudioDecodeError, InvalidOptionError
from tests.conftest import end_to_end

NORM = get_normaliser("english")


def wer(reference: str, hypothesis: str) -> float:
    return score([reference], [hypothesis], NORM).wer


@pytest.fixture(scope="module")
def jfk_ref(test_data: Path) -> str:
    return (test_data / "jfk.txt").read_text()


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "ogg", "opus", "m4a", "webm"])
def test_every_format_transcribes(test_data: Path, jfk_ref: str, fmt: str) -> None:
    result = transcribe_file(test_data / f"jfk.{fmt}")
    assert wer(jfk_ref, result.text) <= 0.05
    assert result.language == "en" and result.duration == pytest.approx(11.0, abs=0.01)
    assert result.segments and all(0 <= s.start <= s.end <= 11.0 for s in result.segments)


def test_word_timestamps_are_ordered_and_inside_the_clip(test_data: Path) -> None:
    result = transcribe_file(test_data / "jfk.flac", TranscribeOptions(word_timestamps=True))
    words = [w for s in result.segments for w in (s.words or [])]
    assert len(words) >= 20
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= result.duration and 0 <= w.probability <= 1
               for w in words)
    assert "words" in result.to_dict()["segments"][0]


@pytest.mark.parametrize("seconds", [3, 8])
@pytest.mark.parametrize("vad", [True, False])
@pytest.mark.parametrize("kind", ["silence", "white", "pink", "recorded"])
def test_silence_and_noise_give_empty_transcripts(test_data: Path, kind: str, vad: bool,
                                                  seconds: int) -> None:
    n = seconds * 16000
    audio = {
        "silence": np.zeros(n, np.float32),
        "white": 0.05 * white_noise(n, 1),
        "pink": 0.1 * pink_noise(n, 1),
        "recorded": np.resize(load_audio(test_data / "background_noise.wav"), n),
    }[kind]
    result = transcribe(audio, TranscribeOptions(vad=vad))
    assert result.text == "" and result.segments == []


def test_guard_is_what_removes_hallucinations_without_vad() -> None:
    # The checks above could pass by luck; show the raw model does hallucinate on longer
    # silence and noise (decoded with timestamps), and that the guard is what removes it.
    for audio in (np.zeros(8 * 16000, np.float32), 0.1 * pink_noise(8 * 16000, 1)):
        raw = transcribe(audio, TranscribeOptions(vad=False, hallucination_guard=False))
        guarded = transcribe(audio, TranscribeOptions(vad=False))
        assert raw.text != "" and guarded.text == "" and guarded.dropped_segments >= 1


def test_isolated_digit(test_data: Path) -> None:
    result = transcribe_file(test_data / "digit_7.wav")
    assert NORM(result.text) == "7"
    assert result.duration == pytest.approx(0.4285, abs=1e-3)
    assert all(s.end <= result.duration for s in result.segments)


def test_isolated_digits_with_sentence_prompt_and_repetition_penalty(shared_data: Path) -> None:
    # The settings benchmarks/asr_hallucination.py chose on FSDD takes 5-9: one word out,
    # the digit that was said, for clips of well under a second.
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    opts = TranscribeOptions(
        language="en", initial_prompt="Zero. One. Two. Three. Four. Five. Six. Seven. Eight. "
        "Nine.", repetition_penalty=1.3)
    clips = [(d, shared_data / "fsdd" / "recordings" / f"{d}_{speaker}_7.wav")
             for d in range(10) for speaker in ("jackson", "theo")]
    hyps = [NORM(transcribe_file(path, opts).text) for _, path in clips]
    assert all(len(h.split()) == 1 for h in hyps), hyps
    correct = sum(h in (str(d), words[d]) for (d, _), h in zip(clips, hyps, strict=True))
    assert correct >= 17, hyps


def test_noisy_speech_still_transcribes(test_data: Path, jfk_ref: str) -> None:
    noisy = add_noise(load_audio(test_data / "jfk.wav"), 10, "pink", seed=0)
    assert wer(jfk_ref, transcribe(noisy).text) <= 0.2


def test_long_audio_is_chunked_at_quiet_points(
        tmp_path: Path, sentences: list[tuple[np.ndarray, str]]) -> None:
    long, reference = end_to_end(sentences * 3, 1.0)  # 104 s: nine sentences, 1 s apart
    path = save_audio(tmp_path / "long.flac", long, 16000)
    result = transcribe_file(path, TranscribeOptions(chunk_seconds=60))
    assert result.duration == pytest.approx(len(long) / 16000, abs=0.01)
    assert result.duration > 100
    assert wer(reference, result.text) <= 0.1
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts) and starts[-1] > 90
    assert [s.id for s in result.segments] == list(range(len(result.segments)))


def test_batched_pipeline_matches_sequential(sentences: list[tuple[np.ndarray, str]]) -> None:
    audio, reference = end_to_end(sentences, 0.5)
    batched = transcribe(audio, TranscribeOptions(batch_size=4))
    assert wer(reference, batched.text) <= 0.1
    assert wer(transcribe(audio).text, batched.text) <= 0.1


def test_base_model_is_assembled_once_and_detects_language(tmp_path: Path, test_data: Path,
                                                           ) -> None:
    folder = Path(resolve_model("base", tmp_path))
    model_bin = folder / "model.bin"
    assert model_bin.stat().st_size == BASE_MODEL_BYTES
    mtime = model_bin.stat().st_mtime_ns
    assert Path(resolve_model("base", tmp_path)) == folder
    assert model_bin.stat().st_mtime_ns == mtime  # not rebuilt
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".base-")]
    result = transcribe(load_audio(test_data / "jfk.wav"), TranscribeOptions(beam_size=1),
                        ModelSpec(name=str(folder)))
    assert result.language == "en" and (result.language_probability or 0) > 0.5


def test_truncated_base_assembly_is_redone(tmp_path: Path) -> None:
    folder = Path(resolve_model("base", tmp_path))
    with open(folder / "model.bin", "r+b") as fh:
        fh.truncate(1000)
    assert (Path(resolve_model("base", tmp_path)) / "model.bin").stat().st_size == \
        BASE_MODEL_BYTES


def test_bad_file_raises_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00")
    with pytest.raises(AudioDecodeError, match=r"bad\.wav"):
        transcribe_file(bad)


@pytest.mark.parametrize("change", [{"beam_size": 0}, {"batch_size": 0},
                                    {"task": "summarise"}, {"chunk_seconds": 5},
                                    {"language": "english-please"}, {"language": "xx"},
                                    {"repetition_penalty": 0.5}])
def test_options_are_validated(change: dict) -> None:
    with pytest.raises(InvalidOptionError):
        TranscribeOptions(**change)


@pytest.mark.parametrize("change", [{"engine": "nope"}, {"name": ""}, {"device": "tpu"},
                                    {"cpu_threads": -1}])
def test_model_spec_is_validated(change: dict) -> None:
    with pytest.raises(InvalidOptionError):
        ModelSpec(**change)


def test_settings_build_the_model_spec_at_the_edge(tmp_path: Path) -> None:
    from earful.config import Settings

    s = Settings(asr_model="base", asr_compute_type="float32", asr_cpu_threads=3,
                 cache_dir=tmp_path)
    spec = s.asr_spec()
    assert (spec.name, spec.compute_type, spec.cpu_threads, spec.cache_root) == \
        ("base", "float32", 3, tmp_path)
    assert s.asr_spec("tiny.en").name == "tiny.en" and s.asr_spec("tiny.en").english_only


@pytest.mark.parametrize("opts,spec,match", [
    (TranscribeOptions(language="fr"), ModelSpec(name="tiny.en"), "English-only"),
    (TranscribeOptions(task="translate"), ModelSpec(name="tiny.en"), "cannot translate"),
    (TranscribeOptions(vad=True), ModelSpec(engine="transformers"), "does not support vad"),
    (TranscribeOptions(initial_prompt="Hi."), ModelSpec(engine="transformers", name="x"),
     "initial_prompt"),
    (TranscribeOptions(no_speech_threshold=0.0), ModelSpec(engine="transformers"),
     "no_speech_threshold"),
    (TranscribeOptions(condition_on_previous_text=True), ModelSpec(engine="transformers"),
     "condition_on_previous_text"),
])
def test_what_the_model_cannot_do_is_refused_before_loading(
        opts: TranscribeOptions, spec: ModelSpec, match: str) -> None:
    from earful.models import manager

    before = len(manager.loaded())
    with pytest.raises(InvalidOptionError, match=match):
        transcribe(np.zeros(16000, np.float32), opts, spec)
    assert len(manager.loaded()) == before


def test_what_the_model_can_do_passes() -> None:
    TranscribeOptions(language="fr").check_for(ModelSpec(name="base"))
    TranscribeOptions(task="translate").check_for(ModelSpec(name="base"))
    TranscribeOptions(language="en").check_for(ModelSpec())
    # Explicitly off is no request for a feature the engine lacks.
    TranscribeOptions(vad=False, hallucination_guard=False).check_for(
        ModelSpec(engine="transformers"))


def test_language_table_matches_faster_whisper() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    from earful.asr.languages import LANGUAGES, language_code

    assert set(LANGUAGES) == set(_LANGUAGE_CODES)
    assert language_code("English") == language_code(" EN ") == "en"
    assert language_code("") is None
    with pytest.raises(InvalidOptionError, match="unknown language"):
        language_code("klingon")


def test_short_clip_output_is_capped_at_a_speaking_rate(test_data: Path) -> None:
    from earful.asr.guard import token_cap

    assert token_cap(0.4) == 8 and token_cap(5.0) == 50
    # A prompt that invites a long continuation cannot make a 0.43 s clip say a sentence.
    prompt = "Counting: " + ", ".join(["one two three four five six seven eight nine"] * 3)
    result = transcribe_file(test_data / "digit_7.wav", TranscribeOptions(initial_prompt=prompt))
    assert len(result.text.split()) <= 8
