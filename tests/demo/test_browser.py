"""The demo driven in headless Chromium, as a person would: upload, press, read the page;
on the Live tab, speak into a fake microphone (Chromium plays a WAV file as one).

Needs Debian's chromium (``make test`` installs it when it can) and the playwright Python
package (dev extra); Playwright's own browser download is not used. Screenshots of each tab
and a GIF of them are written to a temporary folder, so a test run leaves the tree as it
found it. ``make docs`` runs this module with ``EARFUL_DEMO_DOCS`` naming the docs folder:
then, once every tab has passed, the screenshots are copied to its screenshots/ and the GIF
to its demo.gif, and anything that would skip fails instead.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

# Where `make docs` wants the pictures; unset in test runs.
DOCS = Path(os.environ["EARFUL_DEMO_DOCS"]) if os.environ.get("EARFUL_DEMO_DOCS") else None
TABS = ["transcribe", "speak", "clone", "classify", "live"]


def _unavailable(reason: str) -> NoReturn:
    """Skip the module, or fail it when regenerating the docs (a skip would keep old pictures)."""
    if DOCS is not None:
        pytest.fail(f"cannot regenerate the demo pictures: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def _need(module: str, reason: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        _unavailable(reason)


_need("gradio", "gradio is not installed (pip install 'earful[demo]')")
_need("piper", "piper-tts is not installed (pip install 'earful[tts]')")
sync_api = _need("playwright.sync_api", "playwright is not installed (dev extra)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    _unavailable("no chromium on PATH: `apt-get install chromium` (make test does it as root)")

# Chromium on a closed network: no background connections, no sandbox as root.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
TIMEOUT_MS = 120_000
JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, ask what "
            "you can do for your country.")


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder this run's screenshots and GIF go to: always a temporary one."""
    return tmp_path_factory.mktemp("demo-shots")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from earful.demo.ui import mount_demo
    from earful.service.app import create_app
    from tests.service.conftest import make_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(tmp_path_factory.mktemp("demo"), preload=True))
    assert mount_demo(app, url)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield url
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        yield p


