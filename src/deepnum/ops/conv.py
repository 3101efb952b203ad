"""Convolution as one matrix product (im2col), its backward right below.

The lecture's convolution slides each filter over the input and takes, at every position, the sum of
the products of the filter with the patch under it, over all input channels:

    out[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, s*y + d*i, s*x + d*j]

(a 6x6x3 input and two 3x3x3 filters give a 4x4x2 output). Copying every patch into one row of a
matrix ("im2col") turns all those sums into a single BLAS product, cols @ W^T.

Layout. Tensors are NCHW as in PyTorch. Inside, the image is read channels-last (N, H, W, C): each
patch row is ordered (kh, kw, C) and the product (N*OH*OW, K) @ (K, O) lands directly as
(N, OH, OW, O). The output is that array seen as NCHW through a transposed *view*, so no copy is made;
elementwise ops keep the memory order (NumPy's order="K") and the next convolution reads it
channels-last for free. Groups split C and O into G independent blocks: one batched product.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from deepnum.autograd import Function


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length along one axis: floor((n + p - d(k-1) - 1) / s) + 1."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def channels_last_padded(x: np.ndarray, padding, fill=0.0) -> np.ndarray:
    """(N, C, H, W) -> (N, H + pt + pb, W + pl + pr, C); a view when there is no padding."""
    xt = x.transpose(0, 2, 3, 1)
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return xt
    n, h, w, c = xt.shape
    out = np.zeros if fill == 0 else np.empty  # calloc'd zeros are free until touched
    xp = out((n, h + pt + pb, w + pl + pr, c), dtype=x.dtype)
    if fill != 0:
        xp.fill(fill)
    xp[:, pt:pt + h, pl:pl + w, :] = xt
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
        g = groups
        oh = out_size(h, kh, stride[0], sum(padding[0]), dilation[0])
        ow = out_size(w, kw, stride[1], sum(padding[1]), dilation[1])
        xp = channels_last_padded(x, padding)
        # windows (G, N, OH, OW, kh, kw, Cg) over the channels-last image, then one copy: im2col
        sn, sh_, sw_, sc = xp.strides
        windows = as_strided(
            xp, (g, n, oh, ow, kh, kw, cg),
            (sc * cg, sn, sh_ * stride[0], sw_ * stride[1], sh_ * dilation[0], sw_ * dilation[1],
             sc), writeable=False)
        k = kh * kw * cg
        cols = np.ascontiguousarray(windows).reshape(g, n * oh * ow, k)
        # W as (G, K, Og) with K ordered (kh, kw, Cg) like the patch rows
        wmat = weight.reshape(g, o // g, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(g, k, o // g)
        if g == 1:
            out = cols[0] @ wmat[0]  # (N*OH*OW, O): a single GEMM
        else:
            out = np.matmul(cols, wmat).transpose(1, 0, 2).reshape(n * oh * ow, o)
        if bias is not None:
            out += bias
        needs = self.needs_input_grad
        self.cols = cols if needs and needs[1] else None  # only the weight gradient reads it
        self.wmat = wmat
        self.geometry = (x.shape, xp.shape, padding, stride, dilation, (oh, ow), (kh, kw))
        return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)

    def backward(self, grad):
        (n, c, h, w), (_, hp, wp, _), padding, stride, dilation, (oh, ow), (kh, kw) = \
            self.geometry
        g, _, og = self.wmat.shape
        needs = self.needs_input_grad
        # (N, O, OH, OW) -> (G, N*OH*OW, Og); no copy when grad is channels-last in memory
        gmat = grad.transpose(0, 2, 3, 1).reshape(n * oh * ow, g, og).transpose(1, 0, 2)
        gx = gw = gb = None
        if len(needs) > 2 and needs[2]:
            gb = gmat.sum(axis=1).reshape(g * og)
        if needs[1]:
            gw = np.matmul(gmat.transpose(0, 2, 1), self.cols)  # (G, Og, K)
            gw = gw.reshape(g, og, kh, kw, c // g).transpose(0, 1, 4, 2, 3)
            gw = np.ascontiguousarray(gw).reshape(g * og, c // g, kh, kw)
        if needs[0]:
            dcols = np.matmul(gmat, self.wmat.transpose(0, 2, 1))  # (G, N*OH*OW, K)
            dcols = dcols.reshape(g, n, oh, ow, kh, kw, c // g)
            # col2im: each kernel tap adds its column block back where it was read (kh*kw adds)
            dxp = np.zeros((n, hp, wp, g, c // g), dtype=grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    rows, cols_ = offset_slices(i, j, oh, ow, stride, dilation)
                    dxp[:, rows, cols_] += dcols[:, :, :, :, i, j].transpose(1, 2, 3, 0, 4)
            (pt, _), (pl, _) = padding
            gx = dxp.reshape(n, hp, wp, c)[:, pt:pt + h, pl:pl + w].transpose(0, 3, 1, 2)
        self.cols = self.wmat = None
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)
