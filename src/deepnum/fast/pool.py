"""Max pooling in one compiled pass (deepnum.jit): each window's maximum and its winning tap
(a uint8) are found together, scanned with PyTorch's rule, and backward sends each gradient to
its recorded winner in one more pass; the reference (:mod:`deepnum.ops.pool`) finds the winners
again with a few NumPy passes per tap. Same values and gradients (a zero's sign aside), tested.

Arrays here are (planes, H, W, batch): a batch-first input is N*C planes of batch 1, a
batch-last one (a convolution's output, see fast/conv.py) is C planes of batch N; the kernels
see one memory layout, compiled once.
"""

from __future__ import annotations

import numpy as np

from deepnum import fast as wing
from deepnum.fast import jit, speeds_up
from deepnum.ops import pool as reference
from deepnum.ops.pool import _geometry, window_layout


def planes(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """x (N, C, H, W) as a C-contiguous (planes, H, W, batch) array for the kernels, a view when
    x is batch-first (N*C planes of batch 1) or batch-last ((C, H, W, N) already), else a copy
    (the kernels then see one memory layout, compiled once)."""
    if x.flags.c_contiguous:
        n, c, h, w = x.shape
        return x.reshape(n * c, h, w, 1), False
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0)), True


def unplanes(p: np.ndarray, batch_last: bool, n: int) -> np.ndarray:
    """The inverse of :func:`planes` for an array of the same kind."""
    if batch_last:
        return p.transpose(3, 0, 1, 2)
    return p.reshape(n, -1, *p.shape[1:3])


@jit.kernel("x[P,H,W,N] out[P,OH,OW,N] arg[P,OH,OW,N]:int bias[P]", parallel=True,
            where=lambda kh, kw, sh, sw, dh, dw: min(kh, kw, sh, sw, dh, dw) >= 1)
def _max_pool_kernel(x, out, arg, kh, kw, sh, sw, ph, pw, dh, dw, bias, add_bias, relu):
    """out = the maximum of each window of x (planes, H, W, batch), arg = its tap i*kw + j.

    Taps are scanned row-major with PyTorch's rule (take v if v > best or v is NaN): the first
    maximum wins, a NaN wins over numbers (the last NaN, as in torch); padding is never read.
    For a convolution's raw output (see conv_pool), ``add_bias`` compares x + bias[plane], and
    ``relu`` clips the maxima at 0 afterwards: max(relu(x + b)) = relu(max(x + b)).
    """
    c, h, w, n = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for row in jit.prange(c * oh):
        p, oy = row // oh, row % oh
        shift = bias[p]
        for ox in range(ow):
            best, where = out[p, oy, ox], arg[p, oy, ox]  # 1-D rows over the batch
            for b in range(n):  # a window of padding only (padding > kernel/2): -inf, no winner
                best[b] = -np.inf
                where[b] = 0
            first = True
            for i in range(kh):
                y = oy * sh - ph + i * dh
                if y < 0 or y >= h:
                    continue
                for j in range(kw):
                    xx = ox * sw - pw + j * dw
                    if xx < 0 or xx >= w:
                        continue
                    t, src = i * kw + j, x[p, y, xx]
                    for b in range(n):
                        v = src[b] + shift if add_bias else src[b]
                        if first or v > best[b] or v != v:
                            best[b] = v
                            where[b] = t
                    first = False
            if relu:
                for b in range(n):
                    if best[b] < 0:  # NaN stays NaN, as np.maximum(v, 0)
                        best[b] = 0


@jit.kernel("g[P,OH,OW,N] arg[P,OH,OW,N]:int gx[P,H,W,N] out[P,OH,OW,N]", parallel=True,
            where=lambda kh, kw, sh, sw, dh, dw: min(kh, kw, sh, sw, dh, dw) >= 1)
def _max_pool_route_kernel(g, arg, gx, kh, kw, sh, sw, ph, pw, dh, dw, out, relu, zero, one):
    """Disjoint windows: each pixel of a window gets g if it is the window's winner, else 0 (one
    write per pixel; pixels outside every window are left alone). With ``relu``, the winner gets
    g * (out > 0): the gradient of relu(x + b) before the pool, out being the pooled maxima."""
    c, h, w, n = gx.shape
    oh, ow = g.shape[1], g.shape[2]
    for row in jit.prange(c * oh):  # window rows cover disjoint pixel rows
        p, oy = row // oh, row % oh
        for ox in range(ow):
            gw, where, best = g[p, oy, ox], arg[p, oy, ox], out[p, oy, ox]
            for i in range(kh):
                y = oy * sh - ph + i * dh
                if y < 0 or y >= h:
                    continue
                for j in range(kw):
                    xx = ox * sw - pw + j * dw
                    if xx < 0 or xx >= w:
                        continue
                    t, dst = i * kw + j, gx[p, y, xx]
                    if relu:
                        for b in range(n):
                            hit = where[b] == t
                            dst[b] = gw[b] * (one if best[b] > zero else zero) if hit else zero
                    else:
                        for b in range(n):
                            dst[b] = gw[b] if where[b] == t else zero


@jit.kernel("g[P,OH,OW,N] arg[P,OH,OW,N]:int gx[P,H,W,N] out[P,OH,OW,N]", parallel=True,
            where=lambda kh, kw, sh, sw, dh, dw: min(kh, kw, sh, sw, dh, dw) >= 1)
