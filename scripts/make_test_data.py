"""Rebuild tests/data from the shared data sets (EARFUL_DATA) with earful's own encoder.

Run: EARFUL_DATA=../shared/data .venv/bin/python scripts/make_test_data.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from earful.audio.io import decode, encode_audio
from earful.config import get_settings
from earful.fsutil import atomic_write

OUT = Path(__file__).resolve().parents[1] / "tests" / "data"
#: Read sentences copied from the shared read_speech set: name here -> file there.
READ_CLIPS = {"printer": "LJ001-0152.flac", "prison": "LJ003-0072.flac"}


def main() -> None:
    data = get_settings().data
    if data is None:
        raise SystemExit("set EARFUL_DATA to the shared data folder")
    OUT.mkdir(parents=True, exist_ok=True)
    jfk = decode(data / "speech" / "jfk.flac", 16000).samples
    for fmt in ("wav", "flac", "mp3", "ogg", "opus", "m4a", "webm"):
        with atomic_write(OUT / f"jfk.{fmt}", "wb") as fh:
            fh.write(encode_audio(jfk, 16000, fmt))
    # A short stereo 44.1 kHz excerpt keeps the multi-channel, high-rate path under test.
    stereo = decode(data / "speech" / "jfk.flac", None)
    import soundfile as sf

    raw, rate = sf.read(data / "speech" / "jfk.flac", dtype="float32", always_2d=True)
    assert stereo.source_channels == raw.shape[1]
    sf.write(OUT / "jfk_stereo_44k.flac", raw[: int(2.5 * rate)], rate, subtype="PCM_16")
    shutil.copy(data / "speech" / "jfk.txt", OUT / "jfk.txt")
    # Two more read sentences, different words from JFK's: long-audio tests lay clips end to
    # end, and the same sentence repeated inside one 30 s window looks to Whisper's
    # compression-ratio check like a repetition loop (it fails the check and is re-decoded
    # at random temperatures).
    read = data / "speech" / "read_speech"
    texts = dict(line.split("\t", 1) for line in
                 (read / "transcripts.tsv").read_text().splitlines()[1:])
    for name, clip in READ_CLIPS.items():
        shutil.copy(read / clip, OUT / f"{name}.flac")
        (OUT / f"{name}.txt").write_text(texts[clip].strip() + "\n")
    shutil.copy(data / "speech_commands" / "yes" / sorted(
        p.name for p in (data / "speech_commands" / "yes").glob("*.wav"))[0], OUT / "yes.wav")
    shutil.copy(data / "fsdd" / "recordings" / "7_theo_0.wav", OUT / "digit_7.wav")
    noise = sorted((data / "speech_commands" / "_silence_").glob("*.wav"))[0]
    shutil.copy(noise, OUT / "background_noise.wav")
    print("wrote", sorted(p.name for p in OUT.iterdir()), np.round(len(jfk) / 16000, 2), "s")


if __name__ == "__main__":
    main()
