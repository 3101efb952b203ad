"""Convolution, ReLU and max pooling as one op (LeNet's and AlexNet's stage), for the kernels.

    out = maxpool(relu(conv2d(x) + b))  =  relu(maxpool(conv2d(x) + b))

ReLU is monotonic, so it can be applied after the pooling, on a quarter of the numbers (for a
2x2 pool), and the bias is added inside the pooling pass instead of in a pass of its own: the
convolution's full-size output is read once and never written again. Backward needs no mask
array either: the window's winner is the only pixel that gets a gradient, and the ReLU lets it
through exactly when the pooled value is positive. Compared with Conv2dReLU followed by
MaxPool2d, two passes over the largest array of the network go in each direction (and two
thread launches).

Used when the compiled kernels are on (deepnum.jit); otherwise F.conv2d_relu_max_pool2d runs the
two ops. Both give the same values and gradients (a zero's sign may differ: max(-1, -0.) + relu
gives -0., relu then max gives +0.).
"""

from __future__ import annotations

import numpy as np

from deepnum.ops.conv import Conv2d
from deepnum.ops.pool import (
    _geometry,
    _max_pool_kernel,
    _max_pool_route_kernel,
    _max_pool_scatter_kernel,
)


class Conv2dReLUMaxPool(Conv2d):
    """max_pool2d(relu(conv2d(x, weight, bias, ...)), pool_kernel, pool_stride, pool_padding,
    pool_dilation) with the pooling on the batch-last (O, OH, OW, N) convolution output."""

    def forward(self, x, weight, bias=None, pool=((2, 2), (2, 2), (0, 0), (1, 1)), **geometry):
        raw = super().forward(x, weight, None, **geometry)  # no bias, no ReLU yet
        kernel, stride, padding, dilation = pool
        ph_, pw_ = _geometry(raw, kernel, stride, padding, dilation)
        conv_out = raw.transpose(1, 2, 3, 0)  # (O, OH, OW, N), C-contiguous
        o, oh, ow, n = conv_out.shape
        out = np.empty((o, ph_, pw_, n), dtype=conv_out.dtype)
        arg = np.empty(out.shape, dtype=np.uint8 if kernel[0] * kernel[1] <= 256 else np.int32)
        shift = np.zeros(o, out.dtype) if bias is None else np.ascontiguousarray(bias)
        _max_pool_kernel(conv_out, out, arg, *kernel, *stride, *padding, *dilation, shift,
                         bias is not None, True)
        if self.needs_input_grad:
            self.pool, self.arg, self.out = pool, arg, out
            self.disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(stride, dilation, kernel))
            self.tiles = (padding == (0, 0) and dilation == (1, 1) and stride == kernel
                          and (ph_ * stride[0], pw_ * stride[1]) == (oh, ow))
            self.conv_shape = conv_out.shape
        return out.transpose(3, 0, 1, 2)

    def backward(self, grad):
        kernel, stride, padding, dilation = self.pool
        gs = np.ascontiguousarray(grad.transpose(1, 2, 3, 0))  # (O, PH, PW, N)
        shape, dtype = self.conv_shape, gs.dtype
        gconv = np.empty(shape, dtype=dtype) if self.tiles else np.zeros(shape, dtype=dtype)
        route = _max_pool_route_kernel if self.disjoint else _max_pool_scatter_kernel
        zero = dtype.type(0)
        route(gs, self.arg, gconv, *kernel, *stride, *padding, *dilation, self.out, True, zero,
              zero + 1)
        return super().backward(gconv.transpose(3, 0, 1, 2))
