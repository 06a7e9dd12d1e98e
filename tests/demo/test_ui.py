"""The demo's handlers without a browser: what the Transcribe tab's word diff will show,
and (against a real server) the voice lists, speaking with each, and saving a voice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from earful.audio.io import decode
from earful.demo.client import ApiError, EarfulClient
from earful.demo.ui import Handlers, diff_tokens
from earful.demo.voices import parse_choice, save_updates, speak_choices
from earful.demo.voices import speak as speak_voice

JFK = ("And so my fellow Americans, ask not what your country can do for you, ask what you "
       "can do for your country.")


def _drawn(tokens: list[tuple[str, str | None]]) -> str:
    """The text HighlightedText draws: its tokens side by side, nothing added between."""
    return "".join(text for text, _ in tokens)


def test_plain_words_get_spaces_between() -> None:
    tokens = diff_tokens([("and", None), ("so", None), ("my", None)])
    assert _drawn(tokens) == "and so my"
    assert all(label is None for _, label in tokens)


def test_highlights_cover_the_word_alone() -> None:
    pairs: list[tuple[str, str | None]] = [
        ("ask", None), ("not", "deleted"), ("what", "deleted"), ("your→our", "substituted"),
        ("country", None), ("now", "inserted")]
    tokens = diff_tokens(pairs)
    assert _drawn(tokens) == "ask not what your→our country now"
    assert [t for t in tokens if t[1] is not None] == [t for t in pairs if t[1] is not None]


@pytest.mark.parametrize("pairs", [[], [("alone", None)], [("alone", "inserted")]])
def test_no_stray_spaces(pairs: list[tuple[str, str | None]]) -> None:
    assert diff_tokens(pairs) == pairs


class _Client:
    """Stands in for the HTTP API: a transcript with one word wrong and one missing."""

    def transcribe(self, audio: str, language: str | None) -> dict[str, Any]:
        text = " And so my fellow American, ask not what your country can do for you."
        return {"text": text, "segments": [{"start": 0.0, "end": 3.0, "text": text}]}


def test_transcribe_word_diff_reads_as_words() -> None:
    pytest.importorskip("jiwer", reason="jiwer is not installed (pip install 'earful[asr]')")
    _, _, line, diff = Handlers(_Client()).transcribe("clip.wav", JFK, "")  # type: ignore[arg-type]
    assert "**WER" in line
    drawn = _drawn(diff)
    assert drawn.startswith("and so my fellow americans→american ask not what your country")
    assert drawn == " ".join(drawn.split())
    assert ("americans→american", "substituted") in diff
    assert ("ask", "deleted") in diff


def test_gradio_keeps_the_spaces() -> None:
    """Gradio's own conversion of the tokens for the page drops no whitespace."""
    gr = pytest.importorskip("gradio", reason="gradio is not installed (pip install "
                                              "'earful[demo]')")
    tokens = diff_tokens([("and", None), ("so", "deleted"), ("my", None)])
    shown = gr.HighlightedText(render=False).postprocess(tokens).model_dump()
    assert "".join(t["token"] for t in shown) == "and so my"


# The voice lists and saving a voice, against a real server (Piper, Kokoro when installed).


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EarfulClient]:
    pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'earful[tts]')")
    pytest.importorskip("pyworld", reason="pyworld is not installed (pip install 'earful[tts]')")
    from tests.service.conftest import LiveServer, make_settings

    # Look-up only (no search steps): saving a voice stays short.
    settings = make_settings(tmp_path_factory.mktemp("demo-voices"), clone_enrol_steps=0,
                             timeout_base_seconds=300.0)
    with LiveServer(settings) as server:
        client = EarfulClient(server.url, timeout=600)
        yield client
        client.http.close()


def _kokoro(client: EarfulClient) -> bool:
    return bool(client.voices()["kokoro"])


def test_speak_list_has_every_voice(api: EarfulClient) -> None:
    choices = speak_choices(api.voices())
    assert ("Piper · en_US-joe-medium (en_US, medium)", "piper:en_US-joe-medium") in choices
    if _kokoro(api):
        kokoro = [c for c in choices if c[1].startswith("kokoro:")]
        assert len(kokoro) == 5
        assert ("Kokoro · jm_kumo (Japanese, male)", "kokoro:jm_kumo") in kokoro
        assert ("Kokoro · jf_alpha (Japanese, female)", "kokoro:jf_alpha") in kokoro
    labels = speak_choices({"saved": [{"id": "0123456789ab", "name": "Kennedy"}]})
    assert labels == [("Saved · Kennedy (cloned with Kokoro)", "saved:0123456789ab")]


