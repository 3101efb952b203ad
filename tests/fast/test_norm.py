"""The compiled batch norm (training) against PyTorch, against the reference op, in both memory
layouts it takes, and with one or two threads."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn.functional as F
from deepnum import fast, jit
from deepnum.fast import norm as fast_norm
from deepnum.ops import norm as norm_ops
from tests.helpers import assert_close, kernels_on

pytestmark = pytest.mark.skipif(not jit.available(), reason="needs Numba")

# (N, C, H, W), whether the array is batch-last in memory (a convolution's output)
LAYOUTS = [((64, 4, 6, 5), True), ((8, 3, 20, 10), False), ((2, 2, 40, 33), True)]


def _array(shape, batch_last, rng, dtype, scale=3.0, shift=2.0):
    a = (rng.standard_normal(shape) * scale + shift).astype(dtype)
    return np.ascontiguousarray(np.moveaxis(a, 0, -1)).transpose(3, 0, 1, 2) if batch_last else a


def _run(x, weight, bias, g, running):
    xt = dn.Tensor._wrap(x.copy(order="K"))
    xt.requires_grad = True
    w, b = dn.tensor(weight, requires_grad=True), dn.tensor(bias, requires_grad=True)
    mean, var = (dn.tensor(a.copy()) for a in running)
    out = F.batch_norm(xt, mean, var, w, b, training=True)
    out.backward(dn.Tensor._wrap(g))
    return [out.numpy(), xt.grad.numpy(), w.grad.numpy(), b.grad.numpy(), mean.numpy(),
            var.numpy()], out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, batch_last", LAYOUTS)
def test_kernel_batch_norm_matches_torch_and_the_reference(shape, batch_last, dtype, rng,
                                                           monkeypatch):
    monkeypatch.setattr(fast_norm, "MIN_PER_CHANNEL", 1)
    c = shape[1]
    x = _array(shape, batch_last, rng, dtype)
    g = _array(shape, not batch_last, rng, dtype, 1.0, 0.0)  # the other layout: copied to x's
    weight, bias = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    running = (rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype))
    assert fast.choose(norm_ops.BatchNorm, batch=shape[0]) is fast_norm.KernelBatchNorm
    kernel, out = _run(x, weight, bias, g, running)
    assert out.array.strides == x.strides  # a batch-last input stays batch-last
    with kernels_on("reference"):
        reference, _ = _run(x, weight, bias, g, running)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    tmean, tvar = (torch.tensor(a.copy()) for a in running)
    tout = torch.nn.functional.batch_norm(ts[0], tmean, tvar, ts[1], ts[2], training=True)
    tout.backward(torch.tensor(g))
    theirs = [tout.detach().numpy(), *(t.grad.numpy() for t in ts), tmean.numpy(), tvar.numpy()]
    names = ["output", "input grad", "weight grad", "bias grad", "running_mean", "running_var"]
    for name, ours, ref, torch_value in zip(names, kernel, reference, theirs):
        assert ours.dtype == dtype, name
        assert_close(dn.tensor(ours), torch.tensor(torch_value), dtype, name)
        assert_close(dn.tensor(ours), torch.tensor(ref), dtype, f"{name} vs the reference")


def test_kernel_batch_norm_same_bits_with_one_and_two_threads(rng, monkeypatch):
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has a single thread on this machine")
    monkeypatch.setattr(fast_norm, "MIN_PER_CHANNEL", 1)
    shape = (16, 6, 12, 12)
    x, g = _array(shape, True, rng, np.float32), _array(shape, True, rng, np.float32, 1, 0)
    weight, bias = np.ones(6, np.float32), np.zeros(6, np.float32)
    running = (np.zeros(6, np.float32), np.ones(6, np.float32))
    results = []
    try:
        for threads in (1, 2):
            jit.set_num_threads(threads)
            results.append(_run(x, weight, bias, g, running)[0])
    finally:
        jit.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("why", ["small", "no affine", "float16", "strided"])
def test_what_the_kernel_does_not_take_runs_the_reference(why, rng):
    x = rng.standard_normal((8, 3, 40, 40))
    weight, bias = np.ones(3), np.zeros(3)
    if why == "small":
        x = x[:, :, :4, :4].copy()
    elif why == "no affine":
        weight = bias = None
    elif why == "float16":
        x, weight, bias = x.astype(np.float16), weight.astype(np.float16), bias.astype(np.float16)
    else:
        x = x[:, :, ::2, :]
    fn = fast_norm.KernelBatchNorm()
    fn.needs_input_grad = (True,) if weight is None else (True, True, True)
    ref = norm_ops.BatchNorm()
    ref.needs_input_grad = fn.needs_input_grad
    args = (x,) if weight is None else (x, weight, bias)
    np.testing.assert_array_equal(fn.forward(*args), ref.forward(*args))
    assert fn.kernel is False
    g = np.ones_like(x)
    for a, b in zip(fn.backward(g), ref.backward(g)):
        np.testing.assert_array_equal(a, b)


def test_the_kernels_refuse_mis_shaped_arrays():
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(jit.KernelArgumentError, match="weight"):
        fast_norm._forward(x, x, x, np.ones(2, np.float32), np.ones(3, np.float32),
                           np.zeros((2, 3)), np.zeros((2, 3), np.float32), 1e-5)


def test_reassociated_sums_keep_nan_and_infinity(rng, monkeypatch):
    """jit.helper(reassociate=True) only reorders additions: a NaN or an infinity in a channel
    makes that channel's output NaN, as in the reference, and leaves the others finite."""
    monkeypatch.setattr(fast_norm, "MIN_PER_CHANNEL", 1)
    for bad in (np.nan, np.inf):
        x = _array((64, 3, 4, 4), True, rng, np.float32)
        x[5, 1, 2, 3] = bad
        ours = fast_norm.KernelBatchNorm()
        ref = norm_ops.BatchNorm()
        ours.needs_input_grad = ref.needs_input_grad = (True, True, True)
        args = (x, np.ones(3, np.float32), np.zeros(3, np.float32))
        a, b = ours.forward(*args), ref.forward(*args)
        assert ours.kernel
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert np.isnan(a[:, 1]).all() and np.isfinite(a[:, [0, 2]]).all()
