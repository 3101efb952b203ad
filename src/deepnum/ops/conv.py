"""Convolution as one matrix product (im2col), its backward right below.

The lecture's convolution slides each filter over the input and takes, at every position, the sum of
the products of the filter with the patch under it, over all input channels:

    out[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, s*y + d*i, s*x + d*j]

(a 6x6x3 input and two 3x3x3 filters give a 4x4x2 output). Copying every patch into one column of a
matrix ("im2col") turns all those sums into a single BLAS product, W (O, K) @ cols (K, N*OH*OW),
with K = C*kh*kw ordered like W's (c, i, j).

Layout. Tensors are NCHW as in PyTorch, but the arrays inside are stored batch-last, (C, H, W, N) in
memory, and shown as NCHW through a transposed *view* (no copy). NumPy pays per inner loop, and a
kernel tap's view of an image (rows i.., columns j.., every sample) then has inner runs of OW*N
contiguous numbers instead of OW: the im2col copy, the col2im adds and every pooling tap run ~3x
faster than in NCHW. The products need no transpose either: the forward's W @ cols lands as
(O, OH, OW, N), the weight gradient is g (O, OH*OW*N) @ cols^T, and the input gradient's columns
W^T @ g are added back tap by tap as whole (C, OH, OW, N) blocks. Elementwise ops and pooling keep
the memory order (NumPy's order="K"), so the next convolution reads its input for free.
Groups split C and O into G independent blocks: one batched product.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from deepnum.autograd import Function


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length along one axis: floor((n + p - d(k-1) - 1) / s) + 1."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


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


def offset_slices(i: int, j: int, oh: int, ow: int, stride, dilation) -> tuple[slice, slice]:
    """Rows and columns that kernel tap (i, j) reads for every output pixel: two strided slices."""
    (sh, sw), (dh, dw) = stride, dilation
    return (slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


class Conv2d(Function):
    """2-D cross-correlation (what every framework calls convolution) with stride, asymmetric zero
    padding ((top, bottom), (left, right)), dilation and groups. Weight (O, C/G, kh, kw)."""

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        g, og = groups, o // groups
        oh = out_size(h, kh, stride[0], sum(padding[0]), dilation[0])
        ow = out_size(w, kw, stride[1], sum(padding[1]), dilation[1])
        xp = batch_last_padded(x, padding)
        # im2col: a (C, kh, kw, OH, OW, N) window view of the (C, Hp, Wp, N) image, copied once
        sc, sh, sw, sn = xp.strides
        windows = as_strided(xp, (c, kh, kw, oh, ow, n),
                             (sc, sh * dilation[0], sw * dilation[1], sh * stride[0],
                              sw * stride[1], sn), writeable=False)
        k, m = cg * kh * kw, n * oh * ow
        cols = np.ascontiguousarray(windows).reshape(g, k, m)
        wmat = weight.reshape(g, og, k)
        if g == 1:
            out = wmat[0] @ cols[0]  # (O, N*OH*OW): a single GEMM
        else:
            out = np.matmul(wmat, cols).reshape(o, m)
        if bias is not None:
            out += bias[:, None]
        needs = self.needs_input_grad
        self.cols = cols if needs and needs[1] else None  # only the weight gradient reads it
        self.weight = weight
        self.geometry = (x.shape, xp.shape, padding, stride, dilation, (oh, ow), g)
        return out.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)

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
            # orientation (long inner dimension last) ~1.5x faster for few output channels
            gw = np.matmul(self.cols, gmat.transpose(0, 2, 1)).transpose(0, 2, 1)
            gw = np.ascontiguousarray(gw).reshape(o, cg, kh, kw)
        if needs[0]:
            wmat = weight.reshape(g, og, cg * kh * kw)
            dcols = np.matmul(wmat.transpose(0, 2, 1), gmat).reshape(c, kh, kw, oh, ow, n)
            # col2im: each kernel tap adds its (C, OH, OW, N) block back where it was read
            dxp = np.zeros((c, hp, wp, n), dtype=grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    rows, cols_ = offset_slices(i, j, oh, ow, stride, dilation)
                    dxp[:, rows, cols_] += dcols[:, i, j]
            (pt, _), (pl, _) = padding
            gx = dxp[:, pt:pt + h, pl:pl + w].transpose(3, 0, 1, 2)
        self.cols = None
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)
