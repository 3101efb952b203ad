"""Pooling: max, average and adaptive average over 2-D windows, each backward right below.

The lecture's pooling slides an f x f window with stride s and keeps the window's maximum (or mean):
a 4x4 input, max pool 2x2 stride 2 -> 2x2. Instead of copying every window, the loops here run over
the f*f *kernel taps*: tap (i, j) of every window is one strided view of the input, so the max is
f*f vectorised ``np.maximum`` calls and the backward f*f strided adds (no loop over pixels).

Arrays are NCHW; outputs are allocated in the input's memory order (``order="K"``), so a
convolution's batch-last output (see :mod:`deepnum.ops.conv`) stays batch-last through ReLU and
pooling, where each tap's view then has long contiguous inner runs over the batch.

With the compiled kernels (deepnum.jit), max pooling is one pass that keeps each window's maximum
and its winning tap (a uint8), scanned with PyTorch's rule, and backward one pass that sends each
gradient to its winner (~5x faster than the NumPy path, which finds the winners again with a
few passes per tap); same values and gradients.
"""

from __future__ import annotations

import numpy as np

from deepnum import jit
from deepnum.autograd import Function
from deepnum.ops.conv import offset_slices, out_size, use_kernels


def _padded(x: np.ndarray, ph: int, pw: int, fill: float) -> np.ndarray:
    """x with ph rows and pw columns of ``fill`` on each side, in x's memory order."""
    if not (ph or pw):
        return x
    n, c, h, w = x.shape
    xp = np.full_like(x, fill, shape=(n, c, h + 2 * ph, w + 2 * pw)) if fill else \
        np.zeros_like(x, shape=(n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def _geometry(x, kernel, stride, padding, dilation):
    (kh, kw), (ph, pw) = kernel, padding
    oh = out_size(x.shape[2], kh, stride[0], 2 * ph, dilation[0])
    ow = out_size(x.shape[3], kw, stride[1], 2 * pw, dilation[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"pool: a {kh}x{kw} window (padding {padding}, dilation {dilation}) does "
                         f"not fit an input of spatial size {x.shape[2]}x{x.shape[3]}")
    return oh, ow


def _taps(kh: int, kw: int, oh: int, ow: int, stride, dilation):
    """(tap index, (row slice, column slice)) for every kernel tap, row-major like the window."""
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, (slice(None), slice(None)) + offset_slices(i, j, oh, ow, stride,
                                                                         dilation)


def _first_hits(xp, best, taps):
    """Per tap, where it holds its window's maximum and no earlier tap did (torch's tie rule)."""
    free = None  # windows whose maximum is still unclaimed
    for t, (_, where) in enumerate(taps):
        hit = xp[where] == best
        if free is None:
            free = ~hit
        else:
            hit &= free
            if t < len(taps) - 1:
                free ^= hit
        yield hit


def _torch_scan_hits(xp, taps):
    """Per tap, whether torch's scan (take val if val > max or isnan(val)) ends on it: the same as
    _first_hits without NaNs; with a NaN, the last NaN of the window wins."""
    best = xp[taps[0][1]].copy(order="K")
    arg = np.zeros_like(best, dtype=np.int32)
    for t, (_, where) in enumerate(taps[1:], start=1):
        v = xp[where]
        win = (v > best) | np.isnan(v)
        np.copyto(best, v, where=win)
        arg[win] = t
    return (arg == t for t in range(len(taps)))


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


def window_layout(pool, in_hw, out_hw) -> tuple[bool, bool]:
    """(disjoint, tiles) for pooling windows ``pool`` = (kernel, stride, padding, dilation):
    whether no two windows share a pixel, and whether they also cover every pixel of the input
    exactly (then backward writes every pixel and needs no zero fill)."""
    kernel, stride, padding, dilation = pool
    disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(stride, dilation, kernel))
    tiles = (padding == (0, 0) and dilation == (1, 1) and stride == kernel
             and (out_hw[0] * stride[0], out_hw[1] * stride[1]) == tuple(in_hw))
    return disjoint, tiles


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


class MaxPool2d(Function):
    """Max over each window; padding counts as -inf. The gradient goes to the first maximum in the
    window (row-major), as in PyTorch; a NaN in a window wins, as in PyTorch."""

    def forward(self, x, kernel_size, stride, padding=(0, 0), dilation=(1, 1)):
        oh, ow = _geometry(x, kernel_size, stride, padding, dilation)
        self.geometry = (kernel_size, stride, padding, dilation)
        if use_kernels(x.shape[0]):  # batches from 48 (below, thread launches cost more)
            return self._forward_kernel(x, oh, ow)
        self.disjoint, self.tiles = window_layout(self.geometry, x.shape[2:], (oh, ow))
        xp = _padded(x, *padding, fill=-np.inf)
        taps = list(_taps(*kernel_size, oh, ow, stride, dilation))
        best = xp[taps[0][1]].copy(order="K")
        for _, where in taps[1:]:
            np.maximum(best, xp[where], out=best)  # propagates NaN, as torch's value does
        if self.needs_input_grad:
            # no argmax is kept: backward finds the winners again by comparing with the max, which
            # costs less than tracking them here with masked copies
            self.xp, self.best, self.taps, self.shape = xp, best, taps, (x.shape, padding)
        return best

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
        if hasattr(self, "arg"):
            return self._backward_kernel(g)
        (n, c, h, w), (ph, pw) = self.shape
        xp, best, taps = self.xp, self.best, self.taps
        nan = np.isnan(best).any()
        hits = _torch_scan_hits(xp, taps) if nan else _first_hits(xp, best, taps)
        gx = np.empty_like(xp) if self.tiles else np.zeros_like(xp)
        for (_, where), hit in zip(taps, hits):
            view = gx[where]
            if self.disjoint:  # each pixel is in one window: write, no read
                np.multiply(g, hit, out=view)
            else:  # overlapping windows share pixels: add
                view += g * hit
        return gx[:, :, ph:ph + h, pw:pw + w]


class AvgPool2d(Function):
    """Mean over each window. With ``count_include_pad`` (PyTorch's default) the divisor is always
    kh*kw; without it, only the real (unpadded) pixels of the window are counted."""

    def forward(self, x, kernel_size, stride, padding=(0, 0), count_include_pad=True,
                divisor_override=None):
        dilation = (1, 1)
        oh, ow = _geometry(x, kernel_size, stride, padding, dilation)
        xp = _padded(x, *padding, fill=0.0)
        taps = list(_taps(*kernel_size, oh, ow, stride, dilation))
        total = xp[taps[0][1]].copy(order="K")
        for _, where in taps[1:]:
            total += xp[where]
        kh, kw = kernel_size
        if divisor_override:
            scale = np.asarray(1.0 / divisor_override, dtype=x.dtype)
        elif count_include_pad or not any(padding):
            scale = np.asarray(1.0 / (kh * kw), dtype=x.dtype)
        else:  # count the real pixels under each window: pool a map of ones the same way
            ones = _padded(np.ones((1, 1) + x.shape[2:], dtype=x.dtype), *padding, fill=0.0)
            count = sum(ones[where] for _, where in taps)
            scale = (1.0 / count).astype(x.dtype)
        total *= scale
        self.scale, self.taps, self.xshape = scale, taps, (x.shape, xp.shape, padding)
        return total

    def backward(self, g):
        (n, c, h, w), shape_p, (ph, pw) = self.xshape
        gs = g * self.scale
        gx = np.zeros_like(g, shape=shape_p)
        for _, where in self.taps:
            gx[where] += gs
        return gx[:, :, ph:ph + h, pw:pw + w]


def adaptive_bins(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) averaging matrix: row i averages [floor(i*size/out), ceil((i+1)*size/out))."""
    a = np.zeros((out, size), dtype=dtype)
    for i in range(out):  # out is the small output size, not a pixel loop over the data
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        a[i, start:end] = 1.0 / (end - start)
    return a


class AdaptiveAvgPool2d(Function):
    """Average into a fixed output grid whatever the input size, PyTorch's bins. A mean over a
    rectangle is separable, so it is two small matrix products: out = A_h x A_w^T."""

    def forward(self, x, output_size):
        (oh, ow), (h, w) = output_size, x.shape[2:]
        self.ah, self.aw = adaptive_bins(h, oh, x.dtype), adaptive_bins(w, ow, x.dtype)
        return np.einsum("ph,nchw,qw->ncpq", self.ah, x, self.aw, optimize=True)

    def backward(self, g):
        return np.einsum("ph,ncpq,qw->nchw", self.ah, g, self.aw, optimize=True)
