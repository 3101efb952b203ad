"""Convolution as one matrix product (im2col), its backward right below.

The lecture's convolution slides each filter over the input and takes, at every position, the sum
of the products of the filter with the patch under it, over all input channels:

    out[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, s*y + d*i, s*x + d*j]

(a 6x6x3 input and two 3x3x3 filters give a 4x4x2 output). Copying every patch into one column of a
matrix ("im2col") turns all those sums into a single product, W (O, K) @ cols (K, N*OH*OW), with
K = C*kh*kw ordered like W's (c, i, j). Groups split C and O into G independent blocks: one batched
product. Backward is two more products, gW = g @ cols^T and gcols = W^T @ g, and "col2im": each
kernel tap adds its slice of gcols back where it was read.

The transposed convolution (``ConvTranspose2d``, the generator's upsampling layer) is this input
gradient used as a layer: every input pixel scatters a weighted copy of the filter into the
output, cols = W^T @ x, then col2im. Its backward is a convolution (im2col + products), so each of
the two is the other's gradient, which is also how their double backward (``vjp``, for a gradient
penalty) is written.

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
            gxp = col2im(gcols, (n, c, h + pt + pb, w + pl + pr), stride, dilation)
            gx = gxp[:, :, pt:pt + h, pl:pl + w]
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)

    def vjp(self, g):
        """The same gradients as tensor operations (differentiable again): the input's is the
        transposed convolution of g, the weight's a convolution of x with g as the filter."""
        x, weight = self.parents[0], self.parents[1]
        stride, padding, dilation, groups = _options(self.attributes)
        kernel, size = weight.shape[2:], x.shape[2:]
        # padded rows and columns that no tap reached come back as the transposed
        # convolution's output_padding, so that gx has x's size
        unread = tuple(n + sum(p) - reach(o, k, s, d) for n, p, o, k, s, d in
                       zip(size, padding, g.shape[2:], kernel, stride, dilation))
        gx = ConvTranspose2d.apply(g, weight, stride=stride, padding=padding,
                                   output_padding=unread, dilation=dilation, groups=groups)
        gw = weight_gradient(x, g, padding, kernel, stride, dilation, groups)
        return (gx, gw) if len(self.parents) == 2 else (gx, gw, g.sum((0, 2, 3)))


def reach(size: int, kernel: int, stride: int, dilation: int) -> int:
    """How many input rows a convolution with ``size`` output rows reads: (n-1)s + d(k-1) + 1."""
    return (size - 1) * stride + dilation * (kernel - 1) + 1


def col2im(cols: np.ndarray, shape, stride, dilation) -> np.ndarray:
    """im2col's adjoint: zeros of ``shape`` (N, C, H, W) with each kernel tap's columns (N, C, kh,
    kw, OH, OW) added back where the tap read them (overlapping taps add up)."""
    out = np.zeros(shape, dtype=cols.dtype)
    kh, kw, oh, ow = cols.shape[2:]
    for i in range(kh):
        for j in range(kw):
            rows, columns = offset_slices(i, j, oh, ow, stride, dilation)
            out[:, :, rows, columns] += cols[:, :, i, j]
    return out


def _options(attributes: dict):
    get = attributes.get
    return (get("stride", (1, 1)), get("padding", ((0, 0), (0, 0))), get("dilation", (1, 1)),
            get("groups", 1))


