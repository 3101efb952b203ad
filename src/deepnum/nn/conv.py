"""Convolution layers: Conv2d and Conv1d, ConvTranspose2d and ConvTranspose1d, PyTorch's arguments
and weight layouts.

A convolutional layer holds ``out_channels`` filters, each of shape (in_channels/groups) x kh x kw;
sliding filter o over the input and summing over all input channels gives output channel o:

    out[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] * x[n, c, s*y + d*i - p, s*x + d*j - p]

with output size floor((n + 2p - d(k-1) - 1) / s) + 1 per axis. The lecture's example, a 6x6x3 input
and two 3x3x3 filters, gives 4x4x2:

>>> conv = nn.Conv2d(3, 2, kernel_size=3)
>>> conv(dn.randn(1, 3, 6, 6)).shape         # (1, 2, 4, 4)
"""

from __future__ import annotations

from deepnum.creation import empty
from deepnum.nn import functional as F
from deepnum.nn import init
from deepnum.nn._validate import positive_int
from deepnum.nn.functional_conv import conv_padding, pair
from deepnum.nn.module import Module, Parameter
from deepnum.tensor import Tensor


def _positive_pair(layer: str, name: str, value, allow_zero: bool = False) -> tuple[int, int]:
    a, b = pair(value, name, layer)
    if min(a, b) < 0 or (min(a, b) == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{layer}: {name} must be {need}, got {value!r}")
    return a, b


class _ConvNd(Module):
    """What Conv1d and Conv2d share: argument checks, parameters, initialisation, repr."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_channels(self, name, in_channels, out_channels, groups, padding_mode)
        expand = (lambda v: (1, v[0] if isinstance(v, (tuple, list)) else v)) \
            if self.dims == 1 else (lambda v: v)
        self.kernel_size = _positive_pair(name, "kernel_size", expand(kernel_size))
        self.stride = _positive_pair(name, "stride", expand(stride))
        self.dilation = _positive_pair(name, "dilation", expand(dilation))
        if isinstance(padding, str):
            conv_padding(padding, self.kernel_size, self.dilation, self.stride, name)  # validates
            self.padding = padding
        else:
            pad = _positive_pair(name, "padding", expand(padding), allow_zero=True)
            self.padding = pad
        if self.dims == 1:  # store 1-D values as PyTorch does: (k,)
            self.kernel_size, self.stride, self.dilation = \
                self.kernel_size[1:], self.stride[1:], self.dilation[1:]
            if not isinstance(self.padding, str):
                self.padding = self.padding[1:]
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
        fan_in = in_channels/groups * kh * kw."""
        init.default_weight_and_bias_(self.weight, self.bias)

    def check_input(self, x: Tensor) -> None:
        """Raise ShapeError naming this layer and both shapes unless x has in_channels."""
        check_channels(self, x)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        zero = (0,) * self.dims
        if self.padding != zero:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W). ``padding`` is an int, a pair, ``'same'`` (stride 1) or
    ``'valid'``; ``weight`` is (out_channels, in_channels/groups, kH, kW), ``bias`` (out_channels,).

    >>> conv = nn.Conv2d(1, 6, kernel_size=5, padding=2)     # LeNet-5's first layer on 28x28
    >>> conv(dn.randn(8, 1, 28, 28)).shape                   # (8, 6, 28, 28)
    """

    dims = 2

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L); ``weight`` is (out_channels, in_channels/groups, k).

    >>> conv = nn.Conv1d(4, 8, kernel_size=3, padding="same")
    >>> conv(dn.randn(2, 4, 50)).shape                       # (2, 8, 50)
    """

    dims = 1

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


