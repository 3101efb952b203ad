"""Indexing against PyTorch: x[i] (basic, advanced, boolean, with tensors), x[i] = v (also with
gradients), gather, scatter/scatter_add, index_select, index_add/index_fill, masked_fill,
masked_select, take_along_dim, nonzero/where; values, gradients (repeated indices accumulate),
finite differences, and the errors torch raises."""

import numpy as np
import pytest

from tests.helpers import check_op, raises_both, run_both

INDEX = np.array([[0, 2, 1, 2], [1, 1, 0, 0], [2, 0, 2, 1]])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False,
                                                                           False]])


def _x(rng, shape=(3, 4)):
    return rng.standard_normal(shape)


INDEXING = {
    "int": lambda m, x: x[1],
    "negative": lambda m, x: x[-1, -2],
    "slice": lambda m, x: x[:, 1:3],
    "step": lambda m, x: x[::2, 1::2],
    "none_ellipsis": lambda m, x: x[None, ..., 1],
    "list": lambda m, x: x[[0, 2, 0]],
    "repeated_tensor": lambda m, x: x[m.tensor([2, 2, 0])],
    "two_tensors": lambda m, x: x[m.tensor([0, 1, 1]), m.tensor([3, 0, 0])],
    "tensor_and_slice": lambda m, x: x[m.tensor([1, 1]), 1:],
    "bool_mask": lambda m, x: x[m.tensor(MASK)],
    "bool_rows": lambda m, x: x[m.tensor([True, False, True])],
    "comparison_mask": lambda m, x: x[x > 0],
    "gather": lambda m, x: x.gather(1, m.tensor(INDEX)),
    "gather_dim0": lambda m, x: m.gather(x, 0, m.tensor(INDEX[:2])),
    "gather_fewer": lambda m, x: x.gather(1, m.tensor(INDEX[:, :2])),
    "take_along_dim": lambda m, x: m.take_along_dim(x, m.tensor(INDEX), 1),
    "index_select": lambda m, x: x.index_select(1, m.tensor([3, 0, 3])),
    "index_select_function": lambda m, x: m.index_select(x, 0, m.tensor([2, 0])),
    "masked_fill": lambda m, x: x.masked_fill(m.tensor(MASK), -1.5),
    "masked_fill_broadcast": lambda m, x: m.masked_fill(x, m.tensor([True, False, True, False]),
                                                        2.0),
    "masked_fill_tensor_value": lambda m, x: x.masked_fill(m.tensor(MASK), m.tensor(3.0)),
    "masked_select": lambda m, x: x.masked_select(m.tensor(MASK)),
    "where_mask": lambda m, x: m.where(m.tensor(MASK), x, -x),
    "scatter": lambda m, x: m.zeros(3, 5, dtype=x.dtype).scatter(1, m.tensor([[4, 1, 2, 0]] * 3),
                                                                 x),
    "scatter_value": lambda m, x: x.scatter(1, m.tensor(INDEX[:, :1]), 9.0),
    "scatter_into_input": lambda m, x: x.scatter(0, m.tensor([[1, 2, 0, 1]]), x[:1] * 3),
    "scatter_add": lambda m, x: m.zeros(3, 3, dtype=x.dtype).scatter_add(1, m.tensor(INDEX), x),
    "scatter_add_into_input": lambda m, x: m.scatter_add(x, 1, m.tensor(INDEX), x * 2),
    "index_add": lambda m, x: m.zeros(4, 4, dtype=x.dtype).index_add(0, m.tensor([1, 3, 1]), x),
    "index_fill": lambda m, x: x.index_fill(1, m.tensor([0, 2]), -2.0),
}


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing_against_torch_and_finite_differences(name, rng):
    check_op(INDEXING[name], [_x(rng)])


