"""Convolution, ReLU and max pooling as one op (LeNet's and AlexNet's stage), for the kernels.

    out = maxpool(relu(conv2d(x) + b))  =  relu(maxpool(conv2d(x) + b))

ReLU is monotonic, so it can be applied after the pooling, on a quarter of the numbers (for a
2x2 pool), and the bias is added inside the pooling pass instead of in a pass of its own: the
convolution's full-size output is read once and never written again. Backward needs no mask
array either: the window's winner is the only pixel that gets a gradient, and the ReLU lets it
through exactly when the pooled value is positive. Compared with Conv2dReLU followed by
MaxPool2d, two passes over the largest array of the network go in each direction (and two
thread launches).

Chosen by :mod:`deepnum.fast`'s dispatch when the compiled kernels are on. Without them (or
below their batch size), :class:`Conv2dReLUThenMaxPool` runs Conv2dReLU and then the wing's
MaxPool2d for that batch (the reference, or the compiled pool from 8 samples) inside one op:
the same arithmetic as the two layers one by one, without the second op's call, argument checks
and tensor (which show at one sample: LeNet-5's two stages). All give the same values and
gradients (a zero's sign may differ: max(-1, -0.) + relu gives -0., relu then max gives +0.).
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.fast import choose, kernels_for, speeds_up
from deepnum.fast.conv import Conv2dReLU, KernelConv2d
from deepnum.fast.pool import max_pool_planes, route_to_winners
from deepnum.ops.pool import MaxPool2d, _geometry


class Conv2dReLUThenMaxPool(Conv2dReLU):
    """max_pool2d(relu(conv2d(...))) as Conv2dReLU's forward, then the wing's MaxPool2d's on
    its output (the same arguments as Conv2dReLUMaxPool)."""

    def forward(self, x, weight, bias=None, pool=((2, 2), (2, 2), (0, 0), (1, 1)),
                pool_ceil_mode=False, **geometry):
        out = super().forward(x, weight, bias, **geometry)
        # the wing's pool for this batch (compiled for a batch-last output of 8+ samples)
        self.max_pool = choose(MaxPool2d, batch=x.shape[0])()
        # the pool's input is the convolution's output: it needs a gradient whenever any input
        # of the convolution does (the pool keeps what its backward reads only then)
        self.max_pool.needs_input_grad = (True,) if self.needs_input_grad else ()
        return self.max_pool.forward(out, *pool, pool_ceil_mode)

    vjp = Function.vjp  # as Conv2dReLUMaxPool's: max pooling has no double backward

    def backward(self, grad):
        return super().backward(self.max_pool.backward(grad))



class Conv2dReLUMaxPool(KernelConv2d):
    """max_pool2d(relu(conv2d(x, weight, bias, ...)), pool_kernel, pool_stride, pool_padding,
    pool_dilation, pool_ceil_mode) with the pooling on the batch-last (O, OH, OW, N) convolution
    output."""

    def forward(self, x, weight, bias=None, pool=((2, 2), (2, 2), (0, 0), (1, 1)),
                pool_ceil_mode=False, **geometry):
        raw = super().forward(x, weight, None, **geometry)  # no bias, no ReLU yet
        out_hw = _geometry(raw, *pool, pool_ceil_mode)
        conv_out = raw.transpose(1, 2, 3, 0)  # (O, OH, OW, N), C-contiguous
        out, arg = max_pool_planes(conv_out, out_hw, pool, bias=bias, relu=True)
        if self.needs_input_grad:
            self.pool, self.arg, self.out, self.conv_shape = pool, arg, out, conv_out.shape
        return out.transpose(3, 0, 1, 2)

    # max pooling has no double backward (ops.pool.MaxPool2d.vjp), so neither has this op:
    # the base class's error, not the convolution's vjp that Conv2d would pass down
    vjp = Function.vjp

    def backward(self, grad):
        gs = np.ascontiguousarray(grad.transpose(1, 2, 3, 0))  # (O, PH, PW, N)
        gconv = route_to_winners(gs, self.arg, self.conv_shape, self.pool, relu_out=self.out)
        return super().backward(gconv.transpose(3, 0, 1, 2))


speeds_up(("conv2d", "relu", "max_pool2d"))(Conv2dReLUThenMaxPool)
speeds_up(("conv2d", "relu", "max_pool2d"), when=kernels_for)(Conv2dReLUMaxPool)