def _open(pw: Any, url: str, *flags: str) -> tuple[Any, Any]:
    """A fresh Chromium (launch() gives it an empty profile of its own) showing the demo."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*FLAGS, *flags])
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(url + "/")
    pg.get_by_role("tab", name="Transcribe").wait_for()
    return browser, pg


@pytest.fixture(scope="module")
def page(server: str, pw: Any) -> Iterator[Any]:
    browser, pg = _open(pw, server)
    yield pg
    browser.close()


def _shot(page: Any, folder: Path, name: str) -> None:
    time.sleep(0.5)  # let the output's fade-in finish
    page.screenshot(path=str(folder / f"{name}.png"))


def _upload(page: Any, elem_id: str, path: Path) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))
    page.locator(f"#{elem_id} audio, #{elem_id} [data-testid='waveform-Audio']").first \
        .wait_for(state="attached")


# The texts of the elements a selector matches, joined in page order.
_DRAWN_TEXT = "sel => [...document.querySelectorAll(sel)].map(e => e.textContent).join('')"


def test_transcribe_tab(page: Any, test_data: Path, shots: Path) -> None:
    _upload(page, "transcribe-audio", test_data / "jfk.mp3")
    page.locator("#reference-text textarea").fill(JFK_TEXT)
    page.get_by_role("button", name="Transcribe").click()
    transcript = page.locator("#transcript textarea")
    page.wait_for_function(
        "() => (document.querySelector('#transcript textarea')?.value || '').length > 20")
    assert "ask not what your country" in transcript.input_value().lower()
    page.locator("#wer", has_text="WER").wait_for()
    assert "WER" in page.locator("#wer").inner_text()
    # The word diff as a person reads it. Its tokens are flex items, laid side by side with
    # the markup's whitespace between them not drawn (and innerText puts each on a line of
    # its own, hiding the fault), so the text drawn is the tokens' texts joined as they are.
    page.locator("#word-diff .textfield .text").first.wait_for()
    drawn = page.evaluate(_DRAWN_TEXT, "#word-diff .textfield .text")
    assert "and so my fellow americans ask not what your country" in drawn.lower(), drawn
    assert drawn == " ".join(drawn.split()), drawn  # one space between words, none at the ends
    _shot(page, shots, "transcribe")


def _output_audio(page: Any, elem_id: str) -> float:
    """The duration of the audio an output component shows, fetched as the browser would.

    Gradio 6 draws audio with a waveform player that loads the file itself, leaving the
    <audio> element without a src; the file's URL is on the player's download link.
    """
    from earful.audio.io import decode

    link = page.locator(f"#{elem_id} a[data-testid='download-link']").first
    link.wait_for(state="attached")
    href = link.get_attribute("href")
    assert href and "/gradio_api/file=" in href
    body = page.request.get(href).body()
    return decode(body, None).duration


def _options(page: Any, elem_id: str, wanted: str) -> list[str]:
    """The choices a dropdown with a value lists, once one containing ``wanted`` is there
    (they load after the page); the list is closed again and the value left as it was."""
    box = page.locator(f"#{elem_id} input")
    page.wait_for_function(f"() => document.querySelector('#{elem_id} input')?.value")
    for _ in range(60):
        value = box.input_value()
        box.click()
        options = page.locator("[data-testid='dropdown-option']")
        options.first.wait_for()
        texts = [t.replace("✓", "").strip() for t in options.all_inner_texts()]
        box.press("Escape")
        if any(wanted in t for t in texts):
            break
        time.sleep(1)
    assert box.input_value() == value
    return texts


def test_speak_tab(page: Any, shots: Path) -> None:
    from earful.tts.kokoro_engine import kokoro_voices

    page.get_by_role("tab", name="Speak").click()
    voices = _options(page, "speak-voice", "Piper")
    assert any(v.startswith("Piper · en_US-joe-medium") for v in voices), voices
    if kokoro_voices():
        assert "Kokoro · jm_kumo (Japanese, male)" in voices, voices
    page.get_by_role("button", name="Speak", exact=True).click()
    assert 1.0 < _output_audio(page, "speech") < 6.0
    _shot(page, shots, "speak")


def test_clone_tab(page: Any, shots: Path) -> None:
    from earful.demo.ui import EXAMPLES

    page.get_by_role("tab", name="Clone").click()
    _upload(page, "clone-reference", EXAMPLES / "reference_p240.mp3")
    page.get_by_role("button", name="Clone", exact=True).click()
    assert 1.0 < _output_audio(page, "cloned") < 6.0
    page.locator("#similarity", has_text="Speaker similarity").wait_for()
    value = float(page.locator("#similarity strong").inner_text().split(":")[-1])
    assert 0.2 < value < 1.0
    _shot(page, shots, "clone")
    # Save the reference as a voice (Kokoro enrolled it for the clone: its style is reused).
    page.locator("#voice-name input, #voice-name textarea").first.fill("Speaker p240")
    page.get_by_role("button", name="Save as voice").click()
    page.wait_for_function(
        "() => (document.querySelector('#save-status textarea')?.value || '')"
        ".startsWith('Saved')")
    page.get_by_role("tab", name="Speak").click()
    voices = _options(page, "speak-voice", "Speaker p240")
    assert "Saved · Speaker p240 (cloned with Kokoro)" in voices, voices
    page.get_by_role("tab", name="Clone").click()


def test_classify_tab(page: Any, test_data: Path, shots: Path) -> None:
    page.get_by_role("tab", name="Classify").click()
    _upload(page, "classify-audio", test_data / "yes.wav")
    page.get_by_role("button", name="Classify", exact=True).click()
    top = page.locator("#labels h2, #labels .output-class").first
    top.wait_for()
    page.wait_for_function(
        "() => (document.querySelector('#labels')?.innerText || '').includes('yes')")
    assert top.inner_text().strip().lower() == "yes"
    _shot(page, shots, "classify")


def _fake_microphone(test_data: Path, folder: Path) -> Path:
    """jfk.wav between quiet stretches, as the 16-bit PCM WAV file Chromium's fake
    microphone plays (over and over)."""
    import numpy as np
    import soundfile as sf

    audio, rate = sf.read(test_data / "jfk.wav", dtype="float32")
    quiet = np.zeros(rate, np.float32)
    path = folder / "microphone.wav"
    sf.write(path, np.concatenate([quiet, audio, quiet, quiet]), rate, subtype="PCM_16")
    return path


def _record(page: Any) -> None:
    """Press Record until audio flows. The recorder loads its WAV encoder after the tab
    shows, and a press before that records nothing: then stop and press again."""
    for _ in range(5):
        try:
            with page.expect_request(lambda r: "/gradio_api/upload" in r.url, timeout=15_000):
                page.locator("#live-audio button", has_text="Record").click()
            return
        except sync_api.TimeoutError:
            page.locator("#live-audio button", has_text="Stop").click()
            page.locator("#live-status", has_text="Stopped").wait_for()
    pytest.fail("the fake microphone sent no audio")


def test_live_tab(server: str, pw: Any, test_data: Path, shots: Path,
                  tmp_path: Path) -> None:
    mic = _fake_microphone(test_data, tmp_path)
    browser, pg = _open(pw, server, "--use-fake-ui-for-media-stream",
                        "--use-fake-device-for-media-stream",
                        f"--use-file-for-fake-audio-capture={mic}")
    try:
        pg.get_by_role("tab", name="Live").click()
        _record(pg)
        # Finished sentences land in the transcript while the microphone keeps going.
        pg.wait_for_function(
            "() => (document.querySelector('#live-transcript textarea')?.value || '')"
            ".toLowerCase().includes('country')")
        assert "Listening" in pg.locator("#live-status").inner_text()
        _shot(pg, shots, "live")
        pg.locator("#live-audio button", has_text="Stop").click()
        pg.locator("#live-status", has_text="Stopped").wait_for()
        text = pg.locator("#live-transcript textarea").input_value().lower()
        assert "country" in text, text
        assert pg.locator("#live-partial textarea").input_value() == ""
    finally:
        browser.close()


def test_walkthrough_gif(shots: Path) -> None:
    from PIL import GifImagePlugin, Image

    missing = [n for n in TABS if not (shots / f"{n}.png").is_file()]
    if missing:
        message = f"tab tests did not produce screenshots: {missing}"
        if DOCS is not None:
            pytest.fail(message)
        pytest.skip(message)
    frames = [Image.open(shots / f"{n}.png").convert("RGB").resize((960, 675)) for n in TABS]
    gif = shots / "demo.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=2500, loop=0,
                   optimize=True)
    with Image.open(gif) as check:
        assert isinstance(check, GifImagePlugin.GifImageFile) and check.n_frames == len(TABS)
    if DOCS is not None:  # `make docs`: every tab passed, so the pictures are worth keeping
        (DOCS / "screenshots").mkdir(parents=True, exist_ok=True)
        for name in TABS:
            shutil.copyfile(shots / f"{name}.png", DOCS / "screenshots" / f"{name}.png")
        shutil.copyfile(gif, DOCS / "demo.gif")
