"""Batch normalisation, each direction in one compiled kernel (deepnum.jit) instead of NumPy's
eight to twelve passes through memory in training (:class:`deepnum.ops.norm.BatchNorm`, whose
formulas these are) and two in evaluation (:class:`deepnum.ops.norm.BatchNormEval`: y = x alpha +
beta' in one pass, the same two roundings, so the same bits).

Per channel (one channel per loop iteration, on all cores), the forward reads x twice for the
statistics (the mean, then the sum of (x - mu)^2, as PyTorch's kernel) and once more to write
x_hat and y = gamma x_hat + beta; the backward reads g and x_hat once for dbeta and dgamma and
once more for dx. The sums are accumulated in float64 (as PyTorch's ``acc_type`` for float),
vectorised (``jit.helper(reassociate=True)``), one channel per thread: the result does not
depend on the number of threads, and it differs from NumPy's float32 pairwise sums only by
rounding, closer to PyTorch's (tested against the reference and against PyTorch). The
elementwise passes are the reference's formulas in x's dtype.

Arrays are viewed as (N, C, S): a C-contiguous (N, C, *) array as it is, and the convolution's
batch-last output (memory order C, *, N) as (1, C, S * N). Anything else runs the reference.
"""

from __future__ import annotations

import numpy as np

from deepnum.fast import jit, speeds_up
from deepnum.ops import norm as reference


def channel_view(a: np.ndarray):
    """``a`` (N, C, *) as a C-contiguous (N', C, S) array sharing its memory, or None."""
    if a.flags.c_contiguous:
        return a.reshape(a.shape[0], a.shape[1], -1)
    moved = np.moveaxis(a, 0, -1)  # batch-last memory: C, *, N
    if moved.flags.c_contiguous:
        return moved.reshape(1, a.shape[1], -1)
    return None


# Forward + backward of 64 channels, 1 thread (2 threads), measured: 256 values a channel
# 154 -> 73 us (115 -> 57), 1,024: 355 -> 144 us (283 -> 79), 4,096: 976 -> 310 us (793 -> 165).
# Below 256, or rows shorter than 8 (BatchNorm1d's (N, C)), the kernel call's fixed cost is most of
# the time: those run the reference.
MIN_PER_CHANNEL = 256


def _fits(batch) -> bool:
    return jit.enabled()  # any batch size: what matters is the values per channel (forward)


