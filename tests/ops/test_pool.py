"""Pooling ops against PyTorch (values and input gradients) and central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn.functional as F
from deepnum import fast, jit
from tests.helpers import check_against_torch, kernels_on


@pytest.fixture(autouse=True)
def _kernels_from_batch_one(monkeypatch):
    """The kernels start at batch 48 (below, NumPy is faster); these tests use small batches."""
    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 1)

# (shape, kernel, stride, padding)
POOLS = [
    ((2, 3, 4, 4), 2, None, 0),           # the lecture: 4x4 -> 2x2 with 2x2 filters, stride 2
    ((1, 2, 7, 9), 3, 2, 1),              # overlapping windows, padding, odd sizes, batch 1
    ((2, 1, 6, 5), (2, 3), (1, 2), (1, 0)),
    ((2, 2, 13, 13), 3, 2, 0),            # AlexNet's pool
    ((3, 2, 5, 5), 5, 1, 2),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kernel,stride,padding", POOLS)
def test_max_pool2d_matches_torch(shape, kernel, stride, padding, dtype, rng, kernels):
    check_against_torch(lambda x: F.max_pool2d(x, kernel, stride, padding),
                        lambda x: TF.max_pool2d(x, kernel, stride, padding),
                        [rng.standard_normal(shape)], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool2d_dilation(dtype, rng, kernels):
    check_against_torch(lambda x: F.max_pool2d(x, 3, 2, 1, dilation=2),
                        lambda x: TF.max_pool2d(x, 3, 2, 1, dilation=2),
                        [rng.standard_normal((2, 2, 11, 10))], dtype)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kernel,stride,padding", POOLS)
def test_avg_pool2d_matches_torch(shape, kernel, stride, padding, dtype, count_include_pad, rng):
    check_against_torch(lambda x: F.avg_pool2d(x, kernel, stride, padding,
                                               count_include_pad=count_include_pad),
                        lambda x: TF.avg_pool2d(x, kernel, stride, padding,
                                                count_include_pad=count_include_pad),
                        [rng.standard_normal(shape)], dtype)


def test_avg_pool2d_divisor_override(rng):
    check_against_torch(lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=4),
                        lambda x: TF.avg_pool2d(x, 3, 2, 1, divisor_override=4),
                        [rng.standard_normal((2, 2, 7, 7))])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,out", [((2, 3, 13, 13), (6, 6)), ((1, 2, 7, 5), (3, 2)),
                                       ((2, 2, 6, 6), 1), ((2, 2, 5, 4), (5, 8))])
def test_adaptive_avg_pool2d_matches_torch(shape, out, dtype, rng):
    check_against_torch(lambda x: F.adaptive_avg_pool2d(x, out),
                        lambda x: TF.adaptive_avg_pool2d(x, out), [rng.standard_normal(shape)],
                        dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pool1d_matches_torch(dtype, rng, kernels):
    x = [rng.standard_normal((2, 3, 11))]
    check_against_torch(lambda x: F.max_pool1d(x, 3, 2, 1), lambda x: TF.max_pool1d(x, 3, 2, 1),
                        x, dtype)
    check_against_torch(lambda x: F.avg_pool1d(x, 4, 3, 2), lambda x: TF.avg_pool1d(x, 4, 3, 2),
                        x, dtype)


def test_max_pool_ties_route_to_first_maximum(kernels):
    """Equal values in a window: the whole gradient goes to the first one (row-major), as torch."""
    x = np.array([[[[1.0, 3.0, 3.0, 0.0],
                    [3.0, 2.0, 5.0, 5.0],
                    [0.0, 0.0, 7.0, 7.0],
                    [0.0, 0.0, 7.0, 7.0]]]])
    ours = dn.tensor(x, requires_grad=True)
    F.max_pool2d(ours, 2).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(theirs, 2).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert ours.grad.numpy().sum() == 4 and ours.grad.numpy()[0, 0, 0, 1] == 1


def test_max_pool_overlapping_windows_accumulate(kernels):
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 9.0  # the centre is the max of all four 3x3 windows (stride 2)
    ours = dn.tensor(x, requires_grad=True)
    F.max_pool2d(ours, 3, 2).sum().backward()
    assert ours.grad.numpy()[0, 0, 2, 2] == 4


def test_max_pool_nan_propagates_like_torch(kernels):
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    ours = dn.tensor(x, requires_grad=True)
    out = F.max_pool2d(ours, 2)
    out.sum().backward()
    assert np.isnan(out.item())
    theirs = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(theirs, 2).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_pool_gradcheck(rng, kernels):
    x = dn.tensor(rng.standard_normal((2, 2, 7, 6)), requires_grad=True)
    assert dn.gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1), [x])
    assert dn.gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False), [x])
    assert dn.gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), [x])


def test_pool_keeps_batch_last_layout_and_dtype(rng, kernels):
    x = dn.tensor(rng.standard_normal((3, 5, 5, 2)).astype(np.float32)).permute(3, 0, 1, 2)
    for out in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2)):
        assert out.dtype == np.float32
        assert out.numpy().transpose(1, 2, 3, 0).flags.c_contiguous


def test_pool_window_larger_than_input_is_an_error():
    with pytest.raises(ValueError, match="does not fit"):
        F.max_pool2d(dn.randn(1, 1, 2, 2), 3)


def test_max_pool_nans_and_infinities_like_torch(kernels):
    """Several NaNs, -inf and ties in overlapping padded windows: values and routes as torch."""
    x = np.array([[[[np.nan, 1.0, np.nan, -np.inf, 2.0],
                    [3.0, 3.0, -np.inf, -np.inf, 2.0],
                    [np.inf, 0.0, 5.0, 5.0, -1.0],
                    [-np.inf, -np.inf, 5.0, np.nan, 0.0]]]])
    check_against_torch(lambda t: F.max_pool2d(t, 3, 1, 1), lambda t: TF.max_pool2d(t, 3, 1, 1),
                        [x])
    check_against_torch(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x[..., :4]])


# geometries for the kernel/NumPy comparison: (shape, kernel, stride, padding, dilation)
KERNEL_POOLS = POOLS[:4] + [((2, 3, 8, 8), 2, 2, 0, 1),      # windows tile the input (LeNet)
                            ((2, 2, 11, 10), 3, 2, 1, 2),    # dilation
                            ((2, 2, 9, 9), 2, 3, 0, 1)]      # gaps between windows


def _pool_both_paths(x, args, upstream):
    """Forward value and input gradient of max_pool2d on the NumPy path and the kernel path."""
    results = []
    for use_jit in (False, True):
        t = dn.Tensor._wrap(x.copy(order="K"))
        t.requires_grad = True
        with kernels_on(use_jit):
            out = F.max_pool2d(t, *args)
            (out * dn.tensor(upstream)).sum().backward()
        results.append((out.numpy().copy(), t.grad.numpy().copy()))
    return results


@pytest.mark.parametrize("layout", ["batch-first", "batch-last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", KERNEL_POOLS)
def test_max_pool_kernel_equals_numpy_path(case, dtype, layout, rng):
    """Same maxima and gradients, equal element for element (the kernel writes 0 where the NumPy
    path writes g * 0, so a zero's sign may differ; the values compare equal)."""
    if not jit.available():
        pytest.skip("Numba is not installed")
    shape, kernel, stride, padding = case[:4]
    dilation = case[4] if len(case) > 4 else 1
    x = rng.standard_normal(shape).astype(dtype)
    x[..., ::3, ::2] = x[..., :1, :1]  # ties
    if layout == "batch-last":
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    out_shape = F.max_pool2d(dn.tensor(x), kernel, stride, padding, dilation).shape
    upstream = rng.standard_normal(out_shape).astype(dtype)
    (numpy_out, numpy_grad), (jit_out, jit_grad) = _pool_both_paths(
        x, (kernel, stride, padding, dilation), upstream)
    np.testing.assert_array_equal(jit_out, numpy_out)
    np.testing.assert_array_equal(jit_grad, numpy_grad)
    assert jit_out.dtype == dtype and jit_grad.dtype == dtype


def test_max_pool_kernel_same_result_with_one_and_two_threads(rng):
    """Every output element is written by one loop iteration: the thread count changes nothing."""
    if not jit.available():
        pytest.skip("Numba is not installed")
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has a single thread on this machine")
    x = rng.standard_normal((4, 6, 12, 12)).astype(np.float32)
    upstream = rng.standard_normal((4, 6, 5, 5)).astype(np.float32)
    results = []
    with kernels_on(True):
        try:
            for threads in (1, 2):
                jit.set_num_threads(threads)
                t = dn.tensor(x, requires_grad=True)
                out = F.max_pool2d(t, 3, 2)  # overlapping windows: the scatter kernel
                (out * dn.tensor(upstream)).sum().backward()
                results.append((out.numpy().copy(), t.grad.numpy().copy()))
        finally:
            jit.set_num_threads(1)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- ceil_mode
def test_pool_output_size_rule_is_torchs():
    """Every small geometry: our output length is torch's, floor and ceil mode, including the
    rule that a ceil-mode last window starting in the right padding is dropped."""
    from deepnum.ops.pool import pool_out_size

    checked = dropped = 0
    for size in range(1, 11):
        for k in range(1, 5):
            for s in range(1, 5):
                for p in range(k // 2 + 1):
                    for d in (1, 2):
                        for ceil in (False, True):
                            x = torch.zeros(1, 1, 1, size)
                            try:
                                want = TF.max_pool2d(x, (1, k), (1, s), (0, p), (1, d),
                                                     ceil).shape[-1]
                            except RuntimeError:  # no window fits: torch refuses
                                want = 0
                            got = pool_out_size(size, k, s, p, d, ceil)
                            assert max(got, 0) == want, (size, k, s, p, d, ceil)
                            checked += 1
                            reach = size + 2 * p - d * (k - 1) - 1
                            dropped += ceil and reach >= 0 and got == reach // s + 1 \
                                and reach % s != 0
    assert checked > 1000 and dropped > 10  # the drop rule was exercised


# (shape, kernel, stride, padding, dilation): geometries where ceil_mode adds a partial window
CEIL_POOLS = [
    ((2, 3, 7, 7), 2, 2, 0, 1),             # 7x7 -> 4x4 (floor: 3x3)
    ((1, 2, 8, 9), 3, 2, 0, 1),             # GoogLeNet's 3x3 stride-2 pool
    ((2, 2, 6, 7), 3, 2, 1, 1),             # padded, and the last window hangs beyond the padding
    ((2, 1, 9, 6), (3, 2), (2, 3), (1, 0), 1),
    ((2, 2, 5, 5), 2, 2, 1, 1),             # the drop rule: 3x3, not 4x4
    ((2, 2, 10, 11), 3, 2, 1, 2),           # dilation
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kernel,stride,padding,dilation", CEIL_POOLS)
def test_max_pool2d_ceil_mode_matches_torch(shape, kernel, stride, padding, dilation, dtype, rng,
                                            kernels):
    out = check_against_torch(
        lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=True),
        lambda x: TF.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=True),
        [rng.standard_normal(shape)], dtype)
    assert out.dtype == dtype


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kernel,stride,padding,dilation",
                         [c for c in CEIL_POOLS if c[4] == 1])
