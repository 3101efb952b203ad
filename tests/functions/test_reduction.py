"""Reductions against PyTorch: sum/mean/prod (with zeros), max/min with and without dim (named
tuples, the gradient to one index), sort/topk/mode/median/kthvalue, cumsum/cumprod (with zeros),
logsumexp, norm (also at 0), dist, var/std with unbiased=/correction=, unique, bincount; values,
indices, dtypes and gradients, plus finite differences."""

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import check_op, raises_both, run_both

DTYPES = [np.float64, np.float32]


def _x(rng, shape=(3, 4, 5)):
    return rng.standard_normal(shape)


def _with_zeros(rng, shape=(3, 5)):
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    x[0, 1] = 0.0  # one zero in a row
    x[1, 0] = x[1, 3] = 0.0  # two zeros in a row
    return x


REDUCTIONS = {
    "sum": lambda m, x: x.sum(),
    "sum_dim": lambda m, x: m.sum(x, 1),
    "sum_dims_keepdim": lambda m, x: x.sum((0, 2), keepdim=True),
    "sum_negative_dim": lambda m, x: x.sum(dim=-1),
    "mean": lambda m, x: m.mean(x),
    "mean_dims": lambda m, x: x.mean((1, 2)),
    "prod": lambda m, x: m.prod(x[0, :2]),
    "prod_dim": lambda m, x: x.prod(1),
    "prod_dim_keepdim": lambda m, x: m.prod(x, -1, keepdim=True),
    "amax": lambda m, x: x.amax(1),
    "amin_dims": lambda m, x: m.amin(x, (0, 2)),
    "max_dim_values": lambda m, x: x.max(1).values,
    "max_dim_keepdim": lambda m, x: m.max(x, 2, keepdim=True)[0],
    "min_dim_values": lambda m, x: x.min(dim=0).values,
    "max_all": lambda m, x: m.max(x),
    "min_all": lambda m, x: x.min(),
    "max_binary": lambda m, x: m.max(x, x.flip(0)),
    "logsumexp": lambda m, x: m.logsumexp(x, 1),
    "logsumexp_keepdim": lambda m, x: x.logsumexp(-1, keepdim=True),
    "logsumexp_dims": lambda m, x: m.logsumexp(x, (0, 2)),
    "norm": lambda m, x: x.norm(),
    "norm_dim": lambda m, x: x.norm(2, dim=1),
    "norm_1": lambda m, x: m.norm(x, 1),
    "norm_3_dim": lambda m, x: x.norm(3, dim=-1, keepdim=True),
    "norm_inf": lambda m, x: x.norm(float("inf"), dim=2),
    "norm_fro": lambda m, x: m.norm(x, "fro"),
    "dist": lambda m, x: m.dist(x, x.flip(1)),
    "dist_1": lambda m, x: x.dist(x * 2, p=1),
    "var": lambda m, x: x.var(),
    "var_dim": lambda m, x: m.var(x, 1),
    "var_biased": lambda m, x: x.var(1, unbiased=False),
    "var_correction": lambda m, x: m.var(x, (0, 2), correction=2, keepdim=True),
    "std": lambda m, x: x.std(),
    "std_dim_unbiased": lambda m, x: m.std(x, 0, unbiased=True),
    "std_biased_keepdim": lambda m, x: x.std(-1, unbiased=False, keepdim=True),
    "std_mean": lambda m, x: m.std_mean(x, 1)[0] + m.std_mean(x, 1)[1],
    "var_mean": lambda m, x: m.var_mean(x, 1)[0] * m.var_mean(x, 1)[1],
    "cumsum": lambda m, x: x.cumsum(1),
    "cumsum_last": lambda m, x: m.cumsum(x, -1),
    "cumprod": lambda m, x: x.cumprod(2),
    "softmax": lambda m, x: m.softmax(x, 0),
    "sort_values": lambda m, x: x.sort(1).values,
    "sort_descending": lambda m, x: m.sort(x, -1, descending=True)[0],
    "topk": lambda m, x: x.topk(2, dim=1).values,
    "topk_smallest": lambda m, x: m.topk(x, 3, largest=False)[0],
    "kthvalue": lambda m, x: x.kthvalue(2, 1).values,
    "median_dim": lambda m, x: x.median(1).values,
    "median_all": lambda m, x: m.median(x),
    "msort": lambda m, x: m.msort(x),
}