@speeds_up(reference.BatchNorm, when=_fits)
class KernelBatchNorm(reference.BatchNorm):
    """BatchNorm with gamma and beta, float32/float64, in the kernels' (N, C, S) views."""

    def forward(self, x, weight=None, bias=None, eps=1e-5, momentum=0.1, running_mean=None,
                running_var=None):
        view = channel_view(x)
        if (weight is None or view is None or x.dtype.char not in "fd"
                or weight.dtype != x.dtype or bias.dtype != x.dtype
                or view.shape[2] < 8 or x.size < MIN_PER_CHANNEL * x.shape[1]):
            self.kernel = False
            return super().forward(x, weight, bias, eps, momentum, running_mean, running_var)
        self.kernel = True
        out, xhat = np.empty_like(x), np.empty_like(x)  # x's memory order, as NumPy's ops
        stats = np.empty((2, x.shape[1]), np.float64)  # mean, biased variance
        coef = np.empty((2, x.shape[1]), x.dtype)
        _forward(view, channel_view(xhat), channel_view(out), weight, bias, stats, coef,
                 np.float64(eps))
        mean, var = stats.astype(x.dtype)
        reference.update_running_stats(running_mean, running_var, mean, var, momentum,
                                       x.size // x.shape[1])
        self.xhat, self.weight = xhat, weight
        self.invstd = coef[1]
        return out

    def backward(self, g):
        if not self.kernel:
            return super().backward(g)
        needs, xhat = self.needs_input_grad, self.xhat
        if g.strides != xhat.strides or g.dtype != xhat.dtype:  # into x_hat's memory order
            g = _copy_like(g, xhat)
        gx = np.empty_like(xhat) if needs[0] else xhat  # (not written when not needed)
        sums = np.empty((2, g.shape[1]), g.dtype)  # dbeta, dgamma
        _backward(channel_view(g), channel_view(xhat), channel_view(gx), self.weight,
                  self.invstd, sums, np.empty((3, g.shape[1]), g.dtype), bool(needs[0]))
        return (gx if needs[0] else None, sums[1].copy() if needs[1] else None,
                sums[0].copy() if needs[2] else None)


@speeds_up(reference.BatchNormEval, when=_fits)
class KernelBatchNormEval(reference.BatchNormEval):
    """BatchNormEval whose y = x alpha + beta' is one compiled pass (float32/float64, the
    kernels' (N, C, S) views, rows of 8 or more); its backward is the reference's."""

    @staticmethod
    def affine(x, alpha, shift):
        view = channel_view(x)
        if view is None or x.dtype.char not in "fd" or view.shape[2] < 8:
            return reference.BatchNormEval.affine(x, alpha, shift)
        out = np.empty_like(x)  # x's memory order, as NumPy's ops
        _affine(view, channel_view(out), alpha, shift)
        return out


def _copy_like(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    out = np.empty_like(like)
    out[...] = a
    return out


@jit.kernel("x[N,C,S] xhat[N,C,S] out[N,C,S] weight[C] bias[C] stats[2,C] coef[2,C]",
            parallel=True)
def _forward(x, xhat, out, weight, bias, stats, coef, eps):
    """stats = (mean, biased variance) in float64; coef = (mean, 1/sqrt(var + eps)) rounded to
    x's dtype, in which x_hat = (x - mean) * invstd and y = x_hat * gamma + beta are computed."""
    n, c, s = x.shape
    count = n * s
    for ch in jit.prange(c):
        total = 0.0
        for i in range(n):
            total += _sum(x[i, ch], 0.0, False)
        mean = total / count
        total = 0.0
        for i in range(n):
            total += _sum(x[i, ch], mean, True)
        var = total / count
        stats[0, ch], stats[1, ch] = mean, var
        coef[0, ch], coef[1, ch] = mean, 1 / np.sqrt(var + eps)  # stored: rounded to x's dtype
        m, r, w, b = coef[0, ch], coef[1, ch], weight[ch], bias[ch]
        for i in range(n):
            row, h_row, o_row = x[i, ch], xhat[i, ch], out[i, ch]
            for k in range(s):
                h = (row[k] - m) * r
                h_row[k] = h
                o_row[k] = h * w + b


@jit.kernel("g[N,C,S] xhat[N,C,S] gx[N,C,S] weight[C] invstd[C] sums[2,C] coef[3,C]",
            parallel=True)
def _backward(g, xhat, gx, weight, invstd, sums, coef, input_grad):
    """sums = (dbeta, dgamma); gx = invstd gamma (g - dbeta / n - x_hat dgamma / n), in g's
    dtype (coef holds those three factors rounded to it)."""
    n, c, s = g.shape
    count = n * s
    for ch in jit.prange(c):
        gbeta, ggamma = 0.0, 0.0
        for i in range(n):
            gbeta += _sum(g[i, ch], 0.0, False)
            ggamma += _dot(g[i, ch], xhat[i, ch])
        sums[0, ch], sums[1, ch] = gbeta, ggamma
        if input_grad:
            coef[0, ch] = invstd[ch] * weight[ch]
            coef[1, ch], coef[2, ch] = gbeta / count, ggamma / count
            scale, mb, mg = coef[0, ch], coef[1, ch], coef[2, ch]
            for i in range(n):
                g_row, h_row, gx_row = g[i, ch], xhat[i, ch], gx[i, ch]
                for k in range(s):
                    gx_row[k] = scale * (g_row[k] - mb - h_row[k] * mg)


@jit.kernel("x[N,C,S] out[N,C,S] alpha[C] shift[C]", parallel=True)
def _affine(x, out, alpha, shift):
    """out = x * alpha + shift per channel: a multiply, then an add (each rounded, as NumPy's
    two operations: not fused into one multiply-add)."""
    n, c, s = x.shape
    for task in jit.prange(n * c):
        i, ch = task // c, task % c
        a, b = alpha[ch], shift[ch]
        row, o_row = x[i, ch], out[i, ch]
        for k in range(s):
            v = row[k] * a
            o_row[k] = v + b


@jit.helper(reassociate=True)
def _sum(row, shift, square):
    """sum(row) or sum((row - shift)^2), accumulated in float64."""
    total = 0.0
    for k in range(row.shape[0]):
        v = row[k] - shift
        total += v * v if square else v
    return total


@jit.helper(reassociate=True)
def _dot(a, b):
    """sum(a * b), accumulated in float64."""
    total = 0.0
    for k in range(a.shape[0]):
        total += np.float64(a[k]) * b[k]
    return total
