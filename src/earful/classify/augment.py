"""On-the-fly augmentation on cached mel power, in torch.

Each transform acts on a batch of mel power (B, M, T) or log-mel and is seeded through
the generator it is given, so a training run is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from earful.errors import InvalidOptionError


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations to apply and how strongly. Stored in every checkpoint."""

    time_shift_frames: int = 10
    """Shift each clip by up to this many frames either way (10 = 100 ms), zero-filled."""
    noise_prob: float = 0.8
    """Probability of mixing background noise into a clip."""
    snr_low: float = 0.0
    """Lowest SNR of the mixed noise, dB."""
    snr_high: float = 20.0
    """Highest SNR of the mixed noise, dB."""
    freq_masks: int = 2
    """SpecAugment frequency masks per clip."""
    freq_mask_width: int = 6
    """Widest frequency mask, in mel bands."""
    time_masks: int = 2
    """SpecAugment time masks per clip."""
    time_mask_width: int = 12
    """Widest time mask, in frames."""
    mixup_alpha: float = 0.0
    """Beta(alpha, alpha) mixup of clips and labels; 0 disables it."""
    speed: float = 0.15
    """Speed perturbation: stretch time by a random factor in [1 - speed, 1 + speed]."""
    vtlp: float = 0.1
    """Vocal-tract-length perturbation: scale the mel axis by a factor in
    [1 - vtlp, 1 + vtlp], a cheap stand-in for a speaker with a shorter or longer tract."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for out-of-range values."""
        if not 0.0 <= self.noise_prob <= 1.0:
            raise InvalidOptionError("noise_prob must be in [0, 1]")
        if self.snr_low > self.snr_high:
            raise InvalidOptionError("snr_low must not exceed snr_high")
        if min(self.time_shift_frames, self.freq_masks, self.freq_mask_width, self.time_masks,
               self.time_mask_width) < 0 or self.mixup_alpha < 0:
            raise InvalidOptionError("augmentation sizes must be >= 0")
        if not (0.0 <= self.speed < 0.5 and 0.0 <= self.vtlp < 0.5):
            raise InvalidOptionError("speed and vtlp must be in [0, 0.5)")


def time_shift(power: torch.Tensor, max_frames: int, gen: torch.Generator) -> torch.Tensor:
    """Shift each clip in time by a random number of frames, filling with zeros."""
    if max_frames == 0:
        return power
    out = torch.zeros_like(power)
    shifts = torch.randint(-max_frames, max_frames + 1, (power.shape[0],), generator=gen)
    t = power.shape[-1]
    for i, s in enumerate(shifts.tolist()):
        if s >= 0:
            out[i, :, s:] = power[i, :, : t - s]
        else:
            out[i, :, :s] = power[i, :, -s:]
    return out


def warp(power: torch.Tensor, speed: float, vtlp: float, gen: torch.Generator,
         ) -> torch.Tensor:
    """Stretch each clip in time about its centre and its mel axis about 0 Hz, at random.

    One bilinear resampling (``grid_sample``) does both. Frames read from beyond the clip
    repeat its edge frames (background), so a slowed-down word is never cut by a zero band.
    """
    if speed == 0 and vtlp == 0:
        return power
    from torch.nn import functional

    b = power.shape[0]
    t_scale = 1 + speed * (2 * torch.rand(b, generator=gen) - 1)
    f_scale = 1 + vtlp * (2 * torch.rand(b, generator=gen) - 1)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = t_scale  # x: time, stretched about the centre
    theta[:, 1, 1] = f_scale  # y: mel bands, stretched about the lowest band (y = -1)
    theta[:, 1, 2] = f_scale - 1
    grid = functional.affine_grid(theta, [b, 1, *power.shape[1:]], align_corners=True)
    out = functional.grid_sample(power.unsqueeze(1), grid, mode="bilinear",
                                 padding_mode="border", align_corners=True)
    return out.squeeze(1)


def mix_noise(power: torch.Tensor, noise: torch.Tensor, cfg: AugmentConfig,
              gen: torch.Generator) -> torch.Tensor:
    """Add noise mel power at a random SNR to a random subset of clips.

    Powers add for uncorrelated signals, so scaling a noise clip's power by
    ``E_signal / (E_noise * 10^(snr/10))`` sets the SNR of the mixture.
    """
    if noise.shape[0] == 0 or cfg.noise_prob == 0:
        return power
    b = power.shape[0]
    pick = torch.randint(0, noise.shape[0], (b,), generator=gen)
    snr = cfg.snr_low + (cfg.snr_high - cfg.snr_low) * torch.rand(b, generator=gen)
    use = torch.rand(b, generator=gen) < cfg.noise_prob
    n = noise[pick]
    e_sig = power.sum(dim=(1, 2)).clamp_min(1e-10)
    e_noise = n.sum(dim=(1, 2)).clamp_min(1e-10)
    gain = e_sig / (e_noise * 10 ** (snr / 10)) * use
    return power + gain[:, None, None] * n


def spec_augment(logmel: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator,
                 ) -> torch.Tensor:
    """Mask random bands and frame ranges (SpecAugment), per clip.

    Masks are filled with the clip's mean log energy, not zero: on log-mel input zero means
    power 1.0, a loud stripe rather than an absence.
    """
    b, m, t = logmel.shape
    mask = torch.zeros(b, m, t, dtype=torch.bool)
    for count, width, size, axis in ((cfg.freq_masks, cfg.freq_mask_width, m, 1),
                                     (cfg.time_masks, cfg.time_mask_width, t, 2)):
        pos = torch.arange(size)
        for _ in range(count):
            w = torch.randint(0, width + 1, (b,), generator=gen)
            start = (torch.rand(b, generator=gen) * (size - w).clamp_min(1)).long()
            band = (pos >= start[:, None]) & (pos < (start + w)[:, None])  # (b, size)
            mask |= band[:, :, None] if axis == 1 else band[:, None, :]
    fill = logmel.mean(dim=(1, 2), keepdim=True).expand_as(logmel)
    return torch.where(mask, fill, logmel)


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float, gen: torch.Generator,
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend pairs of clips and their one-hot labels with a Beta(alpha, alpha) weight."""
    if alpha <= 0:
        return x, y
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    perm = torch.randperm(x.shape[0], generator=gen)
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]
