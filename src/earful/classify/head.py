"""A small classifier head over frozen encoder frames (``encoder.py``).

Frames (B, T, D) are averaged in pairs (Whisper's 50 frames per second are strongly
correlated, and halving them halves the cost), normalised, projected, passed through a
depthwise 1-D convolution over time (so each frame is seen with its neighbours), pooled by
mean and standard deviation over time and mapped to classes. Pooling makes the head
indifferent to where in the clip the word falls; the convolution lets it see a word's shape
rather than only its average. About 60k parameters on Whisper tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from earful.errors import InvalidOptionError


@dataclass(frozen=True)
class HeadConfig:
    """Architecture of :class:`EncoderHead`. Stored in every checkpoint."""

    n_classes: int
    """Output classes."""
    dim: int
    """Width of the encoder frames (384 for Whisper tiny, 512 for base)."""
    hidden: int = 128
    """Width after projection."""
    kernel: int = 5
    """Frames the time convolution spans (25 per second after pairing)."""
    dropout: float = 0.3
    """Dropout on the input frames and before the classifier."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for out-of-range values."""
        if self.n_classes < 2 or self.dim < 1 or self.hidden < 1:
            raise InvalidOptionError("need n_classes >= 2, dim >= 1, hidden >= 1")
        if self.kernel < 1 or self.kernel % 2 == 0:
            raise InvalidOptionError("kernel must be odd and >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise InvalidOptionError("dropout must be in [0, 1)")


class EncoderHead(nn.Module):
    """Encoder frames (B, T, D) -> class logits (B, n_classes)."""

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.norm = nn.LayerNorm(cfg.dim)
        self.drop_in = nn.Dropout(cfg.dropout)
        self.proj = nn.Linear(cfg.dim, cfg.hidden)
        self.conv = nn.Conv1d(cfg.hidden, cfg.hidden, cfg.kernel, padding=cfg.kernel // 2,
                              groups=cfg.hidden)
        self.act = nn.GELU()
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(2 * cfg.hidden, cfg.n_classes)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Class logits."""
        if frames.shape[1] > 1:
            frames = nn.functional.avg_pool1d(frames.transpose(1, 2), 2, ceil_mode=True
                                              ).transpose(1, 2)
        h = self.act(self.proj(self.drop_in(self.norm(frames))))  # (B, T/2, H)
        h = h + self.act(self.conv(h.transpose(1, 2))).transpose(1, 2)
        pooled = torch.cat([h.mean(dim=1), h.std(dim=1, unbiased=False)], dim=1)
        return self.out(self.drop(pooled))
