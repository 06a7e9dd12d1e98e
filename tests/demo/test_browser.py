"""The demo driven in headless Chromium, as a person would: upload, press, read the page.

Needs Debian's chromium (``make test`` installs it when it can) and the playwright Python
package (dev extra); Playwright's own browser download is not used. Screenshots of each tab
go to docs/screenshots/ and are assembled into docs/demo.gif.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("gradio", reason="gradio is not installed (pip install 'earful[demo]')")
pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'earful[tts]')")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (dev extra)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH: `apt-get install chromium` (make test does it as root)",
                allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
# Chromium on a closed network: no background connections, no sandbox as root.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
TIMEOUT_MS = 120_000
JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, ask what "
            "you can do for your country.")


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


def _shot(page: Any, name: str) -> None:
    time.sleep(0.5)  # let the output's fade-in finish
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _upload(page: Any, elem_id: str, path: Path) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))
    page.locator(f"#{elem_id} audio, #{elem_id} [data-testid='waveform-Audio']").first \
        .wait_for(state="attached")


def test_transcribe_tab(page: Any, test_data: Path) -> None:
    _upload(page, "transcribe-audio", test_data / "jfk.mp3")
    page.locator("#reference-text textarea").fill(JFK_TEXT)
    page.get_by_role("button", name="Transcribe").click()
    transcript = page.locator("#transcript textarea")
    page.wait_for_function(
        "() => (document.querySelector('#transcript textarea')?.value || '').length > 20")
    assert "ask not what your country" in transcript.input_value().lower()
    page.locator("#wer", has_text="WER").wait_for()
    assert "WER" in page.locator("#wer").inner_text()
    _shot(page, "transcribe")


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


def test_speak_tab(page: Any) -> None:
    page.get_by_role("tab", name="Speak").click()
    page.get_by_role("button", name="Speak", exact=True).click()
    assert 1.0 < _output_audio(page, "speech") < 6.0
    _shot(page, "speak")


def test_clone_tab(page: Any) -> None:
    from earful.demo.ui import EXAMPLES

    page.get_by_role("tab", name="Clone").click()
    _upload(page, "clone-reference", EXAMPLES / "reference_p240.mp3")
    page.get_by_role("button", name="Clone", exact=True).click()
    assert 1.0 < _output_audio(page, "cloned") < 6.0
    page.locator("#similarity", has_text="Speaker similarity").wait_for()
    value = float(page.locator("#similarity strong").inner_text().split(":")[-1])
    assert 0.2 < value < 1.0
    _shot(page, "clone")


def test_classify_tab(page: Any, test_data: Path) -> None:
    page.get_by_role("tab", name="Classify").click()
    _upload(page, "classify-audio", test_data / "yes.wav")
    page.get_by_role("button", name="Classify", exact=True).click()
    top = page.locator("#labels h2, #labels .output-class").first
    top.wait_for()
    page.wait_for_function(
        "() => (document.querySelector('#labels')?.innerText || '').includes('yes')")
    assert top.inner_text().strip().lower() == "yes"
    _shot(page, "classify")


def test_walkthrough_gif() -> None:
    from PIL import Image

    names = ["transcribe", "speak", "clone", "classify"]
    missing = [n for n in names if not (SHOTS / f"{n}.png").is_file()]
    if missing:
        pytest.skip(f"tab tests did not produce screenshots: {missing}")
    frames = [Image.open(SHOTS / f"{n}.png").convert("RGB").resize((960, 675)) for n in names]
    gif = ROOT / "docs" / "demo.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=2500, loop=0,
                   optimize=True)
    with Image.open(gif) as check:
        assert check.n_frames == 4