def test_setitem_with_gradients_to_both_sides():
    def f(m):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        v = m.tensor([10.0, 20.0], requires_grad=True)
        y = x * 1
        y[:, 1] = v
        y[0, 0] = 7.0
        y[y > 5] = y[y > 5] * 2
        (y * m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        return y, x.grad, v.grad

    run_both(f)


def test_setitem_without_gradients_and_broadcasting():
    def f(m):
        x = m.zeros(3, 4)
        x[0] = 1
        x[1, 1:3] = m.tensor([2.0, 3.0])
        x[:, -1] = m.tensor([4.0, 5.0, 6.0])
        x[m.tensor([True, False, True]), 0] = 7
        x[m.tensor([0, 2]), m.tensor([1, 2])] = m.tensor([8.0, 9.0])
        x[x == 0] = -1
        x[..., 0] += 1
        i = m.zeros(2, dtype=m.int64)
        i[1] = 2.9  # a float into an int tensor truncates
        return x, i

    run_both(f)


def test_index_with_integer_tensors_of_every_kind():
    run_both(lambda m: (m.arange(5)[m.tensor(2)], m.arange(5)[m.tensor([1, 3], dtype=m.int32)],
                        m.arange(6).reshape(2, 3)[m.tensor([[0, 1], [1, 0]])],
                        m.arange(5)[m.tensor([True, False, True, False, True])],
                        m.arange(5)[[True, False, True, False, True]],
                        m.arange(4)[m.tensor(1):],
                        m.arange(6).reshape(2, 3)[:, m.tensor([2, 0])]))


def test_nonzero_where_argwhere():
    x = [[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]
    run_both(lambda m: (m.tensor(x).nonzero(), m.nonzero(m.tensor(x), as_tuple=True),
                        m.where(m.tensor(x) != 0), m.argwhere(m.tensor(x)),
                        m.nonzero(m.tensor([0, 0])), m.tensor([[False]]).nonzero()))


def test_gather_and_scatter_add_with_repeated_indices_accumulate_gradients():
    def f(m):
        x = m.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        y = x.gather(1, m.tensor([[0, 0, 2, 0]]))
        z = m.zeros(1, 2).scatter_add(1, m.tensor([[1, 1, 1]]), x)
        (y.sum() + (z * m.tensor([[3.0, 5.0]])).sum() + x[0, [1, 1, 1]].sum()).backward()
        return y, z, x.grad

    run_both(f)


def test_gather_double_backward():
    def f(m):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        (g,) = m.autograd.grad((x.gather(1, m.tensor([[0, 0], [2, 1]])) ** 2).sum(), x,
                               create_graph=True)
        (g * x).sum().backward()
        return g, x.grad

    run_both(f)


def test_integer_and_bool_tensors_index_and_gather():
    run_both(lambda m: (m.tensor([[1, 2], [3, 4]]).gather(1, m.tensor([[1], [0]])),
                        m.tensor([[True, False]]).index_select(1, m.tensor([1, 1, 0])),
                        m.tensor([1, 2, 3]).masked_fill(m.tensor([True, False, True]), 0),
                        m.zeros(3, dtype=m.int64).scatter_add(0, m.tensor([0, 0, 2]),
                                                              m.tensor([1, 2, 3]))))


@pytest.mark.parametrize("case, match", [
    (lambda m: m.ones(3)[3], "out of bounds|out of range"),
    (lambda m: m.ones(3)[m.tensor([0.0])], "tensors used as indices must be long"),
    (lambda m: m.ones(2, 3)[0, 0, 0], "too many indices"),
    (lambda m: m.ones(2, 3).gather(1, m.tensor([[0.0]])), "int64"),
    (lambda m: m.ones(2, 3).gather(1, m.tensor([0])), "same number of dimensions"),
    (lambda m: m.ones(2, 3).gather(1, m.tensor([[3]])), "out of bounds"),
    (lambda m: m.ones(2, 3).index_select(0, m.tensor([[0]])), None),
    (lambda m: m.ones(2, 3).masked_fill(m.tensor([1, 0, 1]), 0.0), "boolean"),
    (lambda m: m.ones(2, 3).masked_fill(m.ones(3, dtype=m.bool), m.ones(2)), "0-dim"),
    (lambda m: m.ones(2, 3).scatter(1, m.tensor([[5]]), 1.0), "out of bounds"),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)


@pytest.mark.parametrize("name", ["scatter", "scatter_into_input", "scatter_add",
                                  "scatter_add_into_input", "index_add", "masked_fill"])
def test_scatter_family_double_backward(name, rng):
    x = _x(rng)

    def f(m):
        t = m.tensor(x, requires_grad=True)
        (g,) = m.autograd.grad((INDEXING[name](m, t) ** 2).sum(), t, create_graph=True)
        (g * t).sum().backward()
        return g, t.grad

    run_both(f)


def test_scatter_with_reduce_multiply_has_no_derivative_as_in_torch():
    def f(m):
        x = m.ones(2, 3, requires_grad=True)
        y = x.scatter(1, m.tensor([[0, 0], [1, 2]]), m.full((2, 3), 2.0), reduce="multiply")
        y.sum().backward()

    raises_both(f, "derivative")
