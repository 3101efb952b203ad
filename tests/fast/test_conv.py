"""The speed wing's convolution (batch-last, blocked, compiled kernels) against PyTorch, against
the reference op, and its kernel path against its NumPy path bit for bit."""

import numpy as np
import pytest
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import deepnum as dn
import deepnum.nn.functional as F
from deepnum import fast, jit
from tests.helpers import check_against_torch, conv2d_relu, kernels_on
from tests.ops.test_conv import CASES, _data


@pytest.fixture(autouse=True)
def _kernels_from_batch_one(monkeypatch):
    """The kernels start at batch 48 (below, NumPy is faster); these tests use small batches."""
    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_speed_wing_equals_the_reference_to_rounding(case, dtype, rng):
    """Blocked, batch-last products sum in another order than the reference's single product:
    equal to float rounding (float64 1e-12, float32 1e-5 relative), gradients included."""
    _, _, _, _, _, _, s, p, d, g = case
    results, arrays = {}, _data(case, rng)
    for mode in ("reference", False, True) if jit.available() else ("reference", False):
        tensors = [dn.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        with kernels_on(mode):
            out = F.conv2d(*tensors, s, p, d, g)
            upstream = np.random.default_rng(3).standard_normal(out.shape).astype(dtype)
            (out * dn.tensor(upstream)).sum().backward()
        results[mode] = [out.numpy().copy()] + [t.grad.numpy().copy() for t in tensors]
    tolerance = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5,
                                                                               atol=1e-5)
    for mode, values in results.items():
        for name, a, b in zip(("output", "input grad", "weight grad", "bias grad"), values,
                              results["reference"]):
            np.testing.assert_allclose(a, b, err_msg=f"{mode}: {name}", **tolerance)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES[:4])
def test_conv2d_relu_matches_torch(case, dtype, rng, kernels):
    _, _, _, _, _, _, s, p, d, g = case
    check_against_torch(lambda x, w, b: conv2d_relu(x, w, b, s, p, d, g),
                        lambda x, w, b: TF.relu(TF.conv2d(x, w, b, s, p, d, g)),
                        _data(case, rng), dtype)
    x, w, _ = _data(case, rng)
    check_against_torch(lambda x, w: conv2d_relu(x, w, None, s, p, d, g),
                        lambda x, w: TF.relu(TF.conv2d(x, w, None, s, p, d, g)), [x, w], dtype)


def _conv_both_paths(fn, arrays, layout):
    """Output and every input gradient of ``fn`` on the NumPy path and on the kernel path."""
    results = []
    for use_jit in (False, True):
        x, w, b = arrays
        if layout == "batch-last":  # as a convolution or pooling hands it to the next layer
            x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
        tensors = [dn.Tensor._wrap(a.copy(order="K")) for a in (x, w, b)]
        for t in tensors:
            t.requires_grad = True
        with kernels_on(use_jit):
            out = fn(*tensors)
            upstream = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
            (out * dn.tensor(upstream)).sum().backward()
        results.append([out.numpy().copy()] + [t.grad.numpy().copy() for t in tensors])
    return results


@pytest.mark.parametrize("layout", ["batch-first", "batch-last"])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[3], CASES[6]])
def test_conv_kernels_equal_numpy_path_bit_for_bit(case, dtype, relu, layout, rng):
    """The kernels copy the same numbers into the columns, add the bias, clip at zero, mask the
    gradient and add the taps back in the NumPy path's order; BLAS does the products on both
    paths: outputs and all gradients are identical."""
    if not jit.available():
        pytest.skip("Numba is not installed")
    _, _, _, _, _, _, s, p, d, g = case
    conv = conv2d_relu if relu else F.conv2d
    arrays = [a.astype(dtype) for a in _data(case, rng)]
    numpy_path, jit_path = _conv_both_paths(lambda x, w, b: conv(x, w, b, s, p, d, g), arrays,
                                            layout)
    for name, a, b in zip(("output", "input grad", "weight grad", "bias grad"), jit_path,
                          numpy_path):
        assert a.dtype == dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_conv_kernels_same_result_with_one_and_two_threads(rng):
    """No kernel sums across threads: one or two threads give the same bits."""
    if not jit.available():
        pytest.skip("Numba is not installed")
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has a single thread on this machine")
    arrays = [a.astype(np.float32) for a in _data(CASES[3], rng)]
    results = []
    try:
        for threads in (1, 2):
            jit.set_num_threads(threads)
            results.append(_conv_both_paths(
                lambda x, w, b: conv2d_relu(x, w, b, 2, 2, (2, 1), 3), arrays, "batch-last")[1])
    finally:
        jit.set_num_threads(1)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_kernels_only_from_the_minimum_batch(monkeypatch):
    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 48)
    with kernels_on(False):
        assert not fast.kernels_for(1000)
    if jit.available():
        with kernels_on(True):
            assert not fast.kernels_for(47) and fast.kernels_for(48)


