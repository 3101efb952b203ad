"""Shared test helpers: run the same computation in deepnum and PyTorch and compare.

``check_against_torch`` feeds identical random inputs to a deepnum function and a PyTorch function,
then compares the outputs and the gradients of every input, in float64 (tight) and float32.
"""

from __future__ import annotations

import contextlib
import math

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
    """max_pool2d(relu(conv2d(...))) as the fusion plan runs it (the layers one by one when the
    speed wing is off)."""
    from deepnum.nn.fusion import Fused, _conv_relu_pool

    conv = dn.nn.Conv2d(weight.shape[1] * groups, weight.shape[0], weight.shape[2:], stride,
                        padding, dilation, groups, bias=bias is not None,
                        dtype=weight.dtype)
    for name, given in (("weight", weight), ("bias", bias)):  # the given tensors, so their
        del conv._parameters[name]  # gradients are filled (plain attributes, as in PyTorch)
        object.__setattr__(conv, name, given)
    pool = dn.nn.MaxPool2d(pool_kernel_size, pool_stride, pool_padding, pool_dilation,
                           ceil_mode=pool_ceil_mode)
    return Fused((conv, dn.nn.ReLU(), pool), _conv_relu_pool)(x)


# ---------------------------------------------------------------------------- both libraries
# The tests of the tensor and autograd half write a computation once, as a function of the module
# (``lambda m: m.zeros(2).sum()``), and run it with ``torch`` and with ``deepnum`` as ``m``:
# "imports changed only". ``compare`` then checks every part of the two results alike.

def _name(dtype) -> str:
    """'float32' for torch.float32 and deepnum.float32 alike."""
    return str(dtype).rsplit(".", 1)[-1]


def compare(ours, theirs, what: str = "result") -> None:
    """Assert that a deepnum result equals PyTorch's: tensors by dtype, shape, requires_grad and
    values (float64 ~1e-6, float32 ~1e-4, others exactly), named tuples by type and fields,
    sizes, dtypes, devices and Python numbers by value and type."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, dn.Tensor), f"{what}: {type(ours).__name__}, torch gave a tensor"
        assert _name(ours.dtype) == _name(theirs.dtype), (
            f"{what}: dtype {ours.dtype}, torch {theirs.dtype}")
        assert tuple(ours.shape) == tuple(theirs.shape), (
            f"{what}: shape {tuple(ours.shape)}, torch {tuple(theirs.shape)}")
        assert ours.requires_grad == theirs.requires_grad, (
            f"{what}: requires_grad {ours.requires_grad}, torch {theirs.requires_grad}")
        expected = theirs.detach().numpy()
        if expected.dtype.kind in "fc":
            tolerance = TOLERANCE.get(expected.dtype.type, dict(rtol=1e-3, atol=1e-3))
            np.testing.assert_allclose(ours.numpy(), expected, err_msg=what, **tolerance)
        else:
            np.testing.assert_array_equal(ours.numpy(), expected, err_msg=what)
    elif isinstance(theirs, np.ndarray):  # .numpy()
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype, f"{what}: {ours!r}"
        np.testing.assert_allclose(ours, theirs, err_msg=what, **TOLERANCE.get(
            theirs.dtype.type, dict(rtol=0, atol=0)))
    elif isinstance(theirs, torch.Size):
        assert isinstance(ours, dn.Size) and tuple(ours) == tuple(theirs), f"{what}: {ours}"
    elif isinstance(theirs, torch.dtype):
        assert isinstance(ours, dn.dtype) and _name(ours) == _name(theirs), f"{what}: {ours}"
    elif isinstance(theirs, torch.device):
        assert isinstance(ours, dn.device) and str(ours) == str(theirs), f"{what}: {ours}"
    elif isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)), f"{what}: {type(ours).__name__}, torch a sequence"
        assert len(ours) == len(theirs), f"{what}: {len(ours)} items, torch {len(theirs)}"
        if type(theirs).__module__ == "torch.return_types":  # values/indices named tuples
            assert type(ours).__name__ == type(theirs).__name__, f"{what}: {type(ours)}"
            for field in ("values", "indices"):
                if hasattr(theirs, field):
                    compare(getattr(ours, field), getattr(theirs, field), f"{what}.{field}")
        for i, (a, b) in enumerate(zip(ours, theirs)):
            compare(a, b, f"{what}[{i}]")
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs), f"{what}: keys differ"
        for key in theirs:
            compare(ours[key], theirs[key], f"{what}[{key!r}]")
    elif isinstance(theirs, float):
        assert type(ours) is float, f"{what}: {type(ours).__name__} {ours!r}, torch float"
        assert (math.isnan(ours) and math.isnan(theirs)) or math.isclose(
            ours, theirs, rel_tol=1e-6, abs_tol=1e-9), f"{what}: {ours}, torch {theirs}"
    elif theirs is None or isinstance(theirs, (bool, int, str, complex)):
        assert type(ours) is type(theirs) and ours == theirs, (
            f"{what}: {ours!r} ({type(ours).__name__}), torch {theirs!r}")
    else:
        raise TypeError(f"{what}: compare() does not know torch's {type(theirs).__name__}")


def run_both(fn, what: str = "result"):
    """``fn(torch)`` and ``fn(deepnum)`` must give equal results (see :func:`compare`)."""
    theirs = fn(torch)
    ours = fn(dn)
    compare(ours, theirs, what)
    return ours


def builtin_type(error: BaseException) -> type:
    """The most specific built-in exception class of ``error`` (torch has private subclasses
    such as torch._C._LinAlgError of RuntimeError)."""
    return next(c for c in type(error).__mro__ if c.__module__ == "builtins")


def raises_both(fn, match: str | None = None):
    """``fn(torch)`` and ``fn(deepnum)`` must raise the same built-in exception type (deepnum's
    may be a subclass of it), both messages matching ``match`` (a regex) when given."""
    import re

    errors = []
    for m in (torch, dn):
        try:
            fn(m)
        except Exception as error:  # noqa: BLE001 - every kind is compared below
            errors.append(error)
        else:
            raise AssertionError(f"{m.__name__} raised nothing")
    theirs, ours = errors
    expected = builtin_type(theirs)
    assert isinstance(ours, expected), (
        f"deepnum raised {type(ours).__name__}: {ours}; torch {expected.__name__}: {theirs}")
    if match is not None:
        for m, error in (("torch", theirs), ("deepnum", ours)):
            assert re.search(match, str(error), re.IGNORECASE), (
                f"{m}'s message {str(error)!r} does not match {match!r}")
    return ours


def check_op(fn, inputs, dtypes=(np.float64, np.float32), gradcheck: bool = True, seed=0):
    """An op ``fn(m, *tensors)`` against PyTorch, forward and backward in each dtype, and deepnum's
    gradient against finite differences (float64)."""
    for dtype in dtypes:
        check_against_torch(lambda *t: fn(dn, *t), lambda *t: fn(torch, *t), inputs, dtype,
                            upstream_seed=seed)
    if gradcheck:
        tensors = [dn.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
                   if np.asarray(a).dtype.kind == "f" else dn.tensor(np.asarray(a))
                   for a in inputs]
        assert dn.gradcheck(lambda *t: fn(dn, *t), tensors)
