"""cdist, cross, cummax/cummin, isin, kron, tensordot, searchsorted, heaviside and bucketize against
PyTorch: values and gradients in float64 and float32, finite differences, result dtypes and named
tuples, ties and NaN in the running extremes, and torch's errors."""

import math
import warnings

import numpy as np
import pytest

import deepnum as dn
from tests.helpers import check_op, raises_both, run_both


def _n(*shape):
    return lambda rng: rng.standard_normal(shape)


CASES = {
    "cdist": (lambda m, a, b: m.cdist(a, b), [_n(4, 3), _n(5, 3)]),
    "cdist_batched": (lambda m, a, b: m.cdist(a, b), [_n(2, 4, 3), _n(2, 5, 3)]),
    "cdist_many_rows": (lambda m, a, b: m.cdist(a, b), [_n(30, 3), _n(27, 3)]),
    "cdist_p1": (lambda m, a, b: m.cdist(a, b, p=1), [_n(4, 3), _n(5, 3)]),
    "cdist_p3": (lambda m, a, b: m.cdist(a, b, p=3), [_n(4, 3), _n(5, 3)]),
    "cdist_p_half": (lambda m, a, b: m.cdist(a, b, p=0.5), [_n(3, 2), _n(2, 2)]),
    "cdist_inf": (lambda m, a, b: m.cdist(a, b, p=math.inf), [_n(4, 3), _n(5, 3)]),
    "cross_dim": (lambda m, a, b: m.cross(a, b, dim=1), [_n(2, 3, 4), _n(2, 3, 4)]),
    "cross_method": (lambda m, a, b: a.cross(b, dim=-1), [_n(5, 3), _n(5, 3)]),
    "cross_broadcast": (lambda m, a, b: m.cross(a, b, dim=-1), [_n(2, 1, 3), _n(1, 4, 3)]),
    "cummax": (lambda m, a: m.cummax(a, 1).values, [_n(3, 5)]),
    "cummin_method": (lambda m, a: a.cummin(0)[0], [_n(4, 2)]),
    "kron": (lambda m, a, b: m.kron(a, b), [_n(2, 3), _n(3, 2)]),
    "kron_ranks": (lambda m, a, b: a.kron(b), [_n(2, 2, 2), _n(3)]),
    "tensordot_int": (lambda m, a, b: m.tensordot(a, b), [_n(2, 3, 4), _n(3, 4, 5)]),
    "tensordot_lists": (lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [0, 2])),
                        [_n(3, 4, 2), _n(4, 5, 3)]),
    "tensordot_zero": (lambda m, a, b: m.tensordot(a, b, dims=0), [_n(2, 3), _n(4)]),
    "tensordot_one": (lambda m, a, b: m.tensordot(a, b, dims=1), [_n(2, 3), _n(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch_and_finite_differences(name, rng):
    fn, makers = CASES[name]
    check_op(fn, [make(rng) for make in makers])


def test_cdist_at_zero_distance_and_dtypes(rng):
    a = rng.standard_normal((3, 2))

    def f(m, dtype):
        x = m.tensor(a, dtype=getattr(m, dtype), requires_grad=True)
        d = m.cdist(x, x)  # zero on the diagonal: its gradient there is 0
        d.sum().backward()
        return d, x.grad

    for dtype in ("float64", "float32"):
        run_both(lambda m, dtype=dtype: f(m, dtype))
    run_both(lambda m: m.cdist(m.tensor(a), m.tensor(a), p=0))


def test_cross_without_dim_warns_and_takes_the_first_dim_of_length_3(rng):
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        ours = dn.cross(dn.tensor(a), dn.tensor(b))
    np.testing.assert_allclose(ours.numpy(), np.cross(a, b, axis=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_both(lambda m: m.cross(m.tensor(a[:2].T.copy()), m.tensor(b[:2].T.copy())))


@pytest.mark.parametrize("fn", ["cummax", "cummin"])
def test_running_extremes_ties_nan_and_integers(fn):
    data = [[3.0, 1.0, 1.0, 4.0, 4.0, 0.0], [1.0, math.nan, 5.0, math.nan, 0.0, 2.0]]
    run_both(lambda m: getattr(m, fn)(m.tensor(data), 1))
    run_both(lambda m: getattr(m, fn)(m.tensor([[3, 1, 1, 2], [0, 0, 7, -1]]), 1))
    run_both(lambda m: getattr(m, fn)(m.tensor([[3, 1, 1, 2], [0, 0, 7, -1]]), dim=0))
    run_both(lambda m: getattr(m, fn)(m.tensor(2.5), 0))
    run_both(lambda m: getattr(m, fn)(m.zeros(0, 3), 0))

    def grads(m):  # ties: the gradient goes to the element the index names
        x = m.tensor([2.0, 2.0, 1.0, 3.0, 3.0], dtype=m.float64, requires_grad=True)
        r = getattr(m, fn)(x, 0)
        (r.values * m.arange(5.0, dtype=m.float64)).sum().backward()
        return r, x.grad

    run_both(grads)


def test_requires_grad_of_the_results(rng):
    a = rng.standard_normal((3, 3))

    def f(m):
        x = m.tensor(a, requires_grad=True)
        return (m.cdist(x, x, p=0), m.cdist(x, x), m.kron(x, x), m.tensordot(x, x, dims=([0], [0])),
                m.cummax(x, 0), m.cummin(x, 1), m.cross(x, x.flip(0), dim=0),
                m.heaviside(x, m.tensor(0.0, dtype=m.float64)), m.isin(x, x[0]),
                m.searchsorted(x[0].sort().values, x), m.bucketize(x, x[0].sort().values))

    run_both(f)


def test_isin():
    run_both(lambda m: m.isin(m.tensor([[1, 2], [3, 4]]), m.tensor([2, 3, 9])))
    run_both(lambda m: m.isin(m.tensor([1, 2, 3]), m.tensor([2]), invert=True))
    run_both(lambda m: m.isin(m.tensor([1.0, 2.5]), m.tensor([2.5, 7.0]), assume_unique=True))
    run_both(lambda m: m.isin(m.tensor([1, 2, 3]), 2))
    run_both(lambda m: m.isin(3, m.tensor([1, 3])))
    run_both(lambda m: m.isin(m.tensor([1.0, 2.0]), m.tensor([2])))


def test_searchsorted_and_bucketize(rng):
    seq = np.sort(rng.integers(0, 10, size=8)).astype(np.float64)
    values = rng.integers(-1, 11, size=(3, 4)).astype(np.float64)
    for kwargs in ({}, {"right": True}, {"side": "right"}, {"side": "left"},
                   {"out_int32": True}, {"right": False, "side": "right"}):
        run_both(lambda m, kw=kwargs: m.searchsorted(m.tensor(seq), m.tensor(values), **kw))
        run_both(lambda m, kw=kwargs: m.searchsorted(m.tensor(seq), 4.0, **kw))
    nd_seq = np.sort(rng.standard_normal((2, 3, 5)), axis=-1)
    nd_values = rng.standard_normal((2, 3, 4))
    run_both(lambda m: m.searchsorted(m.tensor(nd_seq), m.tensor(nd_values), right=True))
    order = rng.permutation(8)
    run_both(lambda m: m.searchsorted(m.tensor(seq[order]), m.tensor(values),
                                      sorter=m.tensor(np.argsort(seq[order]))))
    for kwargs in ({}, {"right": True}, {"out_int32": True}):
        run_both(lambda m, kw=kwargs: m.bucketize(m.tensor(values), m.tensor(seq), **kw))
        run_both(lambda m, kw=kwargs: m.bucketize(m.tensor([1, 5, 9]),
                                                  m.tensor([1, 3, 5, 7, 9]), **kw))


def test_heaviside():
    x = [[-1.5, 0.0, 2.0], [0.0, 3.0, -0.0]]
    run_both(lambda m: m.heaviside(m.tensor(x), m.tensor(0.5)))
    run_both(lambda m: m.tensor(x).heaviside(m.tensor([1.0, 2.0, 3.0])))
    run_both(lambda m: m.heaviside(m.tensor([1, 0, -2]), m.tensor(7)))
    run_both(lambda m: m.heaviside(m.tensor(x, dtype=m.float64, requires_grad=True),
                                   m.tensor(0.5, dtype=m.float64)))
    run_both(lambda m: m.heaviside(m.tensor(x), m.tensor(0.5, requires_grad=True)))


def test_mixed_dtypes_and_booleans():
    run_both(lambda m: (m.searchsorted(m.tensor([1.0, 2.0]), m.tensor([1])),
                        m.bucketize(m.tensor([1]), m.tensor([1.0, 2.0])),
                        m.searchsorted(m.tensor([1, 2]), 1.5)))
    run_both(lambda m: (m.cummax(m.tensor([True, False, True]), 0),
                        m.cummin(m.tensor([True, False, True]), 0)))
    run_both(lambda m: (m.kron(m.tensor([1, 2]), m.tensor([0.5, 1.0])),
                        m.tensordot(m.tensor([[1, 2]]), m.tensor([[1], [2]]), dims=1)))
    raises_both(lambda m: m.tensordot(m.tensor([[1, 2]]), m.tensor([[1.5], [2.0]]), dims=1),
                "same dtype")


@pytest.mark.parametrize("case, match", [
    (lambda m: m.cdist(m.ones(3, 2), m.ones(4, 3)), "same number of columns"),
    (lambda m: m.cdist(m.ones(3, 2), m.ones(4, 2), p=-1), "non-negative"),
    (lambda m: m.cdist(m.ones(3, 2), m.ones(4, 2, dtype=m.float64)), "expected scalar type"),
    (lambda m: m.cdist(m.ones(3, 2, dtype=m.int64), m.ones(4, 2, dtype=m.int64)),
     "floating-point"),
    (lambda m: m.cross(m.ones(3), m.ones(3, dtype=m.float64), dim=0), "expected scalar type"),
    (lambda m: m.cross(m.ones(3, 2), m.ones(3, 2), dim=1), "length 3"),
    (lambda m: m.cross(m.ones(2, 1, 3), m.ones(4, 3), dim=-1), "same number of dimensions"),
    (lambda m: m.tensordot(m.ones(2, 3), m.ones(4, 5), dims=1), "contracted dimensions"),
    (lambda m: m.tensordot(m.ones(2, 3), m.ones(3, 5), dims=([1], [0, 1])), None),
    (lambda m: m.searchsorted(m.tensor([1.0, 2.0]), m.tensor([1.0]), right=True, side="left"),
     "opposites"),
    (lambda m: m.searchsorted(m.ones(2, 3), m.ones(3, 1)), "boundaries tensor"),
    (lambda m: m.bucketize(m.ones(2), m.ones(2, 2)), "boundaries tensor must be 1 dimension"),
    (lambda m: m.heaviside(m.ones(2), m.tensor([1])), "different dtypes"),
    (lambda m: m.heaviside(m.ones(2, requires_grad=True), m.tensor(1.0)).sum().backward(),
     "derivative for aten::heaviside is not implemented"),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)