ZEROS = {
    "prod": lambda m, x: x.prod(),
    "prod_dim": lambda m, x: x.prod(1),
    "prod_dim0": lambda m, x: m.prod(x, 0),
    "cumprod": lambda m, x: x.cumprod(1),
    "cumprod_dim0": lambda m, x: m.cumprod(x, 0),
    "cumsum": lambda m, x: x.cumsum(1),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_against_torch_and_finite_differences(name, rng):
    check_op(REDUCTIONS[name], [_x(rng)])


@pytest.mark.parametrize("name", sorted(ZEROS))
def test_products_with_zeros_against_torch(name, rng):
    """prod and cumprod with zeros: the gradient is the product of the others (not 0/0)."""
    check_op(ZEROS[name], [_with_zeros(rng)])


def test_prod_with_zeros_double_backward():
    def f(m):
        x = m.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.5, 2.0, -1.0]], requires_grad=True)
        (g,) = m.autograd.grad(x.prod(1).sum(), x, create_graph=True)
        (g * g).sum().backward()
        return g, x.grad

    run_both(f)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_min_dim_return_named_tuples_and_the_gradient_goes_to_one_index(dtype):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0]], dtype=dtype)

    def f(m, which):
        t = m.tensor(x, requires_grad=True)
        result = getattr(t, which)(1)
        values, indices = result
        (values * m.tensor([1.0, 2.0, 3.0], dtype=t.dtype)).sum().backward()
        return result, result.values, result.indices, values, indices, t.grad

    for which in ("max", "min"):
        run_both(lambda m, which=which: f(m, which))


def test_max_without_dim_is_a_tensor_and_ties_share_the_gradient():
    def f(m):
        t = m.tensor([[1.0, 3.0], [3.0, 2.0]], requires_grad=True)
        y = m.max(t)
        y.backward()
        return y, t.grad, m.min(t), t.amax(), t.amin(0)

    run_both(f)


