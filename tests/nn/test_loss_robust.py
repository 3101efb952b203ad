"""Huber and smooth L1 losses against PyTorch, including errors right at the threshold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import check_against_torch


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 5)) * 2
    t = rng.standard_normal((6, 5))
    t[0, :3] = x[0, :3] - np.array([1.0, -1.0, 0.5])   # errors exactly at delta = beta = 1 and 0.5
    return [x, t]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("width", [1.0, 0.5, 2.5])
def test_huber_matches_torch(dtype, reduction, width):
    check_against_torch(lambda a, b: F.huber_loss(a, b, reduction, delta=width),
                        lambda a, b: torch.nn.functional.huber_loss(a, b, reduction=reduction,
                                                                    delta=width),
                        _inputs(), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("width", [1.0, 0.5, 0.0])
def test_smooth_l1_matches_torch(dtype, reduction, width):
    check_against_torch(lambda a, b: F.smooth_l1_loss(a, b, reduction, beta=width),
                        lambda a, b: torch.nn.functional.smooth_l1_loss(a, b, reduction=reduction,
                                                                        beta=width),
                        _inputs(1), dtype)


def test_layers_and_lecture_example():
    out = nn.HuberLoss()(dn.tensor([0.5, 3.0]), dn.tensor([0.0, 0.0]))
    assert abs(out.item() - 1.3125) < 1e-7
    assert nn.SmoothL1Loss(beta=2.0)(dn.tensor([3.0]), dn.tensor([0.0])).item() == 2.0
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(reduction='mean', delta=2.0)"


def test_errors():
    with pytest.raises(ValueError, match="HuberLoss: delta"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match="SmoothL1Loss: reduction"):
        nn.SmoothL1Loss(reduction="avg")
    with pytest.raises(dn.ShapeError, match="huber_loss"):
        F.huber_loss(dn.zeros(3), dn.zeros(3, 1))
