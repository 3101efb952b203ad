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


def test_non_finite_norm_can_raise_with_torchs_message():
    ours, theirs = _pair(1.0)
    ours[0].grad.data[0, 0] = np.nan
    theirs[0].grad[0, 0] = np.nan
    with pytest.raises(RuntimeError) as expected:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as got:
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert str(got.value) == str(expected.value)
    total = nn.utils.clip_grad_norm_(ours, 1.0)  # without the flag: scaled by nan, as torch
    assert np.isnan(total.item()) and np.isnan(ours[1].grad.numpy()).all()


@pytest.mark.parametrize("dtypes", [(np.float32,), (np.float32, np.float64),
                                    (np.float64, np.float32)], ids=str)
@pytest.mark.parametrize("foreach", [None, True, False])
def test_norm_dtype_and_foreach_match_torch(dtypes, foreach):
    rng = np.random.default_rng(1)
    ours, theirs = [], []
    for i, dtype in enumerate(dtypes * 2):
        g = (rng.standard_normal((3, i + 1)) * 5).astype(dtype)
        p, q = nn.Parameter(np.zeros_like(g)), torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype,
                                                             requires_grad=True)
        p.grad, q.grad = dn.tensor(g.copy()), torch.tensor(g.copy())
        ours.append(p)
        theirs.append(q)
    total = nn.utils.clip_grad_norm_(iter(ours), 2.0, foreach=foreach)
    ref = torch.nn.utils.clip_grad_norm_(iter(theirs), 2.0, foreach=foreach)
    assert total.dtype.name == str(ref.dtype).replace("torch.", "")
    rtol = 1e-6 if np.float32 in dtypes else 1e-12
    np.testing.assert_allclose(total.item(), ref.item(), rtol=rtol)
    for p, q in zip(ours, theirs):
        assert p.grad.dtype.name == str(q.grad.dtype).replace("torch.", "")
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol)
    norm = nn.utils.get_total_norm([p.grad for p in ours], norm_type=1.0)
    ref = torch.nn.utils.get_total_norm([q.grad for q in theirs], norm_type=1.0)
    np.testing.assert_allclose(norm.item(), ref.item(), rtol=rtol)


def test_empty_parameters_and_a_single_tensor():
    assert nn.utils.clip_grad_norm_([], 1.0).item() == torch.nn.utils.clip_grad_norm_([], 1.0)
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    ours, theirs = _pair(10.0)
    total = nn.utils.clip_grad_norm_(ours[0], 1.0)  # a tensor, not a list
    ref = torch.nn.utils.clip_grad_norm_(theirs[0], 1.0)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-12)
    assert nn.utils.clip_grad_value_(ours, 1.0) is None


def test_parameters_to_vector_and_back_match_torch():
    ours = nn.Sequential(nn.Linear(3, 2, dtype=np.float64), nn.Linear(2, 1, dtype=np.float64))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    vec = nn.utils.parameters_to_vector(ours.parameters())
    ref = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vec.numpy(), ref.detach().numpy())
    (vec * dn.arange(vec.shape[0], dtype=dn.float64)).sum().backward()  # differentiable
    np.testing.assert_array_equal(ours[0].weight.grad.numpy().reshape(-1), np.arange(6.0))
    new = dn.arange(11, dtype=dn.float64)
    nn.utils.vector_to_parameters(new, ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(11.0, dtype=torch.float64),
                                        theirs.parameters())
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.detach().numpy())
    new.array[0] = 100.0  # the parameters now share the vector's memory, as torch's
    assert ours[0].weight.numpy()[0, 0] == 100.0
    with pytest.raises(TypeError, match="expected deepnum.Tensor, but got: numpy.ndarray"):
        nn.utils.vector_to_parameters(np.zeros(11), ours.parameters())
