"""Resizing feature maps: ``F.interpolate`` and ``nn.Upsample`` (nearest, nearest-exact, linear,
bilinear), PyTorch's source-index rules.

Resizing along one axis is a linear map: output pixel i reads the input at source coordinate

    nearest:        floor(i * s)                       (s = in / out, or 1 / scale_factor)
    nearest-exact:  floor((i + 0.5) * s)
    linear:         (i + 0.5) s - 0.5, clamped at 0    (align_corners=False)
                    i (in - 1) / (out - 1)             (align_corners=True)

taking the nearest pixel, or the two neighbours weighted by the distance. So each axis is one
(out x in) matrix with one or two nonzeros per row, and resizing an image is two matrix
products, out = R_h x R_w^T: the gradient (R_h^T g R_w) and the double backward come free.

>>> F.interpolate(x, scale_factor=2, mode="bilinear")      # (N, C, 2H, 2W)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from deepnum.errors import ShapeError
from deepnum.nn.module import Module
from deepnum.tensor import Tensor

MODES = ("nearest", "nearest-exact", "linear", "bilinear")
SPATIAL = {"linear": 1, "bilinear": 2}  # the interpolating modes and the spatial axes they need


def resize_matrix(size_in: int, size_out: int, mode: str, align_corners: bool, scale,
                  dtype) -> np.ndarray:
    """The (size_out, size_in) matrix that resizes one axis (PyTorch's coordinates, computed in
    the input's precision as PyTorch's kernels do; nearest indices in float32 as PyTorch's)."""
    matrix = np.zeros((size_out, size_in), dtype=dtype)
    rows = np.arange(size_out)
    if mode.startswith("nearest"):
        s = np.float32(size_in / size_out if scale is None else 1.0 / scale)
        position = rows.astype(np.float32) + np.float32(0.5 if mode == "nearest-exact" else 0)
        source = np.minimum(np.floor(position * s).astype(np.int64), size_in - 1)
        matrix[rows, source] = 1
        return matrix
    real = np.dtype(dtype).type
    if align_corners:
        s = real((size_in - 1) / (size_out - 1)) if size_out > 1 else real(0)
        source = s * rows.astype(dtype)
    else:
        s = real(size_in / size_out if scale is None else 1.0 / scale)
        source = np.maximum(s * (rows.astype(dtype) + real(0.5)) - real(0.5), real(0))
    low = np.floor(source).astype(np.int64)
    low = np.minimum(low, size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    weight_high = (source - low).astype(dtype)
    matrix[rows, low] += real(1) - weight_high
    matrix[rows, high] += weight_high
    return matrix


def _output_sizes(x: Tensor, size, scale_factor, spatial: int):
    """The output size of each spatial axis and the scale to index with (None: in / out)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: " + ("only one of size or scale_factor should be defined"
                                            if size is not None
                                            else "either size or scale_factor should be defined"))
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, numbers.Integral) else tuple(size)
        if len(sizes) != spatial:
            raise ValueError(f"interpolate: size shape must match input shape. Input is "
                             f"{spatial}D, size is {len(sizes)}")
        return tuple(int(s) for s in sizes), (None,) * spatial
    scales = (scale_factor,) * spatial if isinstance(scale_factor, numbers.Real) \
        else tuple(scale_factor)
    if len(scales) != spatial:
        raise ValueError(f"interpolate: scale_factor shape must match input shape. Input is "
                         f"{spatial}D, scale_factor is {len(scales)}")
    sizes = tuple(math.floor(float(n) * float(s)) for n, s in zip(x.shape[2:], scales))
    return sizes, tuple(float(s) for s in scales)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor`` with ``mode``
    'nearest', 'nearest-exact', 'linear' (3-D) or 'bilinear' (4-D) and PyTorch's
    ``align_corners`` (interpolating modes only; default False)."""
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode must be one of {', '.join(MODES)} "
                                  f"(deepnum), got {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if align_corners is not None and mode not in SPATIAL:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    spatial = input.ndim - 2
    if spatial not in (1, 2) or (mode in SPATIAL and SPATIAL[mode] != spatial):
        need = f"{SPATIAL[mode] + 2}-D" if mode in SPATIAL else "3-D or 4-D"
        raise ShapeError(f"interpolate: mode {mode!r} needs a {need} input (N, C, ...), got "
                         f"input of shape {tuple(input.shape)}")
    sizes, scales = _output_sizes(input, size, scale_factor, spatial)
    if min(sizes) < 1:
        raise ShapeError(f"interpolate: output size {sizes} must be positive for input of "
                         f"shape {tuple(input.shape)}")
    if recompute_scale_factor:  # index with in / out (the rounded size), not 1 / scale_factor
        scales = (None,) * spatial
    dtype = input.array.dtype
    matrices = [Tensor._wrap(resize_matrix(n, m, mode, bool(align_corners), s, dtype))
                for n, m, s in zip(input.shape[2:], sizes, scales)]
    if spatial == 1:
        return input @ matrices[0].T                      # (N, C, L) @ (L, L')
    return matrices[0] @ input @ matrices[1].T            # R_h (H', H) @ x @ R_w^T (W, W')


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The old name of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


class Upsample(Module):
    """Resize feature maps to ``size`` or by ``scale_factor`` (see :func:`interpolate`); no
    weights. A GAN generator's alternative to ConvTranspose2d (upsample, then convolve).

    >>> nn.Upsample(scale_factor=2, mode="bilinear")(dn.randn(1, 3, 8, 8)).shape   # (1, 3, 16, 16)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"Upsample: mode must be one of {', '.join(MODES)}, got {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: exactly one of size or scale_factor must be given")
        if align_corners is not None and mode not in SPATIAL:
            raise ValueError("Upsample: align_corners option can only be set with the "
                             "interpolating modes: linear | bilinear")
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            scale_factor = tuple(float(s) for s in scale_factor)
        elif scale_factor is not None:
            scale_factor = float(scale_factor)
        self.scale_factor, self.mode = scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self) -> str:
        what = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None \
            else f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"
