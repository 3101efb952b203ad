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


def test_shape_mismatch_names_both_shapes_as_a_runtime_error_like_torch():
    for m in (dn, torch):
        with pytest.raises(RuntimeError, match=r"size of tensor a .*must match the size of "
                                               r"tensor b"):
            m.ones(2, 3) + m.ones(4)
        with pytest.raises(RuntimeError, match=r"2x3 and 4x5"):
            m.ones(2, 3) @ m.ones(4, 5)


def test_no_grad_records_nothing():
    x = dn.tensor([1.0], requires_grad=True)
    with dn.no_grad():
        y = x * 2
    assert not y.requires_grad
    assert dn.is_grad_enabled()


def test_properties_and_conversions():
    x = dn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.dtype == np.float64 and x.ndim == 2 and x.numel() == 6
    assert x.T.shape == (3, 2) and x.T.numpy().tolist() == np.arange(6.0).reshape(2, 3).T.tolist()
    assert isinstance(x.numpy(), np.ndarray) and x.sum().item() == 15.0
    for m in (dn, torch):
        with pytest.raises(RuntimeError, match="a Tensor with 6 elements cannot be converted"):
            m.ones(2, 3).item()
        with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
            m.tensor([1, 2], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.numpy() is x.numpy() and d.is_leaf


def test_deep_chain_needs_no_recursion():
    x = dn.tensor([1.0], dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(5000):  # far deeper than Python's recursion limit
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**5000], rtol=1e-9)


def test_backward_with_explicit_gradient_and_errors():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.backward(dn.tensor([1.0, -1.0]), retain_graph=True)
    assert x.grad.tolist() == [3.0, -3.0]
    y.backward(np.array([1.0, 1.0]))  # the graph was retained once
    assert x.grad.tolist() == [6.0, 0.0]
    with pytest.raises(RuntimeError, match="second time"):
        y.backward(np.array([1.0, 1.0]))
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output has a shape of "
                                           r"\(3,\) and output has a shape of \(2,\)"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        dn.tensor([1.0]).sum().backward()


def test_retain_grad_and_leaf_grads_are_not_aliased():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.retain_grad() is None and y.retains_grad  # as in PyTorch
    z = y + x
    z.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0] and x.grad.tolist() == [3.0, 3.0]
    y.grad.data[0] = 100.0
    assert x.grad.tolist() == [3.0, 3.0]


def test_detach_and_no_grad_cut_the_graph():
    x = dn.tensor([2.0], requires_grad=True)
    y = x * x.detach()  # only the first factor carries the gradient
    y.sum().backward()
    assert x.grad.tolist() == [2.0]
    with dn.no_grad():
        assert not (x * 3).requires_grad
        with dn.enable_grad():
            assert (x * 3).requires_grad
    assert dn.is_grad_enabled()


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_minus_and_operator_mix(dtype, rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    check_against_torch(lambda x, y: -(x @ y) ** 2 / 3 - 1 + (x.T * y).sum(),
                        lambda x, y: -(x @ y) ** 2 / 3 - 1 + (x.T * y).sum(), [a, b], dtype)
