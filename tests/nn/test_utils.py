"""Regularisation penalties (consistent with weight_decay) and gradient clipping (torch's)."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum.nn.utils import clip_grad_norm_, clip_grad_value_, l1_penalty, l2_penalty


def test_penalties_values_and_gradients(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal(4)
    ps = [nn.Parameter(a.copy()), nn.Parameter(b.copy())]
    np.testing.assert_allclose(l2_penalty(ps).item(), ((a**2).sum() + (b**2).sum()) / 2)
    np.testing.assert_allclose(l1_penalty(ps).item(), np.abs(a).sum() + np.abs(b).sum())
    (l2_penalty(ps) + l1_penalty(ps[0])).backward()
    np.testing.assert_allclose(ps[0].grad.numpy(), a + np.sign(a))
    np.testing.assert_allclose(ps[1].grad.numpy(), b)
    assert dn.gradcheck(lambda x, y: l2_penalty([x, y]) * 0.3 + l1_penalty([x, y]), [a, b])
    with pytest.raises(ValueError, match="no parameters"):
        l2_penalty([])


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_l2_penalty_equals_weight_decay(optimizer, rng):
    """lam * l2_penalty(params) and weight_decay=lam give the same updates (both add lam * w)."""
    x, y = dn.tensor(rng.standard_normal((16, 3))), dn.tensor(rng.standard_normal((16, 1)))
    lam = 0.1
    dn.manual_seed(1)
    a = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Tanh(),
                      nn.Linear(4, 1, dtype=np.float64))
    b = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Tanh(),
                      nn.Linear(4, 1, dtype=np.float64))
    b.load_state_dict(a.state_dict())
    # per group: only the first layer gets the explicit penalty, the second none (and no decay)
    opt_b = getattr(dn.optim, optimizer)(b.parameters(), lr=0.05)
    opt_a = getattr(dn.optim, optimizer)([{"params": a[0].parameters(), "weight_decay": lam},
                                          {"params": a[2].parameters(), "weight_decay": 0.0}],
                                         lr=0.05)
    for _ in range(10):
        opt_a.zero_grad(), opt_b.zero_grad()
        F.mse_loss(a(x), y).backward()
        (F.mse_loss(b(x), y) + lam * l2_penalty(b[0].parameters())).backward()
        opt_a.step(), opt_b.step()
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def _grads(rng, scale=1.0):
    arrays = [rng.standard_normal((3, 4)) * scale, rng.standard_normal(5) * scale]
    ours = [nn.Parameter(np.zeros_like(g)) for g in arrays]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in arrays]
    for p, q, g in zip(ours, theirs, arrays):
        p.grad, q.grad = dn.tensor(g.copy()), torch.tensor(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, rng):
    ours, theirs = _grads(rng)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_errors(rng):
    ours, theirs = _grads(rng, scale=2.0)
    clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    ours[0].grad.data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm .* got -1"):
        clip_grad_norm_(ours, -1)
