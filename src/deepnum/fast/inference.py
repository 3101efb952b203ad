"""A convolution stage for ``dn.compile``'s inference plan with every array and view made once.

At one sample, each call of the eager convolution spends most of its time on bookkeeping, not
arithmetic: it works out its geometry, pads the image into a fresh array, builds the im2col
window view, takes and returns scratch buffers, and the pool slices its taps again. In a captured
plan the input shape is fixed, so all of that is done when the plan is made: a zero-bordered
batch-last image buffer (only its interior is written), the window view onto it, the columns, the
product's output and its column blocks, and the pool's tap views onto that output. A call is
then the NumPy path's own operations on the same shapes (fast.conv.Conv2d, Conv2dReLU,
Conv2dReLUThenMaxPool), so the numbers are the same bit for bit (tested):

    copy the image in; copy the windows into the columns; W @ columns, one product per block;
    + b; max(0, .); the pool: the first tap, then one maximum per other tap.

Only those ops with one group are replaced, and a shape whose pool needs padding still runs the
op's own stage; everything else keeps its stage.
"""

from __future__ import annotations

import numpy as np

from deepnum.fast.conv import Conv2d, Conv2dReLU, block_columns, window_view
from deepnum.fast.conv_pool import Conv2dReLUThenMaxPool
from deepnum.ops.conv import offset_slices, out_size
from deepnum.ops.pool import _pads, pool_out_size

# The columns a plan keeps between calls, at most (16 MB of float32): beyond it a call's
# arithmetic dwarfs the bookkeeping this saves (LeNet-5's first layer at batch 1: 19,600).
MAX_KEPT_COLUMNS = 2**22


class PreparedConv:
    """conv2d (+ ReLU) (+ max pool) of one input shape, for inference; see the module's text."""

    def __init__(self, stage):
        self.stage, self.params = stage, stage.params  # the stage: for shapes this cannot run
        kwargs = dict(stage.kwargs)
        self.pool = kwargs.pop("pool", None)
        self.ceil_mode = kwargs.pop("pool_ceil_mode", False)
        self.stride, self.padding, self.dilation = (kwargs["stride"], kwargs["padding"],
                                                    kwargs["dilation"])
        self.relu = stage.op is not Conv2d
        self.key = None

    @staticmethod
    def replaces(stage) -> bool:
        """Whether ``stage`` (an OpStage) is one this can run."""
        op, kwargs = getattr(stage, "op", None), getattr(stage, "kwargs", {})
        return op in (Conv2d, Conv2dReLU, Conv2dReLUThenMaxPool) and kwargs.get("groups") == 1

    def _sizes(self, shape):
        """((OH, OW), (PH, PW) or None without a pool) for this input shape, or None where the
        op's own stage runs instead: not (N, C, H, W), columns too large to keep (where the
        bookkeeping does not matter), no window that fits, or a pool that needs padding (the
        stage pads, or raises the eager op's error)."""
        if len(shape) != 4:
            return None
        _, _, kh, kw = self.params[0].array.shape
        (pt, pb), (pl, pr) = self.padding
        hw = (out_size(shape[2], kh, self.stride[0], pt + pb, self.dilation[0]),
              out_size(shape[3], kw, self.stride[1], pl + pr, self.dilation[1]))
        if min(hw) < 1 or shape[1] * kh * kw * shape[0] * hw[0] * hw[1] > MAX_KEPT_COLUMNS:
            return None
        if self.pool is None:
            return hw, None
        kernel, stride, padding, dilation = self.pool
        pooled = tuple(pool_out_size(*axis, self.ceil_mode)
                       for axis in zip(hw, kernel, stride, padding, dilation))
        if min(pooled) < 1 or _pads((0, 0) + hw, kernel, stride, padding, dilation,
                                    pooled) != ((0, 0), (0, 0)):
            return None
        return hw, pooled

    def _prepare(self, shape, dtype) -> None:
        self.key, sizes = (shape, dtype), self._sizes(shape)
        self.runs = sizes is not None
        if not self.runs:
            return
        (oh, ow), pooled = sizes
        weight = self.params[0].array
        n, c, h, w = shape
        o, _, kh, kw = weight.shape
        (pt, pb), (pl, pr) = self.padding
        k, m = c * kh * kw, n * oh * ow
        padded = np.zeros((c, h + pt + pb, w + pl + pr, n), dtype=dtype)
        self.interior = padded[:, pt:pt + h, pl:pl + w]
        self.windows = window_view(padded, (kh, kw), (oh, ow), self.stride, self.dilation)
        self.columns = np.empty(self.windows.shape, dtype=dtype)
        self.out = np.empty((1, o, m), dtype=np.result_type(dtype, weight.dtype))
        cols = self.columns.reshape(1, k, m)  # the blocks fast.conv's product runs on
        step = block_columns(k, cols.itemsize)
        self.blocks = [(self.out[..., s:s + step], cols[..., s:s + step])
                       for s in range(0, m, step)]
        self.flat = self.out.reshape(o, m)
        conv = self.flat.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)  # as the op returns it
        self.result = conv
        if pooled is not None:
            kernel, stride, _, dilation = self.pool
            self.taps = [conv[(slice(None), slice(None)) + offset_slices(i, j, *pooled, stride,
                                                                         dilation)]
                         for i in range(kernel[0]) for j in range(kernel[1])]
            self.result = self.taps[0].copy(order="K")  # as MaxPool2d's first tap

    def forward(self, x):
        if self.key != (x.shape, x.dtype):
            self._prepare(x.shape, x.dtype)
        if not self.runs:
            return self.stage.forward(x)
        weight = self.params[0].array
        bias = self.params[1].array if len(self.params) > 1 else None
        np.copyto(self.interior, x.transpose(1, 2, 3, 0))
        np.copyto(self.columns, self.windows)
        wmat = weight.reshape(1, weight.shape[0], -1)
        for out, columns in self.blocks:
            np.matmul(wmat, columns, out=out)
        if bias is not None:
            self.flat += bias[:, None]
        if self.relu:
            np.maximum(self.flat, 0, out=self.flat)
        if self.pool is not None:
            best = self.result
            np.copyto(best, self.taps[0])
            for tap in self.taps[1:]:
                np.maximum(best, tap, out=best)
        return self.result


def prepare(stages: list) -> list:
    """An inference plan's ``stages`` with the convolutions :class:`PreparedConv` can run
    replaced by it."""
    return [PreparedConv(s) if PreparedConv.replaces(s) else s for s in stages]
