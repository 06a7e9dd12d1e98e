"""The Gradio interface: five tabs over the HTTP API (a thin client, no models in here)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from earful.demo.client import ApiError, EarfulClient
from earful.demo.live import live_tab
from earful.demo.voices import save_updates, saved_choices, speak_choices
from earful.demo.voices import speak as speak_choice
from earful.errors import DependencyMissingError
from earful.tts.clone import ENGINES as CLONE_ENGINES

logger = logging.getLogger(__name__)

EXAMPLES = Path(__file__).parent / "examples"
DIFF_COLORS = {"substituted": "#f5a623", "deleted": "#e74c3c", "inserted": "#3498db"}
INTRO = ("**earful** — offline speech toolkit. Every tab calls the same HTTP API as any other "
         "client ([/docs](/docs)). Whisper tiny.en transcribes (and its encoder, with a small "
         "head, spots keywords), Piper and Kokoro speak, Kokoro or the offline engine clones "
         "a voice from 3 to 30 s of reference (save it as a voice to speak with it later), "
         "and Live transcribes the microphone as you speak.")


def _gradio() -> Any:
    try:
        import gradio as gr
    except ImportError as e:
        raise DependencyMissingError("gradio", "demo", "the web demo") from e
    return gr


def diff_tokens(pairs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Word-diff pairs as gr.HighlightedText tokens that read as separate words.

    HighlightedText lays its tokens side by side with nothing between them, so the bare
    ``(word, label)`` pairs of :func:`earful.asr.evaluate.word_diff` read "andsomyfellow".
    Each word but the last is followed by a space: inside a plain word's token, or as an
    unlabelled token of its own after a highlighted one, so the highlight covers the word
    alone. One token per word also lets a long diff wrap between words.

    Args:
        pairs: ``(word, label)`` pairs; ``label`` is None for a matching word.

    Returns:
        The tokens to display; their texts joined give the words separated by single spaces.
    """
    tokens: list[tuple[str, str | None]] = []
    for i, (word, label) in enumerate(pairs):
        if i == len(pairs) - 1:
            tokens.append((word, label))
        elif label is None:
            tokens.append((f"{word} ", None))
        else:
            tokens += [(word, label), (" ", None)]
    return tokens


def _speaker_name(speaker: str | None) -> str | None:
    """``SPEAKER_1`` -> ``Speaker 1`` (a known speaker's name as is)."""
    if not speaker:
        return None
    head, _, number = speaker.partition("_")
    return f"Speaker {number}" if head == "SPEAKER" and number.isdigit() else speaker


