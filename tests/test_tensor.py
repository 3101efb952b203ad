import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import check_against_torch

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "matmul_like"])
def test_binary_ops_broadcast_like_torch(op, dtype, rng):
    a, b = rng.standard_normal((3, 1, 4)), rng.standard_normal((2, 1))
    fns = {
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
        "div": lambda x, y: x / (y * y + 1), "pow": lambda x, y: (x * x + 1) ** y,
        "matmul_like": lambda x, y: (x * y).sum(-1),
    }
    check_against_torch(fns[op], fns[op], [a, b], dtype)


def test_default_dtypes():
    assert dn.tensor([1.0, 2.0]).dtype == np.float32
    assert dn.tensor(np.zeros(2)).dtype == np.float64
    assert dn.tensor([1, 2]).dtype == np.int64
    assert (dn.tensor([1.0]) * 2.5).dtype == np.float32  # a Python scalar never upcasts


def test_backward_on_non_scalar_needs_gradient():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar output.*shape \(2,\)"):
        (x * 2).backward()


def test_gradients_accumulate_and_shared_use():
    x = dn.tensor([3.0], requires_grad=True)
    (x * x + x).sum().backward()
    (x * x).sum().backward()
    assert x.grad.numpy().tolist() == [13.0]
    xt = torch.tensor([3.0], requires_grad=True)
    (xt * xt + xt).sum().backward()
    (xt * xt).sum().backward()
    assert xt.grad.item() == 13.0


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        dn.ones(2, 3) + dn.ones(4)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        dn.ones(2, 3) @ dn.ones(4, 5)


def test_no_grad_records_nothing():
    x = dn.tensor([1.0], requires_grad=True)
    with dn.no_grad():
        y = x * 2
    assert not y.requires_grad
    assert dn.is_grad_enabled()
