"""clip_grad_norm_ and clip_grad_value_ against torch.nn.utils on the same gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn


def _pair(scale):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) * scale for s in ((3, 4), (4,), (2, 2))]
    ours, theirs = [], []
    for g in grads:
        p = nn.Parameter(np.zeros(g.shape))
        p.grad = dn.tensor(g.copy())
        q = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        q.grad = torch.tensor(g.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_clip_grad_norm_matches_torch(norm_type, scale):
    ours, theirs = _pair(scale)
    total = nn.utils.clip_grad_norm_(ours, max_norm=1.5, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5, norm_type=norm_type)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_matches_torch():
    ours, theirs = _pair(3.0)
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())


def test_non_finite_norm_can_raise():
    ours, _ = _pair(1.0)
    ours[0].grad.data[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="clip_grad_norm_"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
