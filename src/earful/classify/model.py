"""A compact log-mel CNN for keyword spotting and sound classification."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from earful.errors import InvalidOptionError


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of :class:`AudioCNN`. Stored in every checkpoint."""

    n_classes: int
    """Output classes."""
    n_mels: int = 40
    """Input mel bands."""
    channels: int = 16
    """Channels of the first block; each further block doubles them."""
    depth: int = 3
    """Blocks (after a strided stem) of two 3x3 convolutions and 2x2 max pooling."""
    dropout: float = 0.2
    """Dropout before the classifier."""
    members: int = 1
    """Independent networks of this shape inside one model (grouped convolutions); their
    probabilities are averaged. Each member adds the compute of one network
    (``benchmarks/kws_recipes.py`` compares ensembles with wider single networks)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for out-of-range values."""
        if self.n_classes < 2 or self.channels < 1 or not 1 <= self.depth <= 6:
            raise InvalidOptionError("need n_classes >= 2, channels >= 1, depth in 1..6")
        if not 0.0 <= self.dropout < 1.0:
            raise InvalidOptionError("dropout must be in [0, 1)")
        if not 1 <= self.members <= 8:
            raise InvalidOptionError("members must be in 1..8")


def _conv(cin: int, cout: int, groups: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False, groups=groups),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class AudioCNN(nn.Module):
    """Log-mel (B, M, T) -> class logits (B, C).

    An input BatchNorm learns the feature scaling (so no statistics need storing beside the
    weights), then VGG-style blocks, global average pooling over frequency and time (so any
    clip length works), dropout and a linear classifier. With ``members > 1`` every layer
    after the stem is grouped, so the members never see each other's channels: they are
    separate networks computed in one pass.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.norm = nn.BatchNorm2d(1)
        # A strided stem halves both axes before the blocks: a quarter of the compute for
        # little accuracy, which matters when training on two CPU cores.
        m = cfg.members
        blocks: list[nn.Module] = [nn.Conv2d(1, cfg.channels * m, 3, stride=2, padding=1,
                                             bias=False), nn.BatchNorm2d(cfg.channels * m),
                                   nn.ReLU(inplace=True)]
        cin = cfg.channels
        for i in range(cfg.depth):
            cout = cfg.channels * 2**i
            blocks += [_conv(cin * m, cout * m, m), _conv(cout * m, cout * m, m),
                       nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*blocks)
        # One member keeps a Linear head, so checkpoints from before ensembles still load.
        classifier = (nn.Linear(cin, cfg.n_classes) if m == 1 else
                      nn.Conv1d(cin * m, cfg.n_classes * m, 1, groups=m))
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), classifier)

    def member_logits(self, logmel: torch.Tensor) -> torch.Tensor:
        """Each member's logits, shape (B, members, C); what training optimises."""
        x = self.norm(logmel.unsqueeze(1))
        x = self.features(x).mean(dim=(2, 3))
        if self.cfg.members == 1:
            single: torch.Tensor = self.head(x)
            return single.unsqueeze(1)
        out: torch.Tensor = self.head(x.unsqueeze(2))
        return out.view(len(x), self.cfg.members, self.cfg.n_classes)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of log-mel spectrograms.

        For an ensemble, the log of the members' mean probability, so that a softmax of the
        output is the ensemble's probability.
        """
        logits = self.member_logits(logmel)
        if self.cfg.members == 1:
            return logits[:, 0]
        return torch.logsumexp(torch.log_softmax(logits, dim=2), dim=1) - math.log(
            self.cfg.members)
