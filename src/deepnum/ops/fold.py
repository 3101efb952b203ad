"""im2col and col2im as differentiable ops (PyTorch's ``unfold`` and ``fold``), each the
other's gradient.

    unfold: (N, C, H, W) -> (N, C*kh*kw, L), column l holding the patch under the window at
            output position l (L = OH * OW), in W's (c, i, j) order: the convolution's columns
    fold:   (N, C*kh*kw, L) -> (N, C, H, W), every column added back where its patch came
            from (overlaps sum): a transposed convolution without the weights

A convolution is ``W.view(O, -1) @ unfold(x)``; the reference convolution (:mod:`.conv`) uses
the same im2col and col2im.
"""

from __future__ import annotations

from deepnum.autograd import Function
from deepnum.ops.conv import col2im, im2col, zero_pad


class Unfold(Function):
    """Sliding blocks of a zero-padded (N, C, H, W) input as columns (N, C*kh*kw, OH*OW)."""

    saves = ()

    def forward(self, x, kernel, dilation, padding, stride, out_hw):
        n, c = x.shape[:2]
        self.shape = x.shape
        cols = im2col(zero_pad(x, padding), kernel, out_hw, stride, dilation, groups=1)
        return cols.reshape(-1, n, out_hw[0] * out_hw[1]).transpose(1, 0, 2).copy()

    def backward(self, g):
        a = self.attributes
        return _fold(g, self.shape, a["kernel"], a["dilation"], a["padding"], a["stride"],
                     a["out_hw"])

    def vjp(self, g):
        a = self.attributes
        return Fold.apply(g, output_size=tuple(self.shape[2:]), kernel=a["kernel"],
                          dilation=a["dilation"], padding=a["padding"], stride=a["stride"],
                          out_hw=a["out_hw"])


def _fold(cols, shape, kernel, dilation, padding, stride, out_hw):
    """col2im of (N, C*kh*kw, L) columns onto a zero-padded canvas, cropped to ``shape``."""
    n, c, h, w = shape
    (pt, pb), (pl, pr) = padding
    blocks = cols.reshape(n, c, kernel[0], kernel[1], out_hw[0], out_hw[1])
    canvas = col2im(blocks, (n, c, h + pt + pb, w + pl + pr), stride, dilation)
    return canvas[:, :, pt:pt + h, pl:pl + w]


class Fold(Function):
    """Columns (N, C*kh*kw, OH*OW) added back into an (N, C, H, W) image, H, W = output_size."""

    saves = ()

    def forward(self, cols, output_size, kernel, dilation, padding, stride, out_hw):
        n, rows = cols.shape[:2]
        shape = (n, rows // (kernel[0] * kernel[1])) + tuple(output_size)
        return _fold(cols, shape, kernel, dilation, padding, stride, out_hw).copy()

    def backward(self, g):
        a = self.attributes
        n, c = g.shape[:2]
        cols = im2col(zero_pad(g, a["padding"]), a["kernel"], a["out_hw"], a["stride"],
                      a["dilation"], groups=1)
        return cols.reshape(-1, n, a["out_hw"][0] * a["out_hw"][1]).transpose(1, 0, 2)

    def vjp(self, g):
        a = self.attributes
        return Unfold.apply(g, kernel=a["kernel"], dilation=a["dilation"], padding=a["padding"],
                            stride=a["stride"], out_hw=a["out_hw"])
