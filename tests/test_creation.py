"""Factories against PyTorch: tensor/as_tensor/from_numpy (dtypes of every kind of data), zeros/
ones/empty/full/eye/arange/linspace/logspace, the *_like and new_* families, random factories
(shapes, dtypes, ranges; the streams are deepnum's own), requires_grad= and sizes, and errors."""

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import raises_both, run_both


def test_tensor_from_every_kind_of_data():
    run_both(lambda m: (m.tensor(3), m.tensor(3.5), m.tensor(True), m.tensor([]),
                        m.tensor([[1, 2]], dtype=m.float64), m.tensor(np.float32(2)),
                        m.tensor(np.int32(2)), m.tensor(np.float64(2.5)), m.tensor([1, 2.5]),
                        m.tensor([True, 2]), m.tensor(np.array([1, 2], dtype=np.int32)),
                        m.tensor(np.array([1.5], dtype=np.float16)), m.tensor([[1.0], [2.0]]),
                        m.tensor([m.tensor(1.0), m.tensor(2.0)]), m.tensor(m.ones(2)),
                        m.tensor((1, 2)), m.tensor([1, 2], dtype=m.bool),
                        m.tensor(2.7, dtype=m.int64), m.tensor([1.0], requires_grad=True)))


def test_as_tensor_and_from_numpy_share_memory():
    def f(m):
        a = np.zeros(3)
        t, u = m.from_numpy(a), m.as_tensor(a)
        a[0] = 5.0
        copy = m.tensor(a)
        a[1] = 6.0
        same = m.as_tensor(t)
        return t, u, copy, same is t, m.as_tensor([1, 2]), m.as_tensor(a, dtype=m.float32), \
            m.from_numpy(np.ones(2, dtype=np.int16))

    run_both(f)


def test_filled_factories():
    run_both(lambda m: (m.zeros(2, 3), m.zeros((2, 3)), m.zeros([2]), m.ones(()), m.zeros(0),
                        m.zeros(2, 3, dtype=m.int32), m.ones(2, dtype=m.bool), m.empty(2, 3).shape,
                        m.empty((1,)).dtype, m.eye(3), m.eye(2, 3, dtype=m.int64),
                        m.full((2,), True), m.full((2,), 7), m.full([2], 1.5),
                        m.full((2, 2), 3, dtype=m.float64), m.zeros(m.Size([2, 1])),
                        m.ones(2, requires_grad=True), m.zeros(size=(2,)).shape))


def test_ranges():
    run_both(lambda m: (m.arange(5), m.arange(1, 2.5, 0.5), m.arange(0, 1, 0.1),
                        m.arange(5, dtype=m.float64), m.arange(m.tensor(3)), m.arange(-3, 3, 2),
                        m.arange(5, 0, -1), m.arange(0.0, 1.0, 0.25, dtype=m.float64),
                        m.linspace(0, 1, 5), m.linspace(-1, 1, steps=4, dtype=m.float64),
                        m.linspace(0, 10, 3, dtype=m.int64), m.linspace(0, 1, 1),
                        m.logspace(0, 2, 3), m.logspace(0, 3, 4, base=2.0),
                        m.arange(3, requires_grad=False).requires_grad))


def test_like_and_new_families():
    run_both(lambda m: (m.zeros_like(m.ones(2, dtype=m.int32)), m.ones_like(m.ones(2, 3)),
                        m.full_like(m.ones(2, dtype=m.int64), 7), m.full_like(m.ones(2), 7),
                        m.full_like(m.ones(2, dtype=m.int64), 2.7), m.empty_like(m.ones(3)).shape,
                        m.zeros_like(m.ones(2), dtype=m.float64),
                        m.ones_like(m.ones(2), requires_grad=True),
                        m.ones(2, dtype=m.float64).new_zeros(3),
                        m.ones(2, dtype=m.int32).new_ones((2, 2)), m.ones(2).new_full((2,), 3),
                        m.ones(2, dtype=m.float64).new_tensor([1, 2]),
                        m.ones(2, dtype=m.int64).new_tensor([1.5]),
                        m.ones(1, dtype=m.float64).new_zeros(2, dtype=m.int8),
                        m.ones(1).new_ones(2, 3).shape, m.ones(1).new_empty(2).shape,
                        m.ones(1).new_zeros((2, 2), requires_grad=True)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_random_factories_shapes_dtypes_and_ranges(dtype):
    def f(m):
        d = getattr(m, dtype)
        r, n = m.rand(2000, dtype=d), m.randn(2000, dtype=d)
        return (r.shape, r.dtype, n.dtype, m.randn(2, 3, dtype=d).shape,
                m.randn((2, 3), dtype=d).shape, bool(((r >= 0) & (r < 1)).all()),
                abs(float(n.mean())) < 0.1, abs(float(n.std()) - 1) < 0.1,
                m.randn_like(m.ones(2, 2, dtype=d)).dtype, m.rand_like(m.ones(3, dtype=d)).shape,
                m.randn(3, requires_grad=True, dtype=d).requires_grad)

    run_both(f)


def test_integer_random_factories():
    def f(m):
        a = m.randint(3, 5, (1000,))
        p = m.randperm(10)
        return (m.randint(0, 10, (3,)).dtype, m.randint(10, (2, 2)).shape,
                m.randint(3, 10, (5,)).shape, m.randint(0, 2, (3,), dtype=m.float32).dtype,
                bool(((a >= 3) & (a < 5)).all()), set(a.tolist()) == {3, 4}, p.dtype,
                sorted(p.tolist()) == list(range(10)), m.randint_like(m.ones(3), 5).dtype,
                m.randint_like(m.ones(3), 5).shape, m.randperm(4, dtype=m.int32).dtype,
                m.multinomial(m.tensor([0.0, 1.0, 0.0]), 2, replacement=True),
                m.bernoulli(m.tensor([0.0, 1.0])), m.normal(m.zeros(3), 1.0).shape,
                m.normal(0.0, 1.0, (2, 2)).shape)

    run_both(f)


def test_manual_seed_repeats_the_stream_and_generators_are_separate():
    """The streams themselves are deepnum's (NumPy's PCG64), not torch's: a deliberate
    difference. The seeding behaviour is torch's."""
    for m in (torch, dn):
        m.manual_seed(7)
        a = m.randn(5)
        m.manual_seed(7)
        assert m.equal(a, m.randn(5))
        g = m.Generator().manual_seed(3)
        b = m.rand(3, generator=g)
        m.manual_seed(7)
        m.randn(5)
        g.manual_seed(3)
        assert m.equal(b, m.rand(3, generator=g))
        assert m.initial_seed() == 7
    assert isinstance(dn.get_rng_state(), dict)  # torch: a uint8 tensor


@pytest.mark.parametrize("case, match", [
    (lambda m: m.tensor([[1, 2], [3]]), None),
    (lambda m: m.tensor("abc"), None),
    (lambda m: m.randn(2, dtype=m.int64), None),
    (lambda m: m.zeros(-1), None),
    (lambda m: m.ones(2, 3).new_tensor([1, 2]).requires_grad_().add_(1),
     "leaf Variable that requires grad"),
    (lambda m: m.from_numpy([1, 2]), "expected np.ndarray"),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)
