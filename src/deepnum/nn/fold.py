"""Unfold and Fold: sliding blocks of an image as columns (im2col), and back (col2im).

    unfold(x): (N, C, H, W) -> (N, C * kh * kw, L),  L = OH * OW sliding positions
    fold(c):   (N, C * kh * kw, L) -> (N, C, H, W),  overlapping blocks summed

so a convolution is ``(W.view(O, -1) @ F.unfold(x, k)).view(N, O, OH, OW)``, and
``fold(unfold(x))`` multiplies each pixel by the number of blocks that cover it.

>>> F.unfold(dn.randn(2, 3, 8, 8), kernel_size=3).shape      # (2, 27, 36)
"""

from __future__ import annotations

from deepnum.errors import ShapeError
from deepnum.nn.functional_conv import pair
from deepnum.nn.module import Module
from deepnum.ops import fold as fold_ops
from deepnum.ops.conv import out_size
from deepnum.tensor import Tensor


def _options(kernel_size, dilation, padding, stride, layer):
    kernel, dilation = pair(kernel_size, "kernel_size", layer), pair(dilation, "dilation", layer)
    padding, stride = pair(padding, "padding", layer), pair(stride, "stride", layer)
    if min(kernel + dilation + stride) < 1 or min(padding) < 0:
        raise ValueError(f"{layer}: kernel_size, dilation and stride must be positive and padding "
                         f"non-negative, got kernel_size={kernel}, dilation={dilation}, "
                         f"padding={padding}, stride={stride}")
    return kernel, dilation, ((padding[0],) * 2, (padding[1],) * 2), stride


def _blocks(size, kernel, dilation, padding, stride, layer, shape):
    """Sliding positions (OH, OW) for an image of ``size``."""
    blocks = tuple(out_size(n, k, s, sum(p), d) for n, k, s, p, d in
                   zip(size, kernel, stride, padding, dilation))
    if min(blocks) < 1:
        raise ShapeError(f"{layer}: the kernel {kernel} (dilation {dilation}) does not fit the "
                         f"padded image {tuple(size)}, got input of shape {tuple(shape)}")
    return blocks


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every kh x kw patch of (N, C, H, W) (or unbatched (C, H, W)) as a column:
    (N, C*kh*kw, L), rows in (c, i, j) order, columns over positions row by row."""
    if input.ndim not in (3, 4):
        raise ShapeError(f"unfold: expected a 3-D or 4-D input (N, C, H, W), got input of shape "
                         f"{tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    kernel, dilation, padding, stride = _options(kernel_size, dilation, padding, stride,
                                                 "unfold")
    out_hw = _blocks(x.shape[2:], kernel, dilation, padding, stride, "unfold", input.shape)
    out = fold_ops.Unfold.apply(x, kernel=kernel, dilation=dilation, padding=padding,
                                stride=stride, out_hw=out_hw)
    return out.squeeze(0) if input.ndim == 3 else out


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Columns (N, C*kh*kw, L) (or unbatched (C*kh*kw, L)) summed back into (N, C, H, W),
    (H, W) = output_size; L must be the number of sliding positions."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"fold: expected a 2-D or 3-D input (N, C*kh*kw, L), got input of "
                         f"shape {tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    size = pair(output_size, "output_size", "fold")
    kernel, dilation, padding, stride = _options(kernel_size, dilation, padding, stride, "fold")
    if x.shape[1] % (kernel[0] * kernel[1]):
        raise ShapeError(f"fold: expected size of input's dimension 1 to be divisible by the "
                         f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                         f"kernel_size={kernel}")
    out_hw = _blocks(size, kernel, dilation, padding, stride, "fold", input.shape)
    if x.shape[2] != out_hw[0] * out_hw[1]:
        raise ShapeError(f"fold: given output_size={size}, kernel_size={kernel}, "
                         f"dilation={dilation}, stride={stride}, expected size of input's "
                         f"dimension 2 to match the calculated number of sliding blocks "
                         f"{out_hw[0]} * {out_hw[1]} = {out_hw[0] * out_hw[1]}, but got "
                         f"input.size(2)={x.shape[2]}")
    out = fold_ops.Fold.apply(x, output_size=size, kernel=kernel, dilation=dilation,
                              padding=padding, stride=stride, out_hw=out_hw)
    return out.squeeze(0) if input.ndim == 2 else out


class Unfold(Module):
    """Extract sliding blocks as columns (see :func:`unfold`).

    >>> nn.Unfold(kernel_size=(2, 3))(dn.randn(2, 5, 3, 4)).shape     # (2, 30, 4)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _options(kernel_size, dilation, padding, stride, "Unfold")
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Sum columns of sliding blocks back into an image of ``output_size`` (see :func:`fold`).

    >>> nn.Fold(output_size=(4, 5), kernel_size=2)(dn.randn(1, 12, 12)).shape   # (1, 3, 4, 5)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _options(kernel_size, dilation, padding, stride, "Fold")
        pair(output_size, "output_size", "Fold")
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return fold(x, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