def test_avg_pool2d_ceil_mode_matches_torch(shape, kernel, stride, padding, dilation, dtype,
                                            count_include_pad, rng):
    """The divisor of a window that hangs over the edge is torch's: the pixels inside the padded
    input (count_include_pad) or the real ones."""
    check_against_torch(
        lambda x: F.avg_pool2d(x, kernel, stride, padding, True, count_include_pad),
        lambda x: TF.avg_pool2d(x, kernel, stride, padding, True, count_include_pad),
        [rng.standard_normal(shape)], dtype)


def test_avg_pool2d_ceil_mode_divisor_override(rng):
    check_against_torch(lambda x: F.avg_pool2d(x, 3, 2, 1, True, divisor_override=5),
                        lambda x: TF.avg_pool2d(x, 3, 2, 1, True, divisor_override=5),
                        [rng.standard_normal((2, 2, 6, 7))])


def test_pool1d_ceil_mode_matches_torch(rng, kernels):
    x = [rng.standard_normal((2, 3, 10))]
    check_against_torch(lambda t: F.max_pool1d(t, 3, 2, 1, 1, True),
                        lambda t: TF.max_pool1d(t, 3, 2, 1, 1, True), x)
    check_against_torch(lambda t: F.max_pool1d(t, 2, 3, dilation=2, ceil_mode=True),
                        lambda t: TF.max_pool1d(t, 2, 3, dilation=2, ceil_mode=True), x)
    check_against_torch(lambda t: F.avg_pool1d(t, 3, 2, 1, True, False),
                        lambda t: TF.avg_pool1d(t, 3, 2, 1, True, False), x)