def speaker_tokens(segments: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """A diarized transcript as gr.HighlightedText tokens, one colour per speaker (a
    space after each segment but the last, unlabelled, so highlights cover words only)."""
    tokens: list[tuple[str, str | None]] = []
    for i, seg in enumerate(segments):
        tokens.append((seg["text"].strip(), _speaker_name(seg.get("speaker"))))
        if i < len(segments) - 1:
            tokens.append((" ", None))
    return tokens


def speaker_timeline(segments: list[dict[str, Any]], duration: float) -> Any:
    """A matplotlib figure: one row per speaker, a bar where each of their segments is."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    speakers = list(dict.fromkeys(_speaker_name(s.get("speaker")) or "?" for s in segments))
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.45 * max(1, len(speakers))))
    for row, name in enumerate(speakers):
        spans = [(s["start"], s["end"] - s["start"]) for s in segments
                 if (_speaker_name(s.get("speaker")) or "?") == name]
        ax.broken_barh(spans, (row - 0.4, 0.8), color=f"C{row % 10}")
    ax.set_yticks(range(len(speakers)), speakers)
    ax.set_xlim(0, max([duration, *[s["end"] for s in segments]]) or 1.0)
    ax.set_xlabel("seconds")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def _samples(audio: bytes) -> tuple[int, Any]:
    """Decoded audio for a Gradio output (it writes its own cached file; we write none)."""
    from earful.audio.io import decode

    decoded = decode(audio, None)
    return decoded.sample_rate, decoded.samples


class Handlers:
    """The functions behind the buttons; each turns API errors into messages on the page."""

    def __init__(self, client: EarfulClient) -> None:
        self.client = client

    def _fail(self, e: ApiError) -> Exception:
        gr = _gradio()
        return gr.Error(str(e))

    def transcribe(self, audio: str | None, reference: str, language: str,
                   ) -> tuple[str, list[list[Any]], str, list[tuple[str, str | None]]]:
        """Transcript, segment table, WER line and word diff."""
        return self._transcribe(audio, reference, language)[1:]

    def transcribe_speakers(self, audio: str | None, reference: str, language: str,
                            speakers: bool, num_speakers: float | None = None,
                            ) -> tuple[Any, ...]:
        """:meth:`transcribe`'s outputs, then (with ``speakers``) the transcript coloured
        by speaker and a speaker timeline figure."""
        count = int(num_speakers) if num_speakers else None
        result, *outputs = self._transcribe(audio, reference, language, speakers, count)
        if not speakers:
            return (*outputs, [], None)
        return (*outputs, speaker_tokens(result["segments"]),
                speaker_timeline(result["segments"], result.get("duration") or 0.0))

    def _transcribe(self, audio: str | None, reference: str, language: str,
                    diarize: bool = False, num_speakers: int | None = None,
                    ) -> tuple[dict[str, Any], str, list[list[Any]], str,
                               list[tuple[str, str | None]]]:
        if not audio:
            raise _gradio().Error("upload or record some audio first")
        try:
            if diarize:
                result = self.client.transcribe(audio, language or None, diarize=True,
                                                num_speakers=num_speakers)
            else:
                result = self.client.transcribe(audio, language or None)
        except ApiError as e:
            raise self._fail(e) from e
        rows = [[f"{s['start']:.2f}", f"{s['end']:.2f}",
                 (f"[{s['speaker']}] " if s.get("speaker") else "") + s["text"].strip()]
                for s in result["segments"]]
        if not reference.strip():
            return result, result["text"], rows, "Add a reference text to see the WER.", []
        from earful.asr.evaluate import get_normaliser, score, word_diff

        norm = get_normaliser()
        scores = score([reference], [result["text"]], norm)
        line = (f"**WER {100 * scores.wer:.1f}%** · CER {100 * scores.cer:.1f}% · "
                f"{scores.substitutions} substituted, {scores.deletions} deleted, "
                f"{scores.insertions} inserted of {scores.reference_words} reference words")
        return (result, result["text"], rows, line,
                diff_tokens(word_diff(reference, result["text"], norm)))

    def speak(self, text: str, voice: str | None, speed: float,
              ) -> tuple[tuple[int, Any], str]:
        """Audio file and a one-line description; ``voice`` is a Speak choice
        (:func:`earful.demo.voices.speak_choices`) or a typed voice."""
        try:
            reply = speak_choice(self.client, text, voice, speed)
        except ApiError as e:
            raise self._fail(e) from e
        h = reply.headers
        return (_samples(reply.audio),
                f"{h.get('x-audio-duration')} s, voice {h.get('x-voice')} "
                f"({h.get('x-engine')})")

    def clone(self, text: str, reference: str | None, saved: str, engine: str,
              ) -> tuple[tuple[int, Any], str]:
        """Cloned audio and its speaker similarity to the reference."""
        voice_id = saved.strip() if saved and not reference else None
        if not reference and not voice_id:
            raise _gradio().Error("upload or record a reference, or pick a saved voice")
        try:
            reply = self.client.clone(text, reference=reference, voice_id=voice_id,
                                      engine=engine)
        except ApiError as e:
            raise self._fail(e) from e
        sim = reply.headers.get("x-speaker-similarity")
        return _samples(reply.audio), (f"**Speaker similarity to the reference: {sim}** "
                                    f"(cosine of speaker embeddings; the same person scores "
                                    f"about 0.9, different people about 0.6)")

    def classify(self, audio: str | None) -> dict[str, float]:
        """Top labels with scores."""
        if not audio:
            raise _gradio().Error("upload or record a clip first")
        try:
            result = self.client.classify(audio, top_k=5)
        except ApiError as e:
            raise self._fail(e) from e
        return {item["label"]: item["score"] for item in result["top_k"]}

    def voice_choices(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Every voice for the Speak tab, and the saved voices for the Clone tab, as
        ``(label, value)`` pairs (empty when the API cannot be reached)."""
        try:
            voices = self.client.voices()
        except (ApiError, OSError) as e:
            logger.warning("could not list voices: %s", e)
            return [], []
        return speak_choices(voices), saved_choices(voices)


def build_demo(client: EarfulClient) -> Any:
    """The Gradio Blocks app for an API reachable through ``client``."""
    gr = _gradio()
    h = Handlers(client)
    # Gradio keeps uploads and outputs in its cache: files older than an hour are deleted.
    with gr.Blocks(title="earful", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Transcribe", id="transcribe"):
            with gr.Row():
                with gr.Column():
                    t_audio = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                       label="Audio", elem_id="transcribe-audio")
                    t_ref = gr.Textbox(label="Reference text (optional, for WER)", lines=2,
                                       elem_id="reference-text")
                    t_lang = gr.Textbox(label="Language (empty = detect)", value="")
                    with gr.Row():
                        t_spk = gr.Checkbox(label="Speakers (who spoke when)", value=False,
                                            elem_id="speakers")
                        # 0, not empty: the browser sends an empty number field as 0.
                        t_nspk = gr.Number(label="Number of speakers (0 = find)",
                                           value=0, precision=0, minimum=0, maximum=16)
                    t_btn = gr.Button("Transcribe", variant="primary")
                with gr.Column():
                    t_text = gr.Textbox(label="Transcript", lines=4, elem_id="transcript")
                    t_rows = gr.Dataframe(headers=["start", "end", "text"],
                                          label="Segments (seconds)")
                    t_wer = gr.Markdown(elem_id="wer")
                    t_diff = gr.HighlightedText(label="Word diff (reference → heard)",
                                                color_map=DIFF_COLORS, show_legend=True,
                                                elem_id="word-diff")
                    t_who = gr.HighlightedText(label="Transcript by speaker", show_legend=True,
                                               elem_id="speaker-transcript")
                    t_plot = gr.Plot(label="Speaker timeline", elem_id="speaker-timeline")
            gr.Examples([[str(EXAMPLES / "jfk.mp3"),
                          "And so my fellow Americans, ask not what your country can do for "
                          "you, ask what you can do for your country."]],
                        inputs=[t_audio, t_ref])
            t_btn.click(h.transcribe_speakers, [t_audio, t_ref, t_lang, t_spk, t_nspk],
                        [t_text, t_rows, t_wer, t_diff, t_who, t_plot])
        with gr.Tab("Speak", id="speak"):
            with gr.Row():
                with gr.Column():
                    s_text = gr.Textbox(label="Text", lines=3,
                                        value="Hello! This voice runs entirely offline.")
                    s_voice = gr.Dropdown(label="Voice (Piper, Kokoro, or saved: cloned "
                                                "with Kokoro)", choices=[],
                                          allow_custom_value=True, elem_id="speak-voice")
                    s_speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed")
                    s_btn = gr.Button("Speak", variant="primary")
                with gr.Column():
                    s_audio = gr.Audio(label="Speech", type="numpy", elem_id="speech")
                    s_info = gr.Markdown()
            s_btn.click(h.speak, [s_text, s_voice, s_speed], [s_audio, s_info])
        with gr.Tab("Clone", id="clone"):
            with gr.Row():
                with gr.Column():
                    c_text = gr.Textbox(label="Text", lines=3,
                                        value="This sentence was never recorded by this voice.")
                    c_ref = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                     label="Reference voice (3 to 30 s)",
                                     elem_id="clone-reference")
                    c_saved = gr.Dropdown(label="…or a saved voice", choices=[],
                                          allow_custom_value=True, elem_id="saved-voice")
                    c_engine = gr.Radio(list(CLONE_ENGINES), value=CLONE_ENGINES[0],
                                        label="Engine")
                    c_btn = gr.Button("Clone", variant="primary")
                    with gr.Row():
                        c_name = gr.Textbox(label="Save the reference as a voice named",
                                            elem_id="voice-name", scale=3)
                        c_save = gr.Button("Save as voice", scale=1)
                    c_status = gr.Textbox(label="Saving", interactive=False,
                                          elem_id="save-status")
                with gr.Column():
                    c_audio = gr.Audio(label="Cloned speech", type="numpy", elem_id="cloned")
                    c_sim = gr.Markdown(elem_id="similarity")
            gr.Examples([[str(EXAMPLES / "reference_p240.mp3")]], inputs=[c_ref])
            c_btn.click(h.clone, [c_text, c_ref, c_saved, c_engine], [c_audio, c_sim])

            def save(name: str, reference: str | None,  # gradio fills in ``progress``
                     progress: Any = gr.Progress()) -> Iterator[tuple[Any, Any, Any]]:  # noqa: B008
                yield from save_updates(client, gr, name, reference, progress)

            c_save.click(save, [c_name, c_ref], [c_status, s_voice, c_saved],
                         show_progress_on=[c_status])
        with gr.Tab("Classify", id="classify"):
            with gr.Row():
                with gr.Column():
                    k_audio = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                       label="Keyword clip (yes, no, up, down, left, right, "
                                             "on, off, stop, go)",
                                       elem_id="classify-audio")
                    k_btn = gr.Button("Classify", variant="primary")
                with gr.Column():
                    k_label = gr.Label(label="Top labels", num_top_classes=5,
                                       elem_id="labels")
            gr.Examples([[str(EXAMPLES / "keyword_yes.wav")]], inputs=[k_audio])
            k_btn.click(h.classify, [k_audio], [k_label])
        live_tab(gr, client.base_url, client.api_key)

        def refresh() -> tuple[Any, Any]:
            every, saved = h.voice_choices()
            return (gr.update(choices=every, value=every[0][1] if every else None),
                    gr.update(choices=saved))

        demo.load(refresh, None, [s_voice, c_saved])
    return demo


def mount_demo(app: Any, api_url: str, api_key: str | None = None) -> bool:
    """Mount the demo at ``/`` of the service app; returns False when gradio is missing."""
    try:
        gr = _gradio()
    except DependencyMissingError as e:
        logger.warning("%s; serving the API only", e)
        return False
    demo = build_demo(EarfulClient(api_url, api_key))
    gr.mount_gradio_app(app, demo, path="/", allowed_paths=[str(EXAMPLES)],
                        footer_links=["api"])
    return True
