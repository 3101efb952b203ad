"""Reductions and softmax against PyTorch, with finite-difference checks."""

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import assert_close, check_against_torch

DTYPES = [np.float64, np.float32]

CASES = {
    "sum": (lambda x: x.sum(), lambda x: x.sum()),
    "sum_dim": (lambda x: x.sum(1), lambda x: x.sum(1)),
    "sum_dims_keep": (lambda x: x.sum((0, 2), keepdim=True), lambda x: x.sum((0, 2), keepdim=True)),
    "sum_axis_kw": (lambda x: x.sum(axis=-1, keepdims=True), lambda x: x.sum(-1, keepdim=True)),
    "mean": (lambda x: x.mean(), lambda x: x.mean()),
    "mean_dim": (lambda x: x.mean(-1), lambda x: x.mean(-1)),
    "mean_keep": (lambda x: x.mean(0, keepdim=True), lambda x: x.mean(0, keepdim=True)),
    "max": (lambda x: x.max(), lambda x: x.amax()),
    "max_dim": (lambda x: x.max(1).values, lambda x: x.max(1).values),
    "max_keep": (lambda x: x.max(2, keepdim=True)[0], lambda x: x.max(2, keepdim=True)[0]),
    "min_dim": (lambda x: x.min(0).values, lambda x: x.min(0).values),
    "amax_dim": (lambda x: x.amax(1), lambda x: x.amax(1)),
    "amin_dims": (lambda x: x.amin((0, 2)), lambda x: x.amin((0, 2))),
    "var": (lambda x: x.var(), lambda x: x.var()),
    "var_dim": (lambda x: x.var(1), lambda x: x.var(1)),
    "var_biased_keep": (lambda x: x.var((1, 2), keepdim=True, correction=0),
                        lambda x: x.var((1, 2), keepdim=True, correction=0)),
    "std_dim": (lambda x: x.std(-1), lambda x: x.std(-1)),
    "softmax": (lambda x: x.softmax(1), lambda x: x.softmax(1)),
    "softmax_last": (lambda x: x.softmax(-1), lambda x: x.softmax(-1)),
    "log_softmax": (lambda x: x.log_softmax(1), lambda x: x.log_softmax(1)),
    "log_softmax_first": (lambda x: x.log_softmax(0), lambda x: x.log_softmax(0)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_reduction_against_torch(name, dtype, rng):
    check_against_torch(*CASES[name], [rng.standard_normal((2, 3, 4))], dtype)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reduction_gradcheck(name, rng):
    assert dn.gradcheck(CASES[name][0], [dn.tensor(rng.standard_normal((2, 3, 2)))])


def test_max_ties_share_gradient_like_amax_and_max_dim_gives_it_to_one_index():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    check_against_torch(lambda t: t.amax(1), lambda t: t.amax(1), [x])
    check_against_torch(lambda t: t.max(), lambda t: t.max(), [x])
    check_against_torch(lambda t: t.max(1).values, lambda t: t.max(1).values, [x])
    values, indices = dn.tensor(x).max(1)
    assert indices.tolist() == torch.tensor(x).max(1).indices.tolist() == [1, 0]


def test_reduction_of_zero_dim_tensor():
    x = dn.tensor(np.float64(2.0), requires_grad=True)
    (x.sum() * 3).backward()
    assert x.grad.item() == 3.0


def test_argmax_and_bad_dim():
    x = dn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    assert x.argmax(1).tolist() == [1, 0]
    assert x.argmin(dim=0).tolist() == [0, 1, 1]
    with pytest.raises(IndexError, match="Dimension out of range .* but got 3"):
        x.sum(3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extreme_inputs(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        for ours, theirs in ((lambda t: t.softmax(1), lambda t: t.softmax(1)),
                             (lambda t: t.log_softmax(1), lambda t: t.log_softmax(1))):
            out = check_against_torch(ours, theirs, [z], dtype)
            assert np.isfinite(out.numpy()).all()
    assert_close(dn.tensor(z).softmax(1).sum(1), torch.ones(2, dtype=torch.float64), dtype)
