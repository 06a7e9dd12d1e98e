"""The demo driven in headless Chromium, as a person would: upload, press, read the page.

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
TABS = ["transcribe", "speak", "clone", "classify"]


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
def page(server: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        # launch() gives Chromium a fresh, empty profile of its own.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(server + "/")
        pg.get_by_role("tab", name="Transcribe").wait_for()
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


def test_speak_tab(page: Any, shots: Path) -> None:
    page.get_by_role("tab", name="Speak").click()
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
        assert isinstance(check, GifImagePlugin.GifImageFile) and check.n_frames == 4
    if DOCS is not None:  # `make docs`: every tab passed, so the pictures are worth keeping
        (DOCS / "screenshots").mkdir(parents=True, exist_ok=True)
        for name in TABS:
            shutil.copyfile(shots / f"{name}.png", DOCS / "screenshots" / f"{name}.png")
        shutil.copyfile(gif, DOCS / "demo.gif")
