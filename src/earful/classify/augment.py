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
    out = logmel.clone()
    b, m, t = out.shape
    means = out.mean(dim=(1, 2))
    for i in range(b):
        fill = float(means[i])
        for _ in range(cfg.freq_masks):
            w = int(torch.randint(0, cfg.freq_mask_width + 1, (1,), generator=gen))
            f0 = int(torch.randint(0, max(1, m - w), (1,), generator=gen))
            out[i, f0:f0 + w, :] = fill
        for _ in range(cfg.time_masks):
            w = int(torch.randint(0, cfg.time_mask_width + 1, (1,), generator=gen))
            t0 = int(torch.randint(0, max(1, t - w), (1,), generator=gen))
            out[i, :, t0:t0 + w] = fill
    return out


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float, gen: torch.Generator,
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend pairs of clips and their one-hot labels with a Beta(alpha, alpha) weight."""
    if alpha <= 0:
        return x, y
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    perm = torch.randperm(x.shape[0], generator=gen)
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]