@pytest.mark.parametrize(("value", "parsed"), [
    ("piper:en_US-joe-medium", ("piper", "en_US-joe-medium")),
    ("kokoro:jf_alpha:0.6,jm_kumo:0.4", ("kokoro", "jf_alpha:0.6,jm_kumo:0.4")),
    ("saved:0123456789ab", ("saved", "0123456789ab")),
    ("jf_alpha:0.6,jm_kumo:0.4", (None, "jf_alpha:0.6,jm_kumo:0.4")),
    (" Kennedy ", (None, "Kennedy")), ("", (None, "")), ("saved:", (None, "saved:"))])
def test_parse_choice(value: str, parsed: tuple[str | None, str]) -> None:
    assert parse_choice(value) == parsed


def test_speak_uses_the_engine_of_the_choice(api: EarfulClient) -> None:
    cases = [("piper:en_US-joe-medium", "piper", "en_US-joe-medium"),
             ("", "piper", "en_US-joe-medium")]
    if _kokoro(api):
        cases += [("kokoro:jm_kumo", "kokoro", "jm_kumo"),
                  ("jf_alpha:0.5,jm_kumo:0.5", "kokoro", None)]  # typed: the API finds it
    for choice, engine, voice in cases:
        reply = speak_voice(api, "Hello there.", choice, 1.0)
        assert reply.headers["x-engine"] == engine, choice
        assert voice is None or reply.headers["x-voice"] == voice
        assert 0.3 < decode(reply.audio, None).duration < 5.0
    _, line = Handlers(api).speak("Hello there.", cases[-1][0], 1.0)
    assert f"({cases[-1][1]})" in line


def test_bad_voices_are_refused_before_any_enrolment(api: EarfulClient,
                                                     test_data: Path) -> None:
    gr = pytest.importorskip("gradio", reason="gradio is not installed (pip install "
                                              "'earful[demo]')")
    with pytest.raises(ApiError) as refused:
        list(api.add_voice_stream("../etc", test_data / "jfk.wav"))
    assert refused.value.status == 422
    with pytest.raises(ApiError) as short:
        list(api.add_voice_stream("Short", test_data / "yes.wav"))
    assert short.value.status == 422 and "long" in str(short.value)
    shown = []
    with pytest.raises(gr.Error):
        for status, _, _ in save_updates(api, gr, "../etc", str(test_data / "jfk.wav")):
            shown.append(status)
    assert shown[-1].startswith("Not saved:") and "voice name" in shown[-1]
    with pytest.raises(gr.Error):
        list(save_updates(api, gr, "Nobody", None))
    assert api.voices()["saved"] == []


def test_save_shows_progress_then_lists_and_speaks_the_voice(api: EarfulClient,
                                                              tmp_path: Path,
                                                              test_data: Path) -> None:
    gr = pytest.importorskip("gradio", reason="gradio is not installed (pip install "
                                              "'earful[demo]')")
    import soundfile as sf

    # jfk.wav a little quieter: no test has enrolled it, so the look-up really runs.
    audio, rate = sf.read(test_data / "jfk.wav", dtype="float32")
    reference = tmp_path / "kennedy.flac"
    sf.write(reference, 0.75 * audio, rate)
    fractions: list[float] = []
    steps = list(save_updates(api, gr, " Kennedy ", str(reference),
                              lambda fraction, desc=None: fractions.append(fraction)))
    statuses = [s for s, _, _ in steps]
    assert statuses[0].startswith("Saving 'Kennedy'") and statuses[-1].startswith("Saved")
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    if _kokoro(api):
        assert any("candidate styles tried" in s for s in statuses), statuses
    saved = api.voices()["saved"]
    assert [v["name"] for v in saved] == ["Kennedy"]
    vid = saved[0]["id"]
    assert vid in statuses[-1]
    _, speak_list, saved_list = steps[-1]
    assert ("Saved · Kennedy (cloned with Kokoro)", f"saved:{vid}") in speak_list["choices"]
    assert saved_list["value"] == vid and (f"Kennedy · {vid}", vid) in saved_list["choices"]
    if _kokoro(api):
        reply = speak_voice(api, "Saved voices speak too.", f"saved:{vid}", 1.0)
        assert (reply.headers["x-engine"], reply.headers["x-voice"]) == ("kokoro", vid)