def test_argmax_argmin(rng):
    x = rng.standard_normal((3, 4))
    run_both(lambda m: (m.tensor(x).argmax(), m.tensor(x).argmax(1),
                        m.argmin(m.tensor(x), 0, keepdim=True), m.tensor(x).argmin(dim=-1),
                        m.tensor([[1.0, 1.0], [0.0, 0.0]]).argmax(1)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_order_statistics_return_values_and_indices_like_torch(dtype):
    x = np.array([[3.0, 1.0, 2.0, 1.0], [2.0, 2.0, 5.0, 0.0], [4.0, -1.0, 4.0, 7.0]], dtype=dtype)

    def f(m):
        t = m.tensor(x, requires_grad=True)
        distinct = t * 1 + m.arange(12, dtype=t.dtype).reshape(3, 4) * 0.01
        results = [t.sort(1), m.sort(t, 0, descending=True), distinct.topk(2),
                   m.topk(distinct, 3, 0), distinct.topk(2, largest=False, sorted=True),
                   t.kthvalue(3, 1), m.kthvalue(t, 1, 0, keepdim=True),
                   t.median(1), t.median(0, keepdim=True), t.mode(1), m.mode(t, 0)]
        total = sum((r.values * (i + 1)).sum() for i, r in enumerate(results))
        total.backward()
        return results, t.median(), t.argsort(1), t.grad

    run_both(f)


def test_topk_among_ties_takes_the_first_occurrences():
    """A deliberate difference: torch's indices among equal values depend on its selection
    algorithm (unspecified); deepnum's are the first occurrences, in order. Values agree."""
    x = [[2.0, 2.0, 5.0, 0.0], [4.0, -1.0, 4.0, 7.0], [1.0, 1.0, 1.0, 1.0]]
    run_both(lambda m: m.tensor(x).topk(2).values)
    run_both(lambda m: m.tensor(x).topk(3, largest=False).values)
    assert dn.tensor(x).topk(2).indices.tolist() == [[2, 0], [3, 0], [0, 1]]


def test_sort_stable_keeps_the_order_of_ties():
    x = [2.0, 1.0, 2.0, 1.0, 2.0, 0.0]
    run_both(lambda m: (m.sort(m.tensor(x), stable=True), m.tensor(x).argsort(stable=True),
                        m.sort(m.tensor(x), descending=True, stable=True)))


def test_reductions_of_integers_and_bools_like_torch():
    run_both(lambda m: (m.tensor([1, 2, 3]).sum(), m.tensor([True, True, False]).sum(),
                        m.tensor([[1, 2], [3, 4]], dtype=m.int32).sum(0),
                        m.tensor([2, 3]).prod(), m.tensor([1, 2, 3]).cumsum(0),
                        m.tensor([1, 2], dtype=m.int8).cumsum(0),
                        m.tensor([1, 2, 3]).max(), m.tensor([1, 5, 3]).max(0),
                        m.tensor([True, False]).min(), m.tensor([True, False]).max(),
                        m.tensor([[True, False], [True, True]]).min(1),
                        m.tensor([True, False]).any(), m.tensor([True, False]).all(),
                        m.tensor([[1, 0], [1, 1]]).all(1), m.tensor([0, 2, 0]).count_nonzero(),
                        m.tensor([1.0, 2.0]).sum(dtype=m.float64),
                        m.tensor([1, 2]).sum(dtype=m.float32)))


def test_reductions_of_zero_dimensional_tensors():
    """sum(0), mean(0), max(0), squeeze(0) ... accept dim 0 (or -1) on a 0-d tensor."""
    def f(m):
        x = m.tensor(3.0, requires_grad=True)
        results = [x.sum(0), x.sum(-1), x.sum(0, keepdim=True), x.mean(0), x.prod(0),
                   x.squeeze(0), x.squeeze(), x.unsqueeze(0), x.max(), x.max(0), x.min(0),
                   x.cumsum(0), x.logsumexp(0), x.norm(), x.argmax(), x.argmax(0),
                   x.softmax(0), x.sort(), x.topk(1)]
        sum(r.sum() if not isinstance(r, tuple) else r[0].sum() for r in results).backward()
        return results, x.grad

    run_both(f)


def test_norm_at_zero_has_zero_gradient():
    def f(m):
        x = m.zeros(2, 3, requires_grad=True)
        y = x.norm() + x.norm(dim=1).sum() + m.dist(x, m.zeros(2, 3))
        y.backward()
        return y, x.grad

    run_both(f)


def test_norm_2_double_backward():
    def f(m):
        x = m.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
        (g,) = m.autograd.grad(x.norm(dim=1).sum(), x, create_graph=True)
        (g * m.tensor([[1.0, 2.0], [3.0, -1.0]])).sum().backward()
        return g, x.grad

    run_both(f)


def test_norm_2_at_zero_double_backward_is_zero_where_torch_gives_nan():
    """A deliberate difference: the second derivative of |x| at x = 0 does not exist; torch's
    double backward returns nan there, deepnum 0 (the first derivative is 0 in both)."""
    for m in (torch, dn):
        x = m.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
        (g,) = m.autograd.grad(x.norm(dim=1).sum(), x, create_graph=True)
        g.pow(2).sum().backward()
        assert g[0].tolist() == [0.0, 0.0]
        zero_row = x.grad[0].tolist()
        assert all(v != v for v in zero_row) if m is torch else zero_row == [0.0, 0.0]


def test_var_std_of_one_element_and_integer_errors():
    run_both(lambda m: (m.tensor([2.0]).var(unbiased=False), m.tensor([[1.0, 2.0]]).std(1),
                        m.tensor([2.0, 4.0]).var(False)))


def test_logsumexp_with_infinities():
    def f(m):
        x = m.tensor([[-float("inf"), 0.0], [-float("inf"), -float("inf")], [1000.0, 1000.0]],
                     requires_grad=True)
        y = x.logsumexp(1)
        y[0].backward()
        return y, x.grad

    run_both(f)


def test_unique_and_bincount():
    run_both(lambda m: (m.unique(m.tensor([3, 1, 2, 3, 1])),
                        m.tensor([3, 1, 2, 3, 1]).unique(return_counts=True),
                        m.unique(m.tensor([3, 1, 2, 3]), return_inverse=True),
                        m.unique(m.tensor([[3, 1], [2, 3]]), return_inverse=True,
                                 return_counts=True),
                        m.unique(m.tensor([1.5, 0.5, 1.5])),
                        m.bincount(m.tensor([0, 1, 1, 3])),
                        m.tensor([1, 1]).bincount(minlength=4),
                        m.bincount(m.tensor([0, 2, 2]), weights=m.tensor([0.5, 1.0, 2.0]))))


@pytest.mark.parametrize("case, match", [
    (lambda m: m.tensor([1, 2]).mean(), "mean"),
    (lambda m: m.ones(2, 3).sum(2), "Dimension out of range"),
    (lambda m: m.ones(2, 3).max(3), "Dimension out of range"),
    (lambda m: m.ones(2, 3).topk(4), "out of range"),
    (lambda m: m.tensor([1, 2]).norm(), None),
    (lambda m: m.zeros(0).max(), "numel"),
    (lambda m: m.ones(2, 3).softmax(2), "Dimension out of range"),
    (lambda m: m.tensor([-1, 2]).bincount(), "non-negative"),
    (lambda m: m.tensor([1.0]).bincount(), None),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)


def test_nan_is_the_largest_value_in_orderings_and_propagates_through_median():
    x = [[1.0, float("nan"), 3.0, float("nan")], [2.0, 0.0, -1.0, 5.0], [4.0, 1.0, 2.0, 3.0]]

    def f(m):
        t = m.tensor(x, requires_grad=True)
        results = [t.max(), t.max(1), t.amax(1), t.min(1), t.sort(1), t.sort(1, descending=True),
                   t.topk(2), t.median(1), t.nanmedian(1), t.median(), m.nanmedian(t)]
        (results[4].values.nan_to_num().sum() + results[5].values.nan_to_num().sum() * 2
         + results[8].values.sum() * 3).backward()
        return results, t.argmax(1), t.argsort(1, descending=True), t.grad

    run_both(f)
    run_both(lambda m: m.tensor([float("inf"), float("nan"), 1.0, -float("inf")])
             .sort(descending=True))