def weight_gradient(x, g, padding, kernel, stride, dilation, groups: int):
    """A convolution's weight gradient as a convolution, on tensors (so it has a gradient too):

        gW[o, c, i, j] = sum_{n, y, x} g[n, o, y, x] * x_pad[n, c, s*y + d*i, s*x + d*j]

    is x with its batch and channel axes swapped, convolved with g as the filter at dilation s
    and stride d (groups: the groups' samples side by side). Cropped to the kernel's size."""
    n, c, h, w = x.shape
    o, oh, ow = g.shape[1:]
    cg = c // groups
    xs = x.reshape(n, groups, cg, h, w).permute(2, 1, 0, 3, 4).reshape(cg, groups * n, h, w)
    gs = g.reshape(n, groups, o // groups, oh, ow).permute(1, 2, 0, 3, 4).reshape(o, n, oh, ow)
    out = Conv2d.apply(xs, gs, stride=dilation, padding=padding, dilation=stride, groups=groups)
    return out.permute(1, 0, 2, 3)[:, :, :kernel[0], :kernel[1]]


class ConvTranspose2d(Function):
    """The transposed convolution: Conv2d's input gradient as a layer. Weight (C, O/G, kh, kw).

    Each input pixel x[n, c, y, x] adds x * W[c, :, i, j] to output pixel (s*y + d*i - p,
    s*x + d*j - p): one product cols = W^T @ x (G, O/G*kh*kw, N*H*W), then col2im onto a canvas of
    (H-1)s + d(k-1) + 1 rows, cropped by the padding; ``output_padding`` rows more at the bottom
    and right (they get only the bias). Output size (H-1)s - pt - pb + d(k-1) + output_padding + 1.
    """

    saves = (0, 1)

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                output_padding=(0, 0), dilation=(1, 1), groups=1):
        n, c, h, w = x.shape
        _, og, kh, kw = weight.shape
        o = og * groups
        (pt, pb), (pl, pr) = padding
        full = (reach(h, kh, stride[0], dilation[0]), reach(w, kw, stride[1], dilation[1]))
        out_hw = (full[0] - pt - pb + output_padding[0], full[1] - pl - pr + output_padding[1])
        # the canvas holds every tap and the output_padding rows (zeros where no tap reaches)
        canvas = (n, o, max(full[0], pt + out_hw[0]), max(full[1], pl + out_hw[1]))
        self.weight, self.geometry = weight, (x.shape, canvas, out_hw)
        xmat = x.transpose(1, 0, 2, 3).reshape(groups, c // groups, n * h * w)
        self.xmat = xmat if self.needs_input_grad and self.needs_input_grad[1] else None
        wmat = weight.reshape(groups, c // groups, og * kh * kw)
        cols = np.matmul(wmat.transpose(0, 2, 1), xmat)   # (G, O/G*kh*kw, N*H*W): the one product
        cols = cols.reshape(groups, og, kh, kw, n, h, w).transpose(4, 0, 1, 2, 3, 5, 6)
        out = col2im(cols.reshape(n, o, kh, kw, h, w), canvas, stride, dilation)
        out = out[:, :, pt:pt + out_hw[0], pl:pl + out_hw[1]]
        if bias is not None:
            out = out + bias.reshape(1, o, 1, 1)
        return np.ascontiguousarray(out)

    def backward(self, grad):
        (n, c, h, w), canvas, (oh, ow) = self.geometry
        stride, padding, dilation, groups = _options(self.attributes)
        (pt, _), (pl, _) = padding
        weight, needs = self.weight, self.needs_input_grad
        _, og, kh, kw = weight.shape
        gp = np.zeros(canvas, dtype=grad.dtype)   # the gradient back on the canvas: a convolution
        gp[:, :, pt:pt + oh, pl:pl + ow] = grad   # of it, with im2col, gives both gradients
        cols = im2col(gp, (kh, kw), (h, w), stride, dilation, groups)  # (G, O/G*kh*kw, N*H*W)
        gx = gw = gb = None
        if needs[0]:
            wmat = weight.reshape(groups, c // groups, og * kh * kw)
            gx = np.matmul(wmat, cols).reshape(c, n, h, w).transpose(1, 0, 2, 3)
        if needs[1]:
            gw = np.matmul(self.xmat, cols.transpose(0, 2, 1)).reshape(c, og, kh, kw)
        if len(needs) > 2 and needs[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)

    def vjp(self, g):
        """The input's gradient is the convolution of g, the weight's the convolution of g (as
        the input) with x as the filter: tensor operations, differentiable again."""
        x, weight = self.parents[0], self.parents[1]
        stride, padding, dilation, groups = _options(self.attributes)
        h, w = x.shape[2:]
        # g placed on the canvas: the padding above (left), the rest of the canvas below (right)
        padding = tuple((p[0], max(reach(n, k, s, d), p[0] + size) - p[0] - size)
                        for p, n, k, s, d, size in zip(padding, (h, w), weight.shape[2:], stride,
                                                       dilation, g.shape[2:]))
        gx = Conv2d.apply(g, weight, stride=stride, padding=padding, dilation=dilation,
                          groups=groups)[:, :, :h, :w]
        gw = weight_gradient(g, x, padding, weight.shape[2:], stride, dilation, groups)
        return (gx, gw) if len(self.parents) == 2 else (gx, gw, g.sum((0, 2, 3)))