def _ints(layer: str, name: str, value, dims: int, allow_zero: bool) -> tuple:
    """k -> (k,) * dims; a tuple of dims ints stays; each positive (or non-negative)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims:
        raise ValueError(f"{layer}: {name} must be an int or {dims} ints, got {value!r}")
    for v in values:
        _positive_pair(layer, name, v, allow_zero)
    return tuple(int(v) for v in values)


class _ConvTransposeNd(Module):
    """What ConvTranspose1d and ConvTranspose2d share. The weight is (in_channels,
    out_channels/groups, *kernel): the layout of the Conv2d whose input gradient this layer is."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_channels(self, name, in_channels, out_channels, groups, padding_mode)
        sizes = {option: _ints(name, option, value, self.dims, allow_zero) for option, value,
                 allow_zero in (("kernel_size", kernel_size, False), ("stride", stride, False),
                                ("padding", padding, True), ("dilation", dilation, False),
                                ("output_padding", output_padding, True))}
        self.kernel_size, self.stride, self.padding = (sizes["kernel_size"], sizes["stride"],
                                                       sizes["padding"])
        self.dilation, self.output_padding = sizes["dilation"], sizes["output_padding"]
        for e, s, d in zip(self.output_padding, self.stride, self.dilation):
            if e >= max(s, d):
                raise ValueError(f"{name}: output_padding must be smaller than either stride or "
                                 f"dilation, got output_padding={self.output_padding}, "
                                 f"stride={self.stride}, dilation={self.dilation}")
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with PyTorch's fan_in taken
        from the weight's second axis: out_channels/groups * kh * kw."""
        init.default_weight_and_bias_(self.weight, self.bias)

    def output_padding_for(self, x: Tensor, output_size) -> tuple:
        """The output_padding that gives ``output_size`` (PyTorch's ``forward(x, output_size)``):
        sizes from the smallest output to stride - 1 more are reachable."""
        if output_size is None:
            return self.output_padding
        size = [int(v) for v in output_size][-self.dims:]
        spatial = tuple(x.shape[-self.dims:])
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                    zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        if len(size) != self.dims or any(not lo <= v <= hi
                                         for v, lo, hi in zip(size, smallest, largest)):
            raise ValueError(f"{type(self).__name__}: requested an output size of {size}, but "
                             f"valid sizes range from {smallest} to {largest} (for an input of "
                             f"{list(spatial)})")
        return tuple(v - m for v, m in zip(size, smallest))

    def check_input(self, x: Tensor) -> None:
        """Raise ShapeError naming this layer and both shapes unless x has in_channels."""
        check_channels(self, x)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C, H, W), the generator's upsampling layer: each input
    pixel adds a copy of the filter, weighted by the pixel, to the output (Conv2d's input
    gradient). Output size (H - 1) s - 2p + d (k - 1) + output_padding + 1 per axis.

    >>> up = nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1, bias=False)   # DCGAN's
    >>> up(dn.randn(8, 512, 4, 4)).shape                                        # (8, 256, 8, 8)
    """

    dims = 2

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        self.check_input(x)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding_for(x, output_size), self.groups,
                                  self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C, L); ``weight`` is (in_channels,
    out_channels/groups, k). Output length (L - 1) s - 2p + d (k - 1) + output_padding + 1.

    >>> up = nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1)
    >>> up(dn.randn(2, 8, 25)).shape                         # (2, 4, 50)
    """

    dims = 1

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        self.check_input(x)
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding_for(x, output_size), self.groups,
                                  self.dilation)


def check_channels(layer, x: Tensor) -> None:
    """``layer``'s input check: (N, C, *spatial) or unbatched (C, *spatial), C its
    in_channels (the array's shape: a Tensor's .shape builds a Size, and this runs per batch)."""
    shape, dims = x.array.shape, layer.dims
    if len(shape) not in (dims + 1, dims + 2) or shape[-dims - 1] != layer.in_channels:
        spatial = "H, W" if dims == 2 else "L"
        raise F.shape_error(layer, f"input of shape (N, {layer.in_channels}, {spatial}) "
                                   f"(in_channels={layer.in_channels})", x.shape)


def _check_channels(layer, name, in_channels, out_channels, groups, padding_mode) -> None:
    """Channels and groups (positive, divisible) and the padding mode, shared by every conv."""
    layer.in_channels = positive_int(name, "in_channels", in_channels)
    layer.out_channels = positive_int(name, "out_channels", out_channels)
    layer.groups = positive_int(name, "groups", groups)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                         f"({out_channels}) must both be divisible by groups ({groups})")
    if padding_mode != "zeros":
        raise ValueError(f"{name}: padding_mode must be 'zeros' (the only one supported), "
                         f"got {padding_mode!r}")
