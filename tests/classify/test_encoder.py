"""The frozen Whisper encoder front end and the head trained on it, with the bundled tiny.en."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from earful.audio.io import load_audio
from earful.classify.data import Example
from earful.classify.encoder import (
    CopyAugment,
    EncoderConfig,
    encode_clips,
    encode_examples,
    perturb,
)
from earful.classify.head import EncoderHead, HeadConfig
from earful.classify.head_train import _time_mask
from earful.errors import InvalidOptionError


def test_encoder_config_validates() -> None:
    assert EncoderConfig(clip_seconds=1.0).mel_frames == 100
    assert EncoderConfig(clip_seconds=0.75).mel_frames == 74  # even, for the stride-2 conv
    with pytest.raises(InvalidOptionError):
        EncoderConfig(clip_seconds=31)
    with pytest.raises(InvalidOptionError):
        EncoderConfig(model="")
    with pytest.raises(InvalidOptionError):
        CopyAugment(speed=0.6)
    with pytest.raises(InvalidOptionError):
        HeadConfig(n_classes=3, dim=384, kernel=4)


def test_encoder_frames_of_real_speech(test_data: Path) -> None:
    cfg = EncoderConfig()
    yes = load_audio(test_data / "yes.wav")
    clips = np.stack([np.resize(yes, cfg.samples), np.zeros(cfg.samples, np.float32)])
    frames = encode_clips(clips, cfg)
    assert frames.shape == (2, 50, 384) and np.isfinite(frames).all()
    # Speech and silence give different frames; the same clip twice gives the same frames.
    assert not np.allclose(frames[0], frames[1], atol=1e-2)
    np.testing.assert_allclose(encode_clips(clips[:1], cfg)[0], frames[0], atol=1e-4)


def test_perturbed_copies_are_reproducible_and_differ(test_data: Path) -> None:
    cfg = EncoderConfig()
    yes = load_audio(test_data / "yes.wav")
    noise = [load_audio(test_data / "background_noise.wav")]
    a = perturb(yes, cfg, np.random.default_rng(1), noise, CopyAugment())
    b = perturb(yes, cfg, np.random.default_rng(1), noise, CopyAugment())
    c = perturb(yes, cfg, np.random.default_rng(2), noise, CopyAugment())
    assert a.shape == (cfg.samples,) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_encoded_examples_are_cached_per_copy(test_data: Path, tmp_path: Path) -> None:
    cfg = EncoderConfig()
    ex = [Example(test_data / "yes.wav", "yes", "train")]
    noise = [Example(test_data / "background_noise.wav", "_silence_", "train")]
    plain = encode_examples(ex, cfg, tmp_path, progress=False)
    copy = encode_examples(ex, cfg, tmp_path, copy_seed=3, noise=noise, progress=False)
    assert len(list(tmp_path.glob("encoder-*.npy"))) == 2
    assert not np.allclose(plain, copy)
    np.testing.assert_array_equal(encode_examples(ex, cfg, tmp_path, progress=False), plain)


def test_head_shapes_and_time_mask() -> None:
    head = EncoderHead(HeadConfig(n_classes=4, dim=384))
    assert head(torch.randn(3, 50, 384)).shape == (3, 4)
    assert head(torch.randn(2, 1, 384)).shape == (2, 4)  # a single frame still pools
    x = torch.ones(64, 50, 8)
    masked = _time_mask(x, torch.Generator().manual_seed(0))
    zeros = (masked[:, :, 0] == 0).sum(dim=1)
    assert zeros.max() <= 8 and zeros.sum() > 0
    assert torch.equal(masked[:, :, 0] == 0, masked[:, :, 7] == 0)  # whole frames masked
