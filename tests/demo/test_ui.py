"""The demo's handlers without a browser: what the Transcribe tab's word diff will show."""

from __future__ import annotations

from typing import Any

import pytest

from earful.demo.ui import Handlers, diff_tokens

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
