"""Augmentations do what they say, deterministically."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from earful.audio.transforms import white_noise
from earful.classify import augment as aug
from earful.classify.features import FeatureConfig, clip_power
from tests.classify.conftest import tone_clip


def test_mix_noise_hits_the_requested_snr() -> None:
    cfg = FeatureConfig()
    speech = torch.from_numpy(np.stack([clip_power(tone_clip(500, i), cfg) for i in range(8)]))
    noise = torch.from_numpy(np.stack([clip_power(white_noise(16000, i), cfg)
                                       for i in range(3)]))
    acfg = aug.AugmentConfig(noise_prob=1.0, snr_low=5.0, snr_high=5.0)
    mixed = aug.mix_noise(speech, noise, acfg, torch.Generator().manual_seed(0))
    added = (mixed - speech).sum(dim=(1, 2))
    snr = 10 * torch.log10(speech.sum(dim=(1, 2)) / added)
    assert torch.allclose(snr, torch.full_like(snr, 5.0), atol=1e-3)


def test_spec_augment_fills_with_clip_mean_and_is_seeded() -> None:
    x = torch.randn(4, 40, 101) - 5.0
    cfg = aug.AugmentConfig(freq_masks=1, freq_mask_width=10, time_masks=0)
    a = aug.spec_augment(x, cfg, torch.Generator().manual_seed(1))
    b = aug.spec_augment(x, cfg, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    changed = (a != x)
    assert changed.any() and not (a == 0).any()
    for i in range(4):
        if changed[i].any():
            assert torch.allclose(a[i][changed[i]], x[i].mean().expand(int(changed[i].sum())))


def test_time_shift_zero_fills() -> None:
    x = torch.ones(2, 3, 20)
    out = aug.time_shift(x, 5, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and (out.sum(dim=(1, 2)) >= 3 * 15).all()


def test_mixup_keeps_label_mass() -> None:
    x, y = torch.randn(6, 4, 5), torch.eye(3)[torch.tensor([0, 1, 2, 0, 1, 2])]
    _, my = aug.mixup(x, y, 0.4, torch.Generator().manual_seed(0))
    assert torch.allclose(my.sum(dim=1), torch.ones(6))


def test_bad_config() -> None:
    with pytest.raises(ValueError):
        aug.AugmentConfig(snr_low=10, snr_high=0)
