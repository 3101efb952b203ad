"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (and the 1-D max/avg pools).

The lecture's pooling has two hyperparameters and no weights: the filter size f and the stride s.
Each f x f window of each channel becomes one number, its maximum (max pooling) or its mean
(average pooling); output size floor((n + 2p - f) / s) + 1 (``ceil_mode=True`` rounds up instead,
keeping a last, partial window, as GoogLeNet's pools do). It shrinks the image (less computation,
fewer parameters in the layers after it) and gives some translation invariance.

>>> pool = nn.MaxPool2d(2, 2)                # "max pool with 2x2 filters and stride 2"
>>> pool(dn.randn(1, 1, 4, 4)).shape          # (1, 1, 2, 2)
"""

from __future__ import annotations

from deepnum.nn import functional as F
from deepnum.nn.functional_conv import pair
from deepnum.nn.module import Module
from deepnum.tensor import Tensor


def _check_pool_args(layer: str, kernel_size, stride, padding, dims: int = 2):
    """Validate at construction: positive kernel and stride, 0 <= padding <= kernel/2 (PyTorch's
    rule: a window must always see at least one real pixel)."""
    def as_pair(v, name, height=1):  # a 1-D value as the 2-D one of a height-1 image
        return (height, pair(v, name, layer)[0]) if dims == 1 else pair(v, name, layer)

    kernel = as_pair(kernel_size, "kernel_size")
    step = kernel if stride is None else as_pair(stride, "stride")
    pad = as_pair(padding, "padding", height=0)
    if min(kernel) < 1:
        raise ValueError(f"{layer}: kernel_size must be positive, got {kernel_size!r}")
    if min(step) < 1:
        raise ValueError(f"{layer}: stride must be positive, got {stride!r}")
    if min(pad) < 0 or any(2 * p > k for p, k in zip(pad, kernel)):
        raise ValueError(f"{layer}: padding must be between 0 and half the kernel size "
                         f"({kernel_size!r}), got {padding!r}")


class _Pool(Module):
    def _check(self, x: Tensor, dims: int = 2) -> None:
        if x.ndim not in (dims + 1, dims + 2):
            shape = "(N, C, H, W)" if dims == 2 else "(N, C, L)"
            raise F.shape_error(self, f"input of shape {shape} or {shape.replace('N, ', '')}",
                                x.shape)


def _check_dilation(layer: str, dilation) -> None:
    if min(pair(dilation, "dilation", layer)) < 1:
        raise ValueError(f"{layer}: dilation must be positive, got {dilation!r}")


def _check_no_indices(layer: str, return_indices) -> None:
    if return_indices:
        raise ValueError(f"{layer}: return_indices=True is not supported")


class MaxPool2d(_Pool):
    """Keep the maximum of each window; padding counts as -inf. ``stride`` defaults to
    ``kernel_size``. Backward sends each gradient to the window's (first) maximum. With
    ``ceil_mode`` the output size rounds up: a last window may hang over the edge (it must start
    inside the input or its left padding), and only its real pixels compete.

    >>> nn.MaxPool2d(kernel_size=3, stride=2)(dn.randn(1, 96, 55, 55)).shape  # AlexNet: 27x27
    >>> nn.MaxPool2d(3, 2, ceil_mode=True)(dn.randn(1, 64, 112, 112)).shape  # GoogLeNet: 56x56
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        _check_pool_args("MaxPool2d", kernel_size, stride, padding)
        _check_dilation("MaxPool2d", dilation)
        _check_no_indices("MaxPool2d", return_indices)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = False, bool(ceil_mode)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool):
    """The mean of each window. ``count_include_pad=True`` (PyTorch's default) divides by f*f even
    where the window overlaps the zero padding (but not where a ``ceil_mode`` window hangs
    beyond it); ``divisor_override`` replaces the divisor.

    >>> nn.AvgPool2d(2)(dn.ones(1, 1, 4, 4))      # all ones, shape (1, 1, 2, 2)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        _check_pool_args("AvgPool2d", kernel_size, stride, padding)
        if divisor_override is not None and (not isinstance(divisor_override, int)
                                             or divisor_override < 1):
            raise ValueError(f"AvgPool2d: divisor_override must be a positive int or None, "
                             f"got {divisor_override!r}")
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(_Pool):
    """Average into a fixed (H_out, W_out) grid, whatever the input size (PyTorch's bins: bin i
    covers [floor(i H / H_out), ceil((i + 1) H / H_out))). ``None`` keeps that input size.

    >>> nn.AdaptiveAvgPool2d((6, 6))(dn.randn(1, 256, 13, 13)).shape   # (1, 256, 6, 6)
    """

    def __init__(self, output_size):
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        if len(sizes) != 2 or any(s is not None and (not isinstance(s, int) or isinstance(s, bool)
                                                     or s < 1) for s in sizes):
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be a positive int or a pair of "
                             f"positive ints (or None), got {output_size!r}")
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxPool1d(_Pool):
    """Max over windows of length k along the last axis of (N, C, L); options as MaxPool2d's."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        _check_pool_args("MaxPool1d", kernel_size, stride, padding, dims=1)
        _check_dilation("MaxPool1d", dilation)
        _check_no_indices("MaxPool1d", return_indices)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = False, bool(ceil_mode)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x, dims=1)
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(_Pool):
    """Mean over windows of length k along the last axis of (N, C, L); options as AvgPool2d's."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        _check_pool_args("AvgPool1d", kernel_size, stride, padding, dims=1)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x, dims=1)
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
