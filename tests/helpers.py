"""Shared test helpers: run the same computation in deepnum and PyTorch and compare.

``check_against_torch`` feeds identical random inputs to a deepnum function and a PyTorch function,
then compares the outputs and the gradients of every input, in float64 (tight) and float32.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

import deepnum as dn
from deepnum import fast, jit

TOLERANCE = {np.float64: dict(rtol=1e-6, atol=1e-9), np.float32: dict(rtol=1e-4, atol=1e-5)}


def assert_close(actual, expected, dtype=np.float64, what="value"):
    actual = actual.numpy() if isinstance(actual, dn.Tensor) else np.asarray(actual)
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    assert actual.shape == tuple(np.shape(expected)), (
        f"{what}: shape {actual.shape} != torch {np.shape(expected)}")
    np.testing.assert_allclose(actual, expected, err_msg=what, **TOLERANCE[np.dtype(dtype).type])


def check_against_torch(dn_fn, torch_fn, inputs, dtype=np.float64, grad=True, upstream_seed=0):
    """Compare ``dn_fn(*tensors)`` with ``torch_fn(*tensors)`` on the same arrays.

    ``inputs`` is a list of ndarrays; floating ones become leaves that require grad. The output is
    reduced with a fixed random weighting so every output element's gradient is exercised.
    """
    arrays = [np.asarray(a, dtype=dtype) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
              for a in inputs]
    ours = [dn.tensor(a.copy(), requires_grad=a.dtype.kind == "f" and grad) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=a.dtype.kind == "f" and grad) for a in arrays]
    out, ref = dn_fn(*ours), torch_fn(*theirs)
    assert_close(out, ref, dtype, "forward")
    assert out.dtype == np.dtype(dtype) or out.dtype.kind != "f", f"output dtype {out.dtype}"
    if not grad:
        return out
    weights = np.random.default_rng(upstream_seed).standard_normal(out.shape).astype(dtype)
    (out * dn.tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a.requires_grad:
            assert a.grad is not None, f"input {i} got no gradient"
            assert a.grad.dtype == a.dtype, f"input {i} gradient dtype {a.grad.dtype} != {a.dtype}"
            assert_close(a.grad, b.grad, dtype, f"gradient of input {i}")
    return out


def copy_module_weights(ours, theirs) -> None:
    """Load a PyTorch module's state dict into a deepnum module (same names and layouts)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


@contextlib.contextmanager
def kernels_on(flag=True):
    """Run the block with the speed wing on and its compiled kernels on (True) or off (False),
    or the wing off ("reference": every op's reference path); then restore the settings."""
    before = jit.enabled(), fast.enabled()
    fast.enable(flag != "reference")
    jit.enable(flag is True)
    try:
        yield
    finally:
        jit.enable(before[0])
        fast.enable(before[1])


def conv2d_relu(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """relu(conv2d(...)) as the fusion plan runs it (the speed wing's fused op where it has one)."""
    from deepnum.nn.functional_conv import conv2d_with

    op = fast.choose(("conv2d", "relu"), batch=x.shape[0] if x.ndim == 4 else 1)
    if op == ("conv2d", "relu"):
        return dn.nn.functional.relu(dn.nn.functional.conv2d(x, weight, bias, stride, padding,
                                                             dilation, groups))
    return conv2d_with(op, x, weight, bias, stride, padding, dilation, groups)


def conv2d_relu_max_pool2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                           pool_kernel_size=2, pool_stride=None, pool_padding=0,
                           pool_dilation=1, pool_ceil_mode=False):
    """max_pool2d(relu(conv2d(...))) as the fusion plan runs it."""
    from deepnum.nn.fusion import _conv_relu_pool

    conv = dn.nn.Conv2d(weight.shape[1] * groups, weight.shape[0], weight.shape[2:], stride,
                        padding, dilation, groups, bias=bias is not None,
                        dtype=weight.dtype)
    conv.weight, conv.bias = weight, bias  # the given tensors, so their gradients are filled
    pool = dn.nn.MaxPool2d(pool_kernel_size, pool_stride, pool_padding, pool_dilation,
                           ceil_mode=pool_ceil_mode)
    return _conv_relu_pool(x, conv, dn.nn.ReLU(), pool)
