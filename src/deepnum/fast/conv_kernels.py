"""Compiled kernels for the convolution (deepnum.jit): the elementwise passes around the
products, as plain loops that run on all cores. BLAS still does the products.

The NumPy lines they replace are in :mod:`deepnum.fast.conv` and give the same numbers: the
kernels copy the same values, add the bias and the kernel taps in the same order, and every
output element is written by one loop iteration (no sums across threads), so the result does
not depend on the number of threads. Arrays are batch-last, (C, H, W, N) images and
(C, kh, kw, OH, OW, N) columns, as in conv.py; the inner loops run over 1-D rows of the batch
(LLVM vectorises those, not the same loop written with 4-D indices: measured 7x).
"""

from __future__ import annotations

from deepnum.fast import jit


@jit.kernel("out[O,M] bias[O]", parallel=True)
def bias_relu(out, bias, add_bias, relu, zero):
    """out (O, M) += bias[o], then max(out, 0) (NaN stays NaN, as np.maximum), in place.
    ``zero`` is 0 in out's dtype, so float32 stays float32 inside the loop."""
    o, m = out.shape
    step = 4096
    blocks = (m + step - 1) // step
    for task in jit.prange(o * blocks):
        r, s = task // blocks, (task % blocks) * step
        row = out[r, s:min(s + step, m)]
        if add_bias:
            b = bias[r]
            for k in range(row.shape[0]):
                row[k] += b
        if relu:
            for k in range(row.shape[0]):
                if row[k] < zero:
                    row[k] = zero


@jit.kernel("g[O,M] out[O,M] gm[O,M]", parallel=True)
def relu_grad(g, out, gm, zero, one):
    """gm = g * (out > 0) for (O, M) arrays: the ReLU's gradient mask applied in one pass."""
    o, m = g.shape
    step = 4096
    blocks = (m + step - 1) // step
    for task in jit.prange(o * blocks):
        r, s = task // blocks, (task % blocks) * step
        e = min(s + step, m)
        # 1-D row slices: LLVM vectorises these loops, not the 2-D indexing (measured 7x)
        g_row, out_row, gm_row = g[r, s:e], out[r, s:e], gm[r, s:e]
        for k in range(e - s):
            gm_row[k] = g_row[k] * (one if out_row[k] > zero else zero)


@jit.kernel("dcols[C,KH,KW,OH,OW,N] gx[C,H,W,N]", parallel=True,
            where=lambda sh, sw, dh, dw: min(sh, sw, dh, dw) >= 1)
def col2im(dcols, gx, sh, sw, dh, dw, pt, pl):
    """gx (C, H, W, N) = the sum of every tap's columns where the tap read them, padding dropped.
    Each image row is one iteration, its taps added in (i, j) order like the NumPy path."""
    c, h, w, n = gx.shape
    kh, kw, oh, ow = dcols.shape[1], dcols.shape[2], dcols.shape[3], dcols.shape[4]
    for row in jit.prange(c * h):
        ci, yy = row // h, row % h
        for xx in range(w):
            dst = gx[ci, yy, xx]
            for b in range(n):
                dst[b] = 0
        for i in range(kh):
            t = yy + pt - i * dh
            if t < 0 or t % sh != 0 or t // sh >= oh:
                continue
            y = t // sh
            for j in range(kw):
                for xo in range(ow):
                    xx = xo * sw + j * dw - pl
                    if 0 <= xx < w:
                        dst, src = gx[ci, yy, xx], dcols[ci, i, j, y, xo]
                        for b in range(n):
                            dst[b] += src[b]


@jit.kernel("x[C,H,W,N] flat[S] cols[K,B]", parallel=True,
            where=lambda C, H, W, N, S, K, B, start, sh, sw, dh, dw, kh, kw, oh, ow: (
                S == C * H * W * N and K == C * kh * kw
                and min(N, oh, ow, sh, sw, dh, dw) >= 1 and 0 <= start
                and start + B <= oh * ow * N))
def im2col_block(x, flat, cols, start, sh, sw, dh, dw, pt, pl, kh, kw, oh, ow):
    """Columns start .. start + B of the (C*kh*kw, OH*OW*N) im2col matrix into cols (C*kh*kw, B):
    one GEMM block, built while the product reads it from the cache (never the whole matrix).
    ``flat`` is ``x.reshape(-1)``: at stride 1 the output pixels of one row that read inside the
    image read consecutive (W, N) memory, copied as one run (not one run of N per pixel)."""
    c, h, w, n = x.shape
    rows, width = cols.shape
    for k in jit.prange(rows):  # k = (c*kh + i)*kw + j, like W's (c, i, j)
        ci, i, j = k // (kh * kw), (k // kw) % kh, k % kw
        dst = cols[k]
        pixel, b0 = start // n, start % n
        y, xo = pixel // ow, pixel % ow
        pos = 0
        while pos < width:
            yy, xx = y * sh + i * dh - pt, xo * sw + j * dw - pl
            inside = 0 <= yy < h and 0 <= xx < w
            # output pixels (of this row) in the run: while they read inside, or outside, alike
            if inside:
                pixels = min(ow - xo, w - xx) if sw == 1 else 1
            elif not 0 <= yy < h or xx >= w:
                pixels = ow - xo  # the rest of the row reads outside
            else:
                pixels = min(ow - xo, (sw - 1 - xx) // sw)  # those left of the image
            run = min(pixels * n - b0, width - pos)
            # slices, so the copy loop runs from 0: offset indices (pos + b) make Numba check
            # for negative indices and LLVM leave the loop scalar (measured 10x slower)
            out = dst[pos:pos + run]
            if inside:
                first = ((ci * h + yy) * w + xx) * n + b0
                src = flat[first:first + run]
                for b in range(run):
                    out[b] = src[b]
            else:
                for b in range(run):
                    out[b] = 0
            pos += run
            done = b0 + run  # values from the run's first pixel on
            if done == n:  # one whole pixel (no integer division: the usual case at stride 2)
                xo += 1
                b0 = 0
            else:
                xo += done // n
                b0 = done % n
            if xo == ow:
                xo = 0
                y += 1