def test_ceil_mode_pool_gradcheck(rng, kernels):
    x = dn.tensor(rng.standard_normal((2, 2, 6, 7)), requires_grad=True)
    assert dn.gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True), [x])
    assert dn.gradcheck(lambda t: F.max_pool2d(t, 2, 2, ceil_mode=True), [x])
    for include in (True, False):
        assert dn.gradcheck(lambda t, c=include: F.avg_pool2d(t, 3, 2, 1, True, c), [x])


def test_return_indices_is_refused():
    with pytest.raises(ValueError, match="return_indices"):
        F.max_pool2d(dn.randn(1, 1, 4, 4), 2, return_indices=True)


@pytest.mark.parametrize("layout", ["batch-first", "batch-last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CEIL_POOLS)
def test_max_pool_ceil_mode_kernel_equals_numpy_path(case, dtype, layout, rng):
    if not jit.available():
        pytest.skip("Numba is not installed")
    shape, kernel, stride, padding, dilation = case
    x = rng.standard_normal(shape).astype(dtype)
    x[..., ::3, ::2] = x[..., :1, :1]  # ties
    if layout == "batch-last":
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    args = (kernel, stride, padding, dilation, True)
    upstream = rng.standard_normal(F.max_pool2d(dn.tensor(x), *args).shape).astype(dtype)
    (numpy_out, numpy_grad), (jit_out, jit_grad) = _pool_both_paths(x, args, upstream)
    np.testing.assert_array_equal(jit_out, numpy_out)
    np.testing.assert_array_equal(jit_grad, numpy_grad)


def test_a_window_larger_than_the_input_is_a_shape_error():
    # found by the long model-file fuzz: a file asking for MaxPool2d(255) over 8x8 maps
    from deepnum.errors import ShapeError

    with pytest.raises(ShapeError, match="255x255 window .* spatial size 8x8"):
        dn.nn.functional.max_pool2d(dn.zeros(1, 1, 8, 8), 255)
    with pytest.raises(ValueError):  # still a ValueError, as before
        dn.nn.functional.avg_pool2d(dn.zeros(1, 1, 8, 8), 9)


@pytest.mark.parametrize("layout, batch, compiled", [("batch-last", 8, True),
                                                     ("batch-last", 4, False),
                                                     ("batch-first", 64, False)])
def test_the_compiled_pool_runs_on_batch_last_inputs_of_eight_or_more(layout, batch, compiled,
                                                                      rng, monkeypatch):
    """Its window taps are runs of the batch: from 8 samples in batch-last memory (a conv's
    output) it beats NumPy's passes; batch-first memory gives runs of one value, and the
    reference runs (benchmarks/README.md, session 8). Either way the same maxima and gradients."""
    if not jit.available():
        pytest.skip("Numba is not installed")
    from deepnum.fast import pool as fast_pool
    from deepnum.ops.pool import MaxPool2d as Reference

    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 48)  # the shipped thresholds
    x = rng.standard_normal((batch, 3, 10, 10)).astype(np.float32)
    if layout == "batch-last":
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    op = fast.choose(Reference, batch=batch)
    geometry = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))
    fn = op()
    fn.needs_input_grad = (True,)
    out = fn.forward(x, **geometry)
    assert (type(fn) is fast_pool.MaxPool2d and fn.kernel) == compiled
    ref = Reference()
    ref.needs_input_grad = (True,)
    np.testing.assert_array_equal(out, ref.forward(x, **geometry))
    g = rng.standard_normal(out.shape).astype(np.float32)
    np.testing.assert_array_equal(fn.backward(g), ref.backward(g))
