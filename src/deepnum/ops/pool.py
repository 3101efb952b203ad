"""Pooling: max, average and adaptive average over 2-D windows, each backward right below.

The lecture's pooling slides an f x f window with stride s and keeps the window's maximum (or mean):
a 4x4 input, max pool 2x2 stride 2 -> 2x2. Instead of copying every window, the loops here run over
the f*f *kernel taps*: tap (i, j) of every window is one strided view of the input, so the max is
f*f vectorised ``np.maximum`` calls and the backward f*f strided adds (no loop over pixels).
With ``ceil_mode`` the output size rounds up (:func:`pool_out_size`), and the input is padded at
the bottom and right as far as the last window reaches, so every tap stays one strided view.

Arrays are NCHW; outputs are allocated in the input's memory order (``order="K"``), so a
convolution's batch-last output (see :mod:`deepnum.ops.conv`) stays batch-last through ReLU and
pooling, where each tap's view then has long contiguous inner runs over the batch.

This is the reference; :mod:`deepnum.fast.pool` does max pooling in one compiled pass that keeps
each window's winner (about 5x faster than finding the winners again here), tested against it.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.errors import ShapeError
from deepnum.ops.conv import offset_slices


def pool_out_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                  ceil_mode: bool = False) -> int:
    """Output length along one axis, PyTorch's rule: (n + 2p - d(k-1) - 1) / s rounded down (up
    with ``ceil_mode``), plus 1. In ceil mode the last window must start inside the input or its
    left padding: one that would start in the right padding is dropped."""
    reach = size + 2 * padding - dilation * (kernel - 1) - 1
    out = -(-reach // stride) + 1 if ceil_mode else reach // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _geometry(x, kernel, stride, padding, dilation, ceil_mode=False):
    """(OH, OW) of a pool over x (N, C, H, W); a ValueError when no window fits."""
    (kh, kw), (ph, pw) = kernel, padding
    oh = pool_out_size(x.shape[2], kh, stride[0], ph, dilation[0], ceil_mode)
    ow = pool_out_size(x.shape[3], kw, stride[1], pw, dilation[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise ShapeError(f"pool: a {kh}x{kw} window (padding {padding}, dilation {dilation}) does "
                         f"not fit an input of spatial size {x.shape[2]}x{x.shape[3]}")
    return oh, ow


def _pads(shape, kernel, stride, padding, dilation, out_hw):
    """((top, bottom), (left, right)): the symmetric ``padding``, plus at the bottom and right
    whatever a ceil-mode last window reaches beyond it, so every tap is one strided slice. The
    extra pixels are never data: -inf for max, 0 and not counted for the mean."""
    pads = []
    for size, k, s, p, d, o in zip(shape[2:], kernel, stride, padding, dilation, out_hw):
        beyond = (o - 1) * s + d * (k - 1) + 1 - (size + 2 * p)
        pads.append((p, p + max(beyond, 0)))
    return tuple(pads)


def _padded(x: np.ndarray, pads, fill: float) -> np.ndarray:
    """x with ((top, bottom), (left, right)) rows and columns of ``fill``, in x's memory order."""
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    shape = (n, c, h + pt + pb, w + pl + pr)
    xp = np.full_like(x, fill, shape=shape) if fill else np.zeros_like(x, shape=shape)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    return xp


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


def window_layout(pool, in_hw, out_hw) -> tuple[bool, bool]:
    """(disjoint, tiles) for pooling windows ``pool`` = (kernel, stride, padding, dilation):
    whether no two windows share a pixel, and whether they also cover every pixel of the input
    exactly (then backward writes every pixel and needs no zero fill)."""
    kernel, stride, padding, dilation = pool
    disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(stride, dilation, kernel))
    tiles = (padding == (0, 0) and dilation == (1, 1) and stride == kernel
             and (out_hw[0] * stride[0], out_hw[1] * stride[1]) == tuple(in_hw))
    return disjoint, tiles


class MaxPool2d(Function):
    """Max over each window; padding counts as -inf. The gradient goes to the first maximum in the
    window (row-major), as in PyTorch; a NaN in a window wins, as in PyTorch. ``ceil_mode`` rounds
    the output size up (see :func:`pool_out_size`): the last window may hang over the edge."""

    def forward(self, x, kernel_size, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        oh, ow = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
        self.geometry = (kernel_size, stride, padding, dilation)
        self.disjoint, self.tiles = window_layout(self.geometry, x.shape[2:], (oh, ow))
        pads = _pads(x.shape, kernel_size, stride, padding, dilation, (oh, ow))
        xp = _padded(x, pads, fill=-np.inf)
        taps = list(_taps(*kernel_size, oh, ow, stride, dilation))
        best = xp[taps[0][1]].copy(order="K")
        for _, where in taps[1:]:
            np.maximum(best, xp[where], out=best)  # propagates NaN, as torch's value does
        if self.needs_input_grad:
            # no argmax is kept: backward finds the winners again by comparing with the max, which
            # costs less than tracking them here with masked copies
            self.xp, self.best, self.taps, self.shape = xp, best, taps, (x.shape, padding)
        return best

    def backward(self, g):
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
    """Mean over each window, PyTorch's divisor: ``divisor_override`` if given; else, with
    ``count_include_pad`` (the default), the window's pixels inside the padded input (kh*kw, less
    only where a ceil-mode window hangs beyond the padding); without it, its real pixels."""

    def forward(self, x, kernel_size, stride, padding=(0, 0), ceil_mode=False,
                count_include_pad=True, divisor_override=None):
        dilation = (1, 1)
        oh, ow = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
        pads = _pads(x.shape, kernel_size, stride, padding, dilation, (oh, ow))
        xp = _padded(x, pads, fill=0.0)
        taps = list(_taps(*kernel_size, oh, ow, stride, dilation))
        total = xp[taps[0][1]].copy(order="K")
        for _, where in taps[1:]:
            total += xp[where]
        kh, kw = kernel_size
        overhang = pads[0][1] > padding[0] or pads[1][1] > padding[1]
        if divisor_override:
            scale = np.asarray(1.0 / divisor_override, dtype=x.dtype)
        elif not overhang and (count_include_pad or not any(padding)):
            scale = np.asarray(1.0 / (kh * kw), dtype=x.dtype)
        else:  # count what each window covers: pool a map of ones the same way
            (ph, pb), (pw, pr) = pads
            h, w = x.shape[2:]
            if count_include_pad:  # the padded input counts, not what hangs beyond it
                ones = _padded(np.ones((1, 1, h + 2 * ph, w + 2 * pw), x.dtype),
                               ((0, pb - ph), (0, pr - pw)), 0.0)
            else:  # only the real pixels
                ones = _padded(np.ones((1, 1, h, w), x.dtype), pads, 0.0)
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
