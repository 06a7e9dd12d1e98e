"""The Transcribe tab's speakers option without a browser: tokens and timeline."""

from __future__ import annotations

from typing import Any

from earful.demo.ui import Handlers, speaker_timeline, speaker_tokens

SEGMENTS = [{"start": 0.0, "end": 2.0, "text": " Hello there.", "speaker": "SPEAKER_1"},
            {"start": 2.4, "end": 4.0, "text": " Hi.", "speaker": "SPEAKER_2"},
            {"start": 4.5, "end": 6.0, "text": " How are you?", "speaker": "SPEAKER_1"}]


class _Client:
    """Stands in for the HTTP API; records what the handler asked for."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def transcribe(self, audio: str, language: str | None, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        segments = SEGMENTS if kwargs.get("diarize") else [
            {k: v for k, v in s.items() if k != "speaker"} for s in SEGMENTS]
        return {"text": "Hello there. Hi. How are you?", "segments": segments,
                "duration": 6.5}


def test_tokens_colour_each_segment_by_speaker() -> None:
    tokens = speaker_tokens(SEGMENTS)
    assert tokens == [("Hello there.", "Speaker 1"), (" ", None), ("Hi.", "Speaker 2"),
                      (" ", None), ("How are you?", "Speaker 1")]


def test_timeline_has_a_row_per_speaker() -> None:
    fig = speaker_timeline(SEGMENTS, 6.5)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Speaker 1", "Speaker 2"]
    assert len(ax.collections) == 2 and ax.get_xlim()[1] == 6.5


def test_handler_asks_for_speakers_only_when_ticked() -> None:
    client = _Client()
    h = Handlers(client)  # type: ignore[arg-type]
    out = h.transcribe_speakers("clip.wav", "", "", True, 2.0)
    assert client.calls[-1] == {"diarize": True, "num_speakers": 2}
    assert out[1][0] == ["0.00", "2.00", "[SPEAKER_1] Hello there."]
    assert out[4][0] == ("Hello there.", "Speaker 1") and out[5] is not None
    plain = h.transcribe_speakers("clip.wav", "", "", False)
    assert client.calls[-1] == {} and plain[4] == [] and plain[5] is None
    assert plain[1][0] == ["0.00", "2.00", "Hello there."]
