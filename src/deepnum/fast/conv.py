"""The convolution of :mod:`deepnum.ops.conv`, several times faster, with the same numbers up to
the summation order of the products (tested against the reference to float32 rounding).

Layout. Tensors are NCHW as in PyTorch, but the arrays inside are stored batch-last, (C, H, W, N)
in memory, and shown as NCHW through a transposed *view* (no copy). NumPy pays per inner loop,
and a kernel tap's view of an image (rows i.., columns j.., every sample) then has inner runs of
OW*N contiguous numbers instead of OW: the im2col copy, the col2im adds and every pooling tap run
~3x faster than in NCHW. The products need no transpose either: the forward's W @ cols lands as
(O, OH, OW, N), the weight gradient is g (O, OH*OW*N) @ cols^T, and the input gradient's columns
W^T @ g are added back tap by tap as whole (C, OH, OW, N) blocks. Elementwise ops and pooling
keep the memory order (NumPy's order="K"), so the next convolution reads its input for free.
The products run on blocks of columns that stay in the L2 cache, and big scratch arrays are
reused between steps.

With the compiled kernels (``KernelConv2d``, chosen by :mod:`deepnum.fast`'s dispatch for
batches of 48 and more), the elementwise passes run on all cores and the im2col matrix is never
stored: each GEMM block of columns is built in a small scratch array right before the product
reads it from the cache, and backward builds the blocks again for the weight gradient (for
LeNet's first layer, 10 MB less written and read twice per step). KernelConv2d gives Conv2d's
numbers bit for bit.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from deepnum.fast import conv_kernels as kernels
from deepnum.fast import kernels_for, speeds_up
from deepnum.fast.activation import relu
from deepnum.ops import constant
from deepnum.ops import conv as reference
from deepnum.ops.conv import offset_slices, out_size


def batch_last_padded(x: np.ndarray, padding) -> np.ndarray:
    """(N, C, H, W) -> (C, H + pt + pb, W + pl + pr, N) with zeros; a view when there is none."""
    xt = x.transpose(1, 2, 3, 0)
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return xt
    c, h, w, n = xt.shape
    xp = np.zeros((c, h + pt + pb, w + pl + pr, n), dtype=x.dtype)  # calloc: zero pages are free
    xp[:, pt:pt + h, pl:pl + w] = xt
    return xp


# Columns per GEMM block. A product with few rows (6 filters x 25 taps) over 100,000 columns runs
# 2-3x faster in OpenBLAS when cut into blocks whose operands stay in the L2 cache (measured:
# LeNet's first layer 5.0 -> 1.5 ms forward). The block is at most BLOCK columns and about
# BLOCK_BYTES big: with more rows, fewer columns. ResNet-20's layers, forward + backward, batch
# 64, 1 thread, two runs: 64 channels (576 rows) 18.1 / 17.5 ms at 4,096 columns, 15.7 / 16.0 at
# 2,048, 14.8 / 15.3 at 1,024; 32 channels 21.5 / 20.8 at 4,096, 19.0 / 20.3 at 2,048; 16 channels
# (144 rows) best at 4,096 (29.5 / 30.2, 2,048: 30.4 / 32.2). 4,096 columns of 144 rows is 2.25 MiB.
BLOCK = 4096
BLOCK_BYTES = 9 * 2**18  # 2.25 MiB


def block_columns(rows: int, itemsize: int) -> int:
    """Columns per block of a (rows, M) column matrix: BLOCK_BYTES worth, a multiple of 256
    between 256 and BLOCK."""
    return min(BLOCK, max(256, BLOCK_BYTES // (rows * itemsize) // 256 * 256))

class Scratch:
    """Big scratch arrays (im2col columns and their gradient) kept for the next step.

    A fresh 10 MB array costs ~2,500 page faults the first time it is written, more than the
    im2col copy itself; reusing the previous step's buffer of the same shape avoids them (measured:
    a LeNet-5 step goes from ~35 to ~28 ms). At most ``limit`` bytes are kept.
    """

    def __init__(self, limit: int = 128 * 2**20):
        self.limit, self.held, self.free = limit, 0, {}

    def take(self, shape: tuple, dtype) -> np.ndarray:
        try:
            array = self.free[(shape, np.dtype(dtype))].pop()
        except (KeyError, IndexError):
            return np.empty(shape, dtype=dtype)
        self.held -= array.nbytes
        return array

    def give(self, array: np.ndarray) -> None:
        if array.base is None and self.held + array.nbytes <= self.limit:
            self.free.setdefault((array.shape, array.dtype), []).append(array)
            self.held += array.nbytes

    def clear(self) -> None:
        self.free.clear()
        self.held = 0


SCRATCH = Scratch()


def _matmul_blocks(a: np.ndarray, blocks, out: np.ndarray) -> np.ndarray:
    """a (G, R, K) @ b (G, K, M) into out (G, R, M), b given as its column blocks
    (start, end, block), one product per block."""
    g, _, k = a.shape
    for s, e, block in blocks:
        np.matmul(a, block.reshape(g, k, e - s), out=out[..., s:e])
    return out


def _column_blocks_of(a: np.ndarray):
    """(start, end, block) for the column blocks of a stored (G, R, M) matrix."""
    m, step = a.shape[-1], block_columns(a.shape[-2], a.itemsize)
    return ((s, min(s + step, m), a[..., s:s + step]) for s in range(0, m, step))


def _matmul_nt_blocks(blocks, b: np.ndarray, rows: int, dtype, swap: bool = False) -> np.ndarray:
    """a (G, R, M) @ b (G, S, M)^T -> (G, R, S), a given as its column blocks (start, end, block):
    the long M axis is summed block by block. ``swap``: b @ a^T -> (G, S, R) instead."""
    g = b.shape[0]
    out = np.zeros((g, b.shape[-2], rows) if swap else (g, rows, b.shape[-2]), dtype=dtype)
    for s, e, block in blocks:
        a_block = block.reshape(g, rows, e - s)
        if swap:
            out += np.matmul(b[..., s:e], a_block.swapaxes(-1, -2))
        else:
            out += np.matmul(a_block, b[..., s:e].swapaxes(-1, -2))
    return out


def column_blocks(xt, kernel, out_hw, stride, dilation, padding):
    """The im2col columns of the batch-last image ``xt`` (C, H, W, N), built block by block by
    the compiled kernel in one small scratch array: yields (start, end, block (C*kh*kw, B))."""
    c, _, _, n = xt.shape
    (kh, kw), (oh, ow) = kernel, out_hw
    rows, m = c * kh * kw, n * oh * ow
    step = block_columns(rows, xt.itemsize)
    flat = SCRATCH.take((rows * min(step, m),), xt.dtype)
    try:
        for s in range(0, m, step):
            e = min(s + step, m)
            block = flat[:rows * (e - s)].reshape(rows, e - s)
            kernels.im2col_block(xt, xt.reshape(-1), block, s, *stride, *dilation, padding[0][0],
                                 padding[1][0], kh, kw, oh, ow)
            yield s, e, block
    finally:
        SCRATCH.give(flat)


def window_view(xp, kernel, out_hw, stride, dilation) -> np.ndarray:
    """The (C, kh, kw, OH, OW, N) windows of the padded batch-last image ``xp`` (C, Hp, Wp, N):
    a read-only view, the im2col matrix before its copy."""
    c, _, _, n = xp.shape
    sc, sh, sw, sn = xp.strides
    return as_strided(xp, (c, *kernel, *out_hw, n),
                      (sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn),
                      writeable=False)


def columns(xp, kernel, out_hw, stride, dilation) -> np.ndarray:
    """im2col of the padded batch-last image ``xp`` (C, Hp, Wp, N): its window view copied once
    into a scratch array (give it back to SCRATCH when done; a read-only view of ``xp`` itself
    when that is already the matrix, which SCRATCH does not keep)."""
    windows = window_view(xp, kernel, out_hw, stride, dilation)
    if windows.flags.c_contiguous:  # a 1x1 kernel at stride 1 on a batch-last image: the image
        return windows              # is its own im2col (ResNet-50's 1x1 layers), no copy
    buffer = SCRATCH.take(windows.shape, xp.dtype)
    np.copyto(buffer, windows)
    return buffer


def flipped_padding(kernel, padding, dilation):
    """The padding d(k-1) - p of the output gradient that makes a stride-1 convolution's input
    gradient a convolution; None if some side is negative (padding beyond the kernel's reach)."""
    q = tuple((d * (k - 1) - lo, d * (k - 1) - hi)
              for k, (lo, hi), d in zip(kernel, padding, dilation))
    return q if min(min(side) for side in q) >= 0 else None


def input_gradient_as_convolution_fits(weight_shape, geometry) -> bool:
    """Whether :meth:`Conv2d._input_gradient_as_convolution` is the faster route: stride 1, one
    group, a kernel larger than 1x1, no padding beyond its reach, no more output channels than
    input channels (else g's columns, O*kh*kw rows, outgrow the column gradient, C*kh*kw rows:
    AlexNet's 96 -> 256 5x5 layer, 86 vs 110 ms) and at least 2 C pixels of the batch (else
    the flipped copy of the weights costs more than it saves: ResNet-18's 512-channel 2x2
    layer, 3.9 vs 5.5 ms). Measured with benchmarks/models.py's shapes, one thread."""
    o, cg, kh, kw = weight_shape
    (n, c, h, w), _, padding, stride, dilation, _, groups = geometry
    return (groups == 1 and tuple(stride) == (1, 1) and kh * kw > 1 and o <= c
            and n * h * w >= 2 * c and flipped_padding((kh, kw), padding, dilation) is not None)


class Conv2d(reference.Conv2d):
    """ops.conv.Conv2d in the batch-last layout with blocked products (NumPy only)."""

    relu = False  # Conv2dReLU sets it: max(0, .) fused into the pass that adds the bias
    kernels = False  # KernelConv2d sets it: the compiled elementwise passes and im2col blocks

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        g, og = groups, o // groups
        oh = out_size(h, kh, stride[0], sum(padding[0]), dilation[0])
        ow = out_size(w, kw, stride[1], sum(padding[1]), dilation[1])
        (pt, pb), (pl, pr) = padding
        k, m = cg * kh * kw, n * oh * ow
        self.weight, needs = weight, self.needs_input_grad
        self.geometry = (x.shape, (c, h + pt + pb, w + pl + pr, n), padding, stride, dilation,
                         (oh, ow), g)
        self.cols = self.xt = None
        out = np.empty((g, og, m), dtype=np.result_type(x, weight))  # (G, Og, OH*OW*N)
        wmat = weight.reshape(g, og, k)
        kernel_path = self.kernels
        if kernel_path:
            # a batch-first input (the data) is copied batch-last first: the kernel then reads
            # contiguous runs over the batch (3x faster than gathering across images)
            xt = np.ascontiguousarray(x.transpose(1, 2, 3, 0))
            _matmul_blocks(wmat, self._column_blocks(xt), out)
            if needs and needs[1]:
                self.xt = xt  # backward builds the columns again, block by block
        else:
            buffer = columns(batch_last_padded(x, padding), (kh, kw), (oh, ow), stride,
                             dilation)
            _matmul_blocks(wmat, _column_blocks_of(buffer.reshape(g, k, m)), out)
            if needs and needs[1]:
                self.cols = buffer  # only the weight gradient reads it; back to SCRATCH in __del__
            else:
                SCRATCH.give(buffer)
        out = out.reshape(o, m)
        if kernel_path and (bias is not None or self.relu):
            bias_or_none = np.zeros(o, out.dtype) if bias is None else np.ascontiguousarray(bias)
            kernels.bias_relu(out, bias_or_none, bias is not None, self.relu, out.dtype.type(0))
        else:
            if bias is not None:
                out += bias[:, None]
            if self.relu:
                relu(out, out=out)  # one fresh buffer: safe in place
        return out.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)

    def _column_blocks(self, xt):
        """The im2col matrix (C*kh*kw, OH*OW*N) one GEMM block of columns at a time (compiled
        kernel), each built in the same small scratch array while the product that reads it
        finds it in the cache: yields (start, end, block). The whole matrix (10 MB for LeNet's
        first layer at batch 128) is never written, and backward builds the blocks again."""
        _, _, padding, stride, dilation, out_hw, _ = self.geometry
        return column_blocks(xt, self.weight.shape[2:], out_hw, stride, dilation, padding)

    def backward(self, grad):
        (n, c, h, w), (_, hp, wp, _), padding, stride, dilation, (oh, ow), g = self.geometry
        weight, needs = self.weight, self.needs_input_grad
        o, cg, kh, kw = weight.shape
        og, m = o // g, n * oh * ow
        # (N, O, OH, OW) -> (G, Og, OH*OW*N); no copy when grad is batch-last in memory
        gmat = grad.transpose(1, 2, 3, 0).reshape(g, og, m)
        gx = gw = gb = None
        if len(needs) > 2 and needs[2]:
            gb = gmat.sum(axis=2).reshape(o)
        if needs[1]:
            # (cols @ g^T)^T: the same product as g @ cols^T, but OpenBLAS runs this
            # orientation ~1.5x faster for few output channels (measured). With no more
            # columns than weights per filter, the transposing copy of the (K, O) result costs
            # more than that (ResNet-18's 512-channel 2x2 layer at batch 16: 15.0 ms with it,
            # 4.6 without), so g @ cols^T lands in the weight's order directly.
            if self.cols is not None:
                blocks, dtype = _column_blocks_of(self.cols.reshape(g, -1, m)), self.cols.dtype
            else:  # the kernel path kept no columns: the same blocks are built again
                blocks, dtype = self._column_blocks(self.xt), self.xt.dtype
            rows, dtype = cg * kh * kw, np.result_type(dtype, gmat)
            if m <= rows:
                gw = _matmul_nt_blocks(blocks, gmat, rows, dtype, swap=True)
            else:
                gw = np.ascontiguousarray(_matmul_nt_blocks(blocks, gmat, rows, dtype)
                                          .transpose(0, 2, 1))
            gw = gw.reshape(o, cg, kh, kw)
        if needs[0] and input_gradient_as_convolution_fits(self.weight.shape, self.geometry):
            gx = self._input_gradient_as_convolution(grad)
        elif needs[0]:
            wmat = weight.reshape(g, og, cg * kh * kw)
            buffer = SCRATCH.take((c, kh, kw, oh, ow, n), grad.dtype)
            _matmul_blocks(wmat.transpose(0, 2, 1), _column_blocks_of(gmat),
                           buffer.reshape(g, -1, m))
            dcols = buffer
            (pt, _), (pl, _) = padding
            if self.kernels:
                gx = np.empty((c, h, w, n), dtype=grad.dtype)
                kernels.col2im(dcols, gx, *stride, *dilation, pt, pl)
            else:
                # col2im: each kernel tap adds its (C, OH, OW, N) block back where it was read
                dxp = np.zeros((c, hp, wp, n), dtype=grad.dtype)
                for i in range(kh):
                    for j in range(kw):
                        rows, cols_ = offset_slices(i, j, oh, ow, stride, dilation)
                        dxp[:, rows, cols_] += dcols[:, i, j]
                gx = dxp[:, pt:pt + h, pl:pl + w]
            gx = gx.transpose(3, 0, 1, 2)
            SCRATCH.give(buffer)
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)

    def _input_gradient_as_convolution(self, grad):
        """A stride-1 convolution's input gradient as a convolution of the output gradient with
        the filters flipped and their two channel axes swapped, over g padded by d(k-1) - p:

            gx[c, y, x] = sum_{o, i, j} W[o, c, kh-1-i, kw-1-j] * g_pad[o, y + d*i, x + d*j]

        Its columns (O*kh*kw, H*W*N) are built like the forward's (block by block on the kernel
        path), and the product sums O*kh*kw terms per number. The col2im route instead writes
        the (C*kh*kw, OH*OW*N) column gradient (kh*kw times the input's size, 37 MB for a
        16-channel 32x32 layer at batch 64) from a product summing only O terms, then reads it
        back tap by tap. Same gradient to float rounding (another summation order); the NumPy
        and kernel paths build the same columns, so they stay equal bit for bit."""
        (n, c, h, w), _, padding, _, dilation, _, _ = self.geometry
        o, _, kh, kw = self.weight.shape
        q = flipped_padding((kh, kw), padding, dilation)
        flipped = self.weight.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
        wmat = np.ascontiguousarray(flipped).reshape(1, c, o * kh * kw)
        out = np.empty((1, c, h * w * n), dtype=np.result_type(grad, wmat))
        if self.kernels:
            gt = np.ascontiguousarray(grad.transpose(1, 2, 3, 0))
            _matmul_blocks(wmat, column_blocks(gt, (kh, kw), (h, w), (1, 1), dilation, q), out)
        else:
            buffer = columns(batch_last_padded(grad, q), (kh, kw), (h, w), (1, 1), dilation)
            _matmul_blocks(wmat, _column_blocks_of(buffer.reshape(1, -1, h * w * n)), out)
            SCRATCH.give(buffer)
        return out.reshape(c, h, w, n).transpose(3, 0, 1, 2)

    def __del__(self):
        # the graph is gone (after backward, or never used): the columns can serve the next step.
        # Not freed in backward itself, which may run again with retain_graph=True.
        cols = getattr(self, "cols", None)
        if cols is not None and SCRATCH is not None:  # SCRATCH is None at interpreter exit
            SCRATCH.give(cols)


