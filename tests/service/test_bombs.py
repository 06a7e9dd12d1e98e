"""Decompression bombs against a real server process: each small upload that holds or claims
far more audio than the limit gets its 413 without the server's peak memory growing by more
than 200 MB (measured as the process's VmHWM), and a WAV claiming more than it holds is
transcribed as far as it goes, saying so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.audio import bombs
from tests.service.server_process import ServerProcess

LIMIT_SECONDS = 120
MB = 1_000_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    work = tmp_path_factory.mktemp("bombs")
    with ServerProcess(work, max_audio_seconds=str(LIMIT_SECONDS),
                       max_upload_mb="25") as srv:
        yield srv


@pytest.fixture(scope="module")
def bomb_dir(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bomb-files")
    return {
        # 40 minutes at 48 kHz: 460 MB as float32 if decoded whole.
        "flac": bombs.flac_silence(d / "silence.flac", 2400),
        "flac-no-length": bombs.flac_silence(d / "unknown.flac", 2400, hide_length=True),
        "opus": bombs.opus_silence(d / "silence.ogg", 1200),
        "mp3": bombs.mp3_silence(d / "silence.mp3", 3600),
        # 8 MB of samples whose data chunk claims 4 GB: what follows is 250 s at 16 kHz.
        "wav-huge-chunk": bombs.wav_claiming(d / "huge.wav", 250, 0xFFFFFFF0),
        "m4a-claims-hours": bombs.mp4_claiming_hours(d / "hours.m4a", test_data / "jfk.m4a"),
    }


def _post(server: ServerProcess, path: Path, route: str = "/transcribe") -> httpx.Response:
    with path.open("rb") as fh:
        return httpx.post(f"{server.url}{route}", files={"file": (path.name, fh)},
                          timeout=120)


@pytest.mark.parametrize("kind", ["flac", "flac-no-length", "opus", "mp3", "wav-huge-chunk"])
def test_bomb_gets_413_in_bounded_memory(server: ServerProcess, bomb_dir: dict[str, Path],
                                         kind: str) -> None:
    assert bomb_dir[kind].stat().st_size < 25 * MB
    before = server.rss()
    server.reset_peak()
    resp = _post(server, bomb_dir[kind])
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["type"] == "audio_too_long"
    assert f"limit is {LIMIT_SECONDS:.1f} s" in resp.json()["error"]["message"]
    assert server.peak_rss() - before < 200 * MB


def test_bomb_as_classify_input_and_clone_reference(server: ServerProcess,
                                                    bomb_dir: dict[str, Path]) -> None:
    before = server.rss()
    server.reset_peak()
    assert _post(server, bomb_dir["flac-no-length"], "/classify").status_code == 413
    with bomb_dir["flac-no-length"].open("rb") as fh:
        resp = httpx.post(f"{server.url}/clone-voice", data={"text": "Hi."},
                          files={"reference": ("r.flac", fh)}, timeout=120)
    assert resp.status_code == 422 and "at most 30 s" in resp.json()["error"]["message"]
    assert server.peak_rss() - before < 200 * MB


def test_mp4_header_claiming_hours_is_not_believed_past_what_decodes(
        server: ServerProcess, bomb_dir: dict[str, Path], test_data: Path) -> None:
    assert _post(server, test_data / "jfk.m4a").status_code == 200  # the model loads first
    before = server.rss()
    server.reset_peak()
    resp = _post(server, bomb_dir["m4a-claims-hours"])
    # FFmpeg reads the real length from the sample tables: 11 s of Kennedy, not hours.
    assert resp.status_code == 200, resp.text
    assert resp.json()["duration"] == pytest.approx(11.0, abs=0.1)
    assert server.peak_rss() - before < 200 * MB


def test_wav_claiming_more_than_it_holds_says_truncated(server: ServerProcess,
                                                        test_data: Path,
                                                        tmp_path: Path) -> None:
    import soundfile as sf

    audio, rate = sf.read(test_data / "jfk.wav", dtype="int16")
    wav = tmp_path / "cut.wav"
    sf.write(wav, audio, rate, subtype="PCM_16")
    data = bytearray(wav.read_bytes())
    at = data.find(b"data")
    data[at + 4:at + 8] = (len(audio) * 2 * 3).to_bytes(4, "little")  # claims 3x
    wav.write_bytes(bytes(data))
    resp = _post(server, wav)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["truncated"] is True and body["duration"] == pytest.approx(11.0, abs=0.05)
    assert "fellow americans" in body["text"].lower()
    whole = _post(server, test_data / "jfk.wav").json()
    assert whole["truncated"] is False
