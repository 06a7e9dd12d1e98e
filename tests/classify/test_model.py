"""The CNN and its in-model ensembles."""

from __future__ import annotations

import pytest
import torch

from earful.classify.model import AudioCNN, ModelConfig
from earful.errors import InvalidOptionError


def test_ensemble_output_is_the_members_mean_probability() -> None:
    torch.manual_seed(0)
    model = AudioCNN(ModelConfig(n_classes=5, channels=4, members=3)).eval()
    x = torch.randn(6, 40, 101)
    members = torch.softmax(model.member_logits(x), dim=2)
    assert members.shape == (6, 3, 5)
    torch.testing.assert_close(torch.softmax(model(x), dim=1), members.mean(dim=1))
    # The members differ (separate initialisations), or averaging them would gain nothing.
    assert (members[:, 0] - members[:, 1]).abs().max() > 1e-3


def test_ensemble_members_share_no_weights() -> None:
    torch.manual_seed(0)
    model = AudioCNN(ModelConfig(n_classes=5, channels=4, members=2))
    model.member_logits(torch.randn(3, 40, 101))[:, 0].sum().backward()
    for name, p in model.named_parameters():
        if p.ndim < 2 or name.startswith(("norm", "features.0.")):
            continue  # the shared input scaling and the stem (one output channel each)
        g = p.grad.reshape(2, -1)  # type: ignore[union-attr]
        assert g[0].abs().sum() > 0 and g[1].abs().sum() == 0, name


def test_single_member_keeps_the_plain_layout() -> None:
    model = AudioCNN(ModelConfig(n_classes=5, channels=4))
    assert isinstance(model.head[1], torch.nn.Linear)
    x = torch.randn(2, 40, 101)
    torch.testing.assert_close(model.eval()(x), model.member_logits(x)[:, 0])


@pytest.mark.parametrize("members", [0, 9])
def test_member_count_is_validated(members: int) -> None:
    with pytest.raises(InvalidOptionError, match="members"):
        ModelConfig(n_classes=5, members=members)
