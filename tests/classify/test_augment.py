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


def test_spec_augment_masks_whole_bands() -> None:
    x = torch.randn(8, 40, 101)
    cfg = aug.AugmentConfig(freq_masks=2, freq_mask_width=8, time_masks=0)
    changed = aug.spec_augment(x, cfg, torch.Generator().manual_seed(2)) != x
    rows = changed.any(dim=2)
    assert rows.any()
    assert torch.equal(changed, rows[:, :, None].expand_as(changed))  # every frame of a band
    assert int(rows.sum(dim=1).max()) <= 16


def _centroid(p: torch.Tensor, dim: int) -> torch.Tensor:
    idx = torch.arange(p.shape[dim], dtype=p.dtype)
    shape = [1, 1, 1]
    shape[dim] = -1
    return (p * idx.view(shape)).sum(dim=(1, 2)) / p.sum(dim=(1, 2))


def test_warp_moves_bands_and_stretches_time_within_bounds() -> None:
    power = torch.zeros(64, 40, 101)
    power[:, 20, 40:61] = 1.0  # one band, 21 frames centred on frame 50
    out = aug.warp(power, 0.2, 0.1, torch.Generator().manual_seed(0))
    band = _centroid(out, 1)
    # The mel axis is scaled about band 0 by f in [0.9, 1.1]: band 20 lands at 20 / f.
    # (bilinear sampling of a one-band line blurs it by up to half a band)
    assert (band > 20 / 1.1 - 0.5).all() and (band < 20 / 0.9 + 0.5).all()
    assert band.std() > 0.3
    # Time is stretched about the centre: the burst stays centred, its length is 21 / t.
    assert torch.allclose(_centroid(out, 2), torch.full((64,), 50.0), atol=0.05)
    length = (out.sum(dim=1) > 0.5).sum(dim=1).float()
    assert (length >= 21 / 1.2 - 1).all() and (length <= 21 / 0.8 + 1).all()
    assert length.std() > 1.0
    again = aug.warp(power, 0.2, 0.1, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert aug.warp(power, 0.0, 0.0, torch.Generator()) is power


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
    with pytest.raises(ValueError):
        aug.AugmentConfig(speed=0.6)