def _max_pool_scatter_kernel(g, arg, gx, kh, kw, sh, sw, ph, pw, dh, dw, out, relu, zero, one):
    """Overlapping windows: gx (zeros) += g at each window's winner (times out > 0 with
    ``relu``). Windows are visited in reverse row-major order, so every pixel adds its windows
    in the NumPy path's tap order."""
    c, h, w, n = gx.shape
    oh, ow = g.shape[1], g.shape[2]
    for p in jit.prange(c):  # windows overlap across rows: one plane per iteration
        for oy in range(oh - 1, -1, -1):
            for ox in range(ow - 1, -1, -1):
                for b in range(n):
                    t = arg[p, oy, ox, b]
                    y = oy * sh - ph + (t // kw) * dh
                    xx = ox * sw - pw + (t % kw) * dw
                    if 0 <= y < h and 0 <= xx < w:
                        v = g[p, oy, ox, b]
                        if relu:
                            v = v * (one if out[p, oy, ox, b] > zero else zero)
                        gx[p, y, xx, b] += v


def max_pool_planes(xs, out_hw, pool, bias=None, relu=False):
    """The compiled max pool of planes xs (P, H, W, B): (maxima, winning taps). With ``bias``
    (one per plane) and ``relu``, of relu(xs + bias) (see conv_pool)."""
    kernel, stride, padding, dilation = pool
    shape = (xs.shape[0], *out_hw, xs.shape[3])
    out = np.empty(shape, dtype=xs.dtype)
    arg = np.empty(shape, dtype=np.uint8 if kernel[0] * kernel[1] <= 256 else np.int32)
    shift = np.zeros(xs.shape[0], xs.dtype) if bias is None else np.ascontiguousarray(bias)
    _max_pool_kernel(xs, out, arg, *kernel, *stride, *padding, *dilation, shift,
                     bias is not None, relu)
    return out, arg


def route_to_winners(gs, arg, in_shape, pool, relu_out=None):
    """The compiled max-pool backward on planes: gx of ``in_shape`` (P, H, W, B) with each
    window's gradient gs sent to its winner ``arg``, times (relu_out > 0) when the pooled maxima
    of a ReLU are given."""
    kernel, stride, padding, dilation = pool
    disjoint, tiles = window_layout(pool, in_shape[1:3], gs.shape[1:3])
    gx = np.empty(in_shape, dtype=gs.dtype) if tiles else np.zeros(in_shape, dtype=gs.dtype)
    route = _max_pool_route_kernel if disjoint else _max_pool_scatter_kernel
    zero = gs.dtype.type(0)
    route(gs, arg, gx, *kernel, *stride, *padding, *dilation,
          gs if relu_out is None else relu_out, relu_out is not None, zero, zero + 1)
    return gx


# The kernels read every window tap as a run of the batch, the arrays' last axis. A batch-last
# input (a convolution's output) with 8 or more samples runs 2-5x faster than the reference's
# NumPy passes (forward + backward, 1 thread: AlexNet's first pool at batch 8, 48.8 vs 9.0 ms;
# VGG's at batch 16, 23.9 vs 5.1 ms; 4 samples, 64 channels 32x32, 1.1 vs 2.1 ms: slower). A
# batch-first one is N*C planes of one sample, runs of one value, 4-6x slower than NumPy's
# (2x2 pool, batch 64, 16 channels 32x32: 18.4 vs 3.3 ms): it runs the reference.
POOL_MIN_BATCH = 8


def _fits(batch) -> bool:
    """The batch condition (the layout one is the forward's); the wing's kernel threshold when
    that is lower (tests set it to 1 to run the kernels on small arrays)."""
    return jit.enabled() and batch >= min(POOL_MIN_BATCH, wing.KERNEL_MIN_BATCH)


class MaxPool2d(reference.MaxPool2d):
    """The reference's max pool, with the compiled forward and backward (batch-last inputs)."""

    kernel = True

    def forward(self, x, kernel_size, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        if x.flags.c_contiguous:  # batch-first, or one sample: runs of one value (see above)
            self.kernel = False
            return super().forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        # the kernels skip taps outside the input, so a ceil-mode window needs only its size
        oh, ow = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
        self.geometry = (kernel_size, stride, padding, dilation)
        return self._forward_kernel(x, oh, ow)

    def _forward_kernel(self, x, oh, ow):
        """One compiled pass: the maximum and the winning tap of every window."""
        xs, batch_last = planes(x)
        out, arg = max_pool_planes(xs, (oh, ow), self.geometry)
        if self.needs_input_grad:
            self.arg, self.shape, self.batch_last = arg, x.shape, batch_last
        return unplanes(out, batch_last, x.shape[0])

    def _backward_kernel(self, g):
        """One compiled pass: each window's gradient goes to its recorded winner."""
        n, c, h, w = self.shape
        if self.batch_last:  # a gradient from Flatten arrives batch-first: copied (10x faster)
            gs = np.ascontiguousarray(g.transpose(1, 2, 3, 0))
        else:
            gs = np.ascontiguousarray(g).reshape(n * c, *g.shape[2:], 1)
        shape = (c, h, w, n) if self.batch_last else (n * c, h, w, 1)
        return unplanes(route_to_winners(gs, self.arg, shape, self.geometry), self.batch_last, n)

    def backward(self, g):
        return self._backward_kernel(g) if self.kernel else super().backward(g)


speeds_up(reference.MaxPool2d, when=_fits)(MaxPool2d)