class Conv2dReLU(Conv2d):
    """max(0, conv2d(x)): the ReLU applied in place on the convolution's fresh output, in the
    same pass as the bias (no second array, no stored mask: out > 0 is exactly where the ReLU
    lets the gradient through)."""

    relu = True

    def forward(self, x, weight, bias=None, **geometry):
        out = super().forward(x, weight, bias, **geometry)
        self.out = out if self.needs_input_grad else None
        return out

    def backward(self, grad):
        if not self.kernels:
            return super().backward(grad * (self.out > 0))  # 0 at 0, as PyTorch's ReLU
        # both (N, O, OH, OW) views of batch-last memory: as (O, OH*OW*N) matrices, no copy
        n, o = grad.shape[:2]
        g2 = np.ascontiguousarray(grad.transpose(1, 2, 3, 0)).reshape(o, -1)
        dtype = np.result_type(grad, self.out)
        masked = np.empty(g2.shape, dtype=dtype)
        kernels.relu_grad(g2, self.out.transpose(1, 2, 3, 0).reshape(o, -1), masked,
                          dtype.type(0), dtype.type(1))
        return super().backward(masked.reshape(o, *grad.shape[2:], n).transpose(3, 0, 1, 2))

    def vjp(self, g):
        # ReLU's vjp (g times its constant mask), then Conv2d's: the unfused composition's
        return super().vjp(g * constant((self.out > 0).astype(g.array.dtype)))


class KernelConv2d(Conv2d):
    """Conv2d with the compiled kernels (the same numbers, bit for bit)."""

    kernels = True


class KernelConv2dReLU(Conv2dReLU):
    kernels = True


speeds_up(reference.Conv2d)(Conv2d)
speeds_up(reference.Conv2d, when=kernels_for)(KernelConv2d)
speeds_up(("conv2d", "relu"))(Conv2dReLU)
speeds_up(("conv2d", "relu"), when=kernels_for)(KernelConv2dReLU)
