"""matmul (incl. batched and broadcast) and the fused linear op against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn.functional as F
from tests.helpers import check_against_torch

DTYPES = [np.float64, np.float32]
SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (2, 4, 5)),
          ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_against_torch(shapes, dtype, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    check_against_torch(lambda x, y: x @ y, lambda x, y: x @ y, [a, b], dtype)


@pytest.mark.parametrize("shapes", SHAPES[:6], ids=str)
def test_matmul_gradcheck(shapes, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    assert dn.gradcheck(dn.matmul, [a, b])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 5, 3), (3,)], ids=str)
def test_linear_against_torch(x_shape, dtype, rng):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((4, 3)), rng.standard_normal(4)
    check_against_torch(F.linear, TF.linear, [x, w, b], dtype)
    check_against_torch(lambda x, w: F.linear(x, w), lambda x, w: TF.linear(x, w), [x, w], dtype)


def test_linear_gradcheck(rng):
    args = [rng.standard_normal((2, 5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)]
    assert dn.gradcheck(F.linear, args)


def test_rmatmul_with_ndarray(rng):
    a = rng.standard_normal((2, 3))
    x = dn.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    out = a @ x
    assert isinstance(out, dn.Tensor) and out.shape == (2, 2)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a.T @ np.ones((2, 2)))


def test_matmul_errors_name_shapes():
    for m in (dn, torch):  # the same error type and message as PyTorch's
        with pytest.raises(RuntimeError, match="at least 1D, but they are 0D and 1D"):
            m.tensor(2.0) @ m.ones(2)
        with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 2x3\)"):
            m.ones(2, 3) @ m.ones(2, 3)
        with pytest.raises(RuntimeError):
            m.ones(2, 2, 3) @ m.ones(3, 3, 2)   # batch dims 2 and 3 do not broadcast


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(4, 3\)"):
        F.linear(dn.ones(2, 5), dn.ones(4, 3))


