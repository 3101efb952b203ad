"""The speed wing's transposed convolution against the reference op (to rounding) and its kernel
path against its NumPy path (bit for bit); the fused ops' double backward against PyTorch."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum import fast, jit
from tests.helpers import assert_close, copy_module_weights, kernels_on
from tests.ops.test_conv_transpose import CASES, _data


@pytest.fixture(autouse=True)
def _kernels_from_batch_one(monkeypatch):
    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 1)


def _run(mode, arrays, options, layout="batch-first"):
    """Output and every gradient of conv_transpose2d in ``mode`` (see kernels_on)."""
    x, w, b = arrays
    if layout == "batch-last":  # as a convolution, norm or activation hands it on
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    tensors = [dn.Tensor._wrap(a.copy(order="K")) for a in (x, w, b)]
    for t in tensors:
        t.requires_grad = True
    with kernels_on(mode):
        out = F.conv_transpose2d(*tensors, **options)
        upstream = np.random.default_rng(3).standard_normal(out.shape).astype(out.dtype)
        (out * dn.tensor(upstream)).sum().backward()
    return [out.numpy().copy()] + [t.grad.numpy().copy() for t in tensors]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_speed_wing_equals_the_reference_to_rounding(case, dtype, rng):
    arrays = [a.astype(dtype) for a in _data(case, rng)]
    reference = _run("reference", arrays, case[2])
    tolerance = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5,
                                                                               atol=1e-5)
    for mode in (False, True) if jit.available() else (False,):
        for name, a, b in zip(("output", "input grad", "weight grad", "bias grad"),
                              _run(mode, arrays, case[2]), reference):
            assert a.dtype == dtype, name
            np.testing.assert_allclose(a, b, err_msg=f"{mode}: {name}", **tolerance)


@pytest.mark.parametrize("layout", ["batch-first", "batch-last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_kernels_equal_numpy_path_bit_for_bit(case, dtype, layout, rng):
    """The compiled col2im adds the taps in the NumPy path's order and the backward's column
    blocks hold the same numbers as the NumPy path's columns: identical results."""
    if not jit.available():
        pytest.skip("Numba is not installed")
    arrays = [a.astype(dtype) for a in _data(case, rng)]
    kernel_path, numpy_path = (_run(mode, arrays, case[2], layout) for mode in (True, False))
    for name, a, b in zip(("output", "input grad", "weight grad", "bias grad"), kernel_path,
                          numpy_path):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_output_is_batch_last_for_the_next_layer(rng):
    x, w, b = (dn.tensor(a.astype(np.float32)) for a in _data(CASES[4], rng))
    out = F.conv_transpose2d(x, w, b, stride=2, padding=1, groups=2)
    assert out.numpy().transpose(1, 2, 3, 0).flags.c_contiguous


@pytest.mark.parametrize("make", [
    lambda lib: lib.Sequential(lib.Linear(3, 5), lib.ReLU(), lib.Linear(5, 1)),
    lambda lib: lib.Sequential(lib.Conv2d(2, 3, 3, padding=1), lib.ReLU(), lib.Flatten(),
                               lib.Linear(3 * 5 * 5, 1)),
])
def test_fused_ops_double_backward_matches_torch(make, rng, kernels):
    """A gradient penalty through the fusion plan's Linear+ReLU and Conv2d+ReLU ops: their vjp
    is the unfused composition's (ReLU's mask, then the product's), not the product's alone."""
    ours, theirs = make(nn).double(), make(torch.nn).double()
    copy_module_weights(ours, theirs)
    x = rng.standard_normal((4, 3) if isinstance(ours[0], nn.Linear) else (4, 2, 5, 5))
    results = []
    for lib, model in ((dn, ours), (torch, theirs)):
        xt = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(model(xt).sum(), (xt,), create_graph=True)
        ((g * g).sum() + (g * xt).sum()).backward()
        results.append([xt.grad] + [p.grad for p in model.parameters()])
    for i, (a, e) in enumerate(zip(*results)):
        # the first layer's bias reaches the penalty only through ReLU's mask (a constant):
        # PyTorch fills its grad with zeros, deepnum's ReLU vjp leaves it None
        if e is None:  # the last layer's bias: not in the penalty at all
            assert a is None
            continue
        assert_close(np.zeros(e.shape) if a is None else a, e, what=f"gradient {i}")


def test_fused_conv_pool_has_no_double_backward(rng):
    """Max pooling has no vjp: the fused Conv2d+ReLU+MaxPool2d op refuses create_graph as the
    unfused layers do, instead of passing the convolution's vjp down."""
    if not jit.available():
        pytest.skip("Numba is not installed")
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2)).double()
    x = dn.tensor(rng.standard_normal((2, 1, 6, 6)), requires_grad=True)
    with kernels_on(True):
        out = model(x).sum()
        with pytest.raises(RuntimeError, match="create_graph"):
            dn.autograd.grad(out, (x,), create_graph=True)
