"""Convolution as one matrix product (im2col), its backward right below.

The lecture's convolution slides each filter over the input and takes, at every position, the sum
of the products of the filter with the patch under it, over all input channels:

    out[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, s*y + d*i, s*x + d*j]

(a 6x6x3 input and two 3x3x3 filters give a 4x4x2 output). Copying every patch into one column of a
matrix ("im2col") turns all those sums into a single product, W (O, K) @ cols (K, N*OH*OW), with
K = C*kh*kw ordered like W's (c, i, j). Groups split C and O into G independent blocks: one batched
product. Backward is two more products, gW = g @ cols^T and gcols = W^T @ g, and "col2im": each
kernel tap adds its slice of gcols back where it was read.

This is the reference, written to be read; :mod:`deepnum.fast.conv` computes the same in a memory
layout and with compiled kernels that run several times faster, and is tested against it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from deepnum.autograd import Function


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length along one axis: floor((n + p - d(k-1) - 1) / s) + 1."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def offset_slices(i: int, j: int, oh: int, ow: int, stride, dilation) -> tuple[slice, slice]:
    """Rows and columns that kernel tap (i, j) reads for every output pixel: two strided slices."""
    (sh, sw), (dh, dw) = stride, dilation
    return (slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def zero_pad(x: np.ndarray, padding) -> np.ndarray:
    """(N, C, H, W) with zeros around: padding is ((top, bottom), (left, right))."""
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    return np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))


def im2col(xp: np.ndarray, kernel, out_hw, stride, dilation, groups: int) -> np.ndarray:
    """Every patch of the padded input as a column: (G, C/G * kh * kw, N * OH * OW)."""
    n, c, _, _ = xp.shape
    (kh, kw), (oh, ow) = kernel, out_hw
    sn, sc, sh, sw = xp.strides
    # a (N, C, kh, kw, OH, OW) view of the input: element [n, c, i, j, y, x] is
    # x_pad[n, c, s*y + d*i, s*x + d*j], no copy yet
    patches = as_strided(xp, (n, c, kh, kw, oh, ow),
                         (sn, sc, sh * dilation[0], sw * dilation[1], sh * stride[0],
                          sw * stride[1]), writeable=False)
    cg = c // groups
    patches = patches.reshape(n, groups, cg, kh, kw, oh * ow)
    return patches.transpose(1, 2, 3, 4, 0, 5).reshape(groups, cg * kh * kw, n * oh * ow)


class Conv2d(Function):
    """2-D cross-correlation (what every framework calls convolution) with stride, asymmetric zero
    padding ((top, bottom), (left, right)), dilation and groups. Weight (O, C/G, kh, kw)."""

    saves = (0, 1)

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        oh = out_size(h, kh, stride[0], sum(padding[0]), dilation[0])
        ow = out_size(w, kw, stride[1], sum(padding[1]), dilation[1])
        self.cols = im2col(zero_pad(x, padding), (kh, kw), (oh, ow), stride, dilation, groups)
        self.weight, self.x_shape = weight, x.shape
        self.geometry = (padding, stride, dilation, (oh, ow), groups)
        wmat = weight.reshape(groups, o // groups, cg * kh * kw)
        out = np.matmul(wmat, self.cols)                    # (G, O/G, N*OH*OW): the one product
        out = out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)
        if bias is not None:
            out = out + bias.reshape(1, o, 1, 1)
        return np.ascontiguousarray(out)

    def backward(self, grad):
        padding, stride, dilation, (oh, ow), groups = self.geometry
        (n, c, h, w), weight = self.x_shape, self.weight
        o, cg, kh, kw = weight.shape
        needs = self.needs_input_grad
        gmat = grad.transpose(1, 0, 2, 3).reshape(groups, o // groups, n * oh * ow)
        gw = gx = gb = None
        if needs[1]:
            gw = np.matmul(gmat, self.cols.transpose(0, 2, 1)).reshape(o, cg, kh, kw)
        if len(needs) > 2 and needs[2]:
            gb = grad.sum(axis=(0, 2, 3))
        if needs[0]:
            wmat = weight.reshape(groups, o // groups, cg * kh * kw)
            gcols = np.matmul(wmat.transpose(0, 2, 1), gmat)   # (G, K, N*OH*OW)
            gcols = gcols.reshape(groups, cg, kh, kw, n, oh, ow)
            gcols = gcols.transpose(4, 0, 1, 2, 3, 5, 6).reshape(n, c, kh, kw, oh, ow)
            (pt, pb), (pl, pr) = padding
            gxp = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=grad.dtype)
            for i in range(kh):  # col2im: each tap's gradient back where the tap read
                for j in range(kw):
                    rows, cols = offset_slices(i, j, oh, ow, stride, dilation)
                    gxp[:, :, rows, cols] += gcols[:, :, i, j]
            gx = gxp[:, :, pt:pt + h, pl:pl + w]
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)