# stride-1 layers whose input gradient the speed wing computes as a convolution of the output
# gradient with the flipped filters (no more output than input channels): (n, c, h, w, o, k,
# s, p, d, g) as CASES; "same" with an even kernel pads one row more at the bottom
FLIPPED = [
    (2, 6, 7, 9, 4, 3, 1, 1, 1, 1),
    (3, 5, 8, 7, 5, (3, 2), 1, "same", (1, 2), 1),
    (2, 4, 9, 9, 3, 3, 1, 2, 2, 1),
    (2, 3, 6, 6, 3, 3, 1, 0, 1, 1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", FLIPPED)
def test_input_gradient_as_a_convolution(case, dtype, rng):
    """The route is taken for these layers, gives PyTorch's gradients, and the kernel path's
    columns of the gradient are the NumPy path's (bit for bit)."""
    from deepnum.fast import conv as fast_conv
    from deepnum.nn.functional_conv import conv_padding

    n, c, h, w, o, k, s, p, d, g = case
    x, weight, _ = _data(case, rng)
    kernel = (k, k) if isinstance(k, int) else k
    dilation = (d, d) if isinstance(d, int) else d
    geometry = ((n, c, h, w), None, conv_padding(p, kernel, dilation, (s, s), "conv2d"),
                (s, s), dilation, None, g)
    assert fast_conv.input_gradient_as_convolution_fits(weight.shape, geometry)
    check_against_torch(lambda x, w: F.conv2d(x, w, None, s, p, d, g),
                        lambda x, w: TF.conv2d(x, w, None, s, p, d, g), [x, weight], dtype)
    if jit.available():
        arrays = [a.astype(dtype) for a in _data(case, rng)]
        numpy_path, jit_path = _conv_both_paths(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g),
                                                arrays, "batch-last")
        for name, a, b in zip(("output", "input grad", "weight grad", "bias grad"), jit_path,
                              numpy_path):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_a_1x1_convolution_reads_a_batch_last_image_as_its_columns(rng):
    """At stride 1 without padding a batch-last (C, H, W, N) image already is its im2col matrix:
    no copy, and the gradients are still the reference's."""
    from deepnum.fast.conv import batch_last_padded, columns

    x = rng.standard_normal((6, 5, 4, 3)).transpose(3, 0, 1, 2)  # (3, 6, 5, 4), batch-last
    cols = columns(batch_last_padded(x, ((0, 0), (0, 0))), (1, 1), (5, 4), (1, 1), (1, 1))
    assert np.shares_memory(cols, x) and cols.shape == (6, 1, 1, 5, 4, 3)
    arrays = [x, rng.standard_normal((7, 6, 1, 1)), rng.standard_normal(7)]
    results = {}
    for mode in ("reference", False):
        tensors = [dn.Tensor._wrap(a.copy(order="K")) for a in arrays]
        for t in tensors:
            t.requires_grad = True
        with kernels_on(mode):
            out = F.conv2d(*tensors)
            (out * dn.tensor(np.arange(out.numel()).reshape(out.shape) % 5.0)).sum().backward()
        results[mode] = [out.numpy()] + [t.grad.numpy() for t in tensors]
    for a, b in zip(results[False], results["reference"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_column_blocks_are_about_block_bytes_wide():
    """More rows per column (wider layers), fewer columns per block: each block about
    BLOCK_BYTES, a multiple of 256 columns between 256 and BLOCK."""
    from deepnum.fast.conv import BLOCK, BLOCK_BYTES, block_columns

    assert block_columns(25, 4) == BLOCK  # LeNet's first layer: one block of 4,096 columns
    assert block_columns(144, 4) == BLOCK  # 16 channels x 3x3: 2.25 MiB, the budget exactly
    assert block_columns(288, 4) == 2048 and block_columns(576, 4) == 1024
    assert block_columns(576, 8) == 512 and block_columns(100_000, 4) == 256
    for rows in (7, 150, 1000, 4608):
        columns = block_columns(rows, 4)
        assert columns % 256 == 0 and 256 <= columns <= BLOCK
        assert columns == 256 or rows * 4 * columns <= BLOCK_BYTES


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_uneven_narrow_blocks_keep_both_paths_equal(dtype, rng, monkeypatch):
    """With blocks of 256 columns (the last one shorter) the products and the weight gradient's
    block-by-block sum still give the NumPy path's bits on the kernel path, and PyTorch's
    numbers to rounding."""
    from deepnum.fast import conv as fast_conv

    monkeypatch.setattr(fast_conv, "BLOCK_BYTES", 1)  # every layer: 256-column blocks
    case = (4, 8, 12, 12, 6, 3, 1, 1, 1, 1)  # 576 output pixels: blocks of 256, 256 and 64
    check_against_torch(lambda x, w, b: F.conv2d(x, w, b, 1, 1),
                        lambda x, w, b: TF.conv2d(x, w, b, 1, 1), _data(case, rng), dtype)
    if jit.available():
        arrays = [a.astype(dtype) for a in _data(case, rng)]
        numpy_path, jit_path = _conv_both_paths(lambda x, w, b: F.conv2d(x, w, b, 1, 1),
                                                arrays, "batch-last")
        for name, a, b in zip(("output", "input grad", "weight grad", "bias grad"), jit_path,
                              numpy_path):
            np.testing.assert_array_equal(a, b, err_msg=name)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_im2col_blocks_are_the_window_view_for_any_geometry(data):
    """Each block the kernel builds (long runs across the pixels of a row at stride 1, one
    pixel at a time otherwise, zeros outside the image) is the NumPy window view's columns:
    any padding, stride, dilation, block start and width (cutting pixels in the middle)."""
    if not jit.available():
        pytest.skip("Numba is not installed")
    from deepnum.fast import conv_kernels
    from deepnum.fast.conv import batch_last_padded, window_view

    draw = data.draw
    c, h, w, n = (draw(st.integers(1, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 7)),
                  draw(st.integers(1, 5)))
    kh, kw, sh, sw, dh, dw = (draw(st.integers(1, 3)) for _ in range(6))
    pads = [draw(st.integers(0, 3)) for _ in range(4)]
    oh = (h + pads[0] + pads[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pads[2] + pads[3] - dw * (kw - 1) - 1) // sw + 1
    assume(oh >= 1 and ow >= 1)
    x = np.random.default_rng(draw(st.integers(0, 99))).standard_normal((c, h, w, n))
    x = x.astype(np.float32)
    padding = ((pads[0], pads[1]), (pads[2], pads[3]))
    xp = batch_last_padded(x.transpose(3, 0, 1, 2), padding)
    whole = window_view(xp, (kh, kw), (oh, ow), (sh, sw), (dh, dw)).reshape(c * kh * kw, -1)
    m = whole.shape[1]
    start = draw(st.integers(0, m - 1))
    width = draw(st.integers(1, m - start))
    block = np.full((c * kh * kw, width), np.nan, np.float32)
    conv_kernels.im2col_block(x, x.reshape(-1), block, start, sh, sw, dh, dw, pads[0], pads[2],
                              kh, kw, oh, ow)
    np.testing.assert_array_equal(block, whole[:, start:start + width])
