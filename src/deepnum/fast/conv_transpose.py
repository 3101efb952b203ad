"""The transposed convolution of :mod:`deepnum.ops.conv` in the batch-last layout of
:mod:`deepnum.fast.conv`, with the same numbers up to the summation order of the products.

Forward is the convolution's input gradient: cols = W^T @ x, one product on the (C, H*W*N)
view of the batch-last input (no copy), landing as (O, kh, kw, H, W, N) columns, which col2im
adds onto the (O, OH, OW, N) output tap by tap (the compiled kernel: one pass over the output,
each element written by one iteration; NumPy: whole (O, H, W, N) blocks per tap). Backward is
a convolution of the output gradient: its im2col columns are built block by block (compiled)
or once (NumPy), and each block serves both products while it is in the cache, gx = W @ block
and gW += x[:, block] @ block^T. The generator of a DCGAN is four of these layers.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from deepnum.fast import conv_kernels as kernels
from deepnum.fast import kernels_for, speeds_up
from deepnum.fast.conv import SCRATCH, _column_blocks_of, _matmul_blocks, column_blocks
from deepnum.ops import conv as reference
from deepnum.ops.conv import offset_slices, reach


class ConvTranspose2d(reference.ConvTranspose2d):
    """ops.conv.ConvTranspose2d in the batch-last layout (NumPy only)."""

    kernels = False  # KernelConvTranspose2d: compiled col2im, im2col blocks and bias pass

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                output_padding=(0, 0), dilation=(1, 1), groups=1):
        n, c, h, w = x.shape
        _, og, kh, kw = weight.shape
        o, g = og * groups, groups
        (pt, pb), (pl, pr) = padding
        full = (reach(h, kh, stride[0], dilation[0]), reach(w, kw, stride[1], dilation[1]))
        oh, ow = full[0] - pt - pb + output_padding[0], full[1] - pl - pr + output_padding[1]
        self.weight, self.geometry = weight, (x.shape, (n, o, oh, ow), padding)
        # (C, H, W, N): a view when x is batch-last (a conv, norm or activation output); the
        # noise fed to a generator's first layer is copied once
        xt = np.ascontiguousarray(x.transpose(1, 2, 3, 0))
        self.xt = xt if self.needs_input_grad and self.needs_input_grad[1] else None
        dtype = np.result_type(x, weight)
        cols = SCRATCH.take((o * kh * kw, h * w * n), dtype)
        wmat = weight.reshape(g, c // g, og * kh * kw).transpose(0, 2, 1)
        _matmul_blocks(wmat, _column_blocks_of(xt.reshape(g, c // g, -1)),
                       cols.reshape(g, og * kh * kw, -1))
        cols = cols.reshape(o, kh, kw, h, w, n)
        if self.kernels:
            out = np.empty((o, oh, ow, n), dtype=dtype)
            kernels.col2im(cols, out, *stride, *dilation, pt, pl)
            if bias is not None:
                flat = out.reshape(o, -1)
                kernels.bias_relu(flat, np.ascontiguousarray(bias, dtype), True, False,
                                  dtype.type(0))
        else:
            # the canvas holds every tap and the output_padding rows; each tap adds its whole
            # (O, H, W, N) block where it lands
            canvas = np.zeros((o, max(full[0], pt + oh), max(full[1], pl + ow), n), dtype=dtype)
            for i in range(kh):
                for j in range(kw):
                    rows, columns = offset_slices(i, j, h, w, stride, dilation)
                    canvas[:, rows, columns] += cols[:, i, j]
            out = canvas[:, pt:pt + oh, pl:pl + ow]
            if bias is not None:
                out = out + bias.reshape(o, 1, 1, 1)
        SCRATCH.give(cols.reshape(o * kh * kw, -1))
        return out.transpose(3, 0, 1, 2)

    def backward(self, grad):
        (n, c, h, w), (_, o, oh, ow), padding = self.geometry
        stride, _, dilation, g = reference._options(self.attributes)
        weight, needs = self.weight, self.needs_input_grad
        _, og, kh, kw = weight.shape
        rows, m = og * kh * kw, h * w * n
        # (O, OH, OW, N); no copy when grad is batch-last in memory
        gt = np.ascontiguousarray(grad.transpose(1, 2, 3, 0))
        if self.kernels:
            blocks = column_blocks(gt, (kh, kw), (h, w), stride, dilation, padding)
        else:
            blocks = _column_blocks_of(self._columns(gt, padding, (h, w)).reshape(o * kh * kw, m))
        gx = np.empty((g, c // g, m), dtype=grad.dtype) if needs[0] else None
        gw = np.zeros((g, c // g, rows), dtype=grad.dtype) if needs[1] else None
        wmat = weight.reshape(g, c // g, rows)
        xmat = self.xt.reshape(g, c // g, m) if needs[1] else None
        for s, e, block in blocks:  # each block of columns serves both products
            block = block.reshape(g, rows, e - s)
            if gx is not None:
                np.matmul(wmat, block, out=gx[..., s:e])
            if gw is not None:
                gw += np.matmul(xmat[..., s:e], block.transpose(0, 2, 1))
        gb = grad.sum(axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        if gx is not None:
            gx = gx.reshape(c, h, w, n).transpose(3, 0, 1, 2)
        if gw is not None:
            gw = gw.reshape(c, og, kh, kw)
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)

    def _columns(self, gt, padding, out_hw):
        """All im2col columns (O, kh, kw, H, W, N) of the gradient, on its canvas (NumPy)."""
        (pt, _), (pl, _) = padding
        o, oh, ow, n = gt.shape
        stride, _, dilation, _ = reference._options(self.attributes)
        kh, kw = self.weight.shape[2:]
        canvas_h = max(reach(out_hw[0], kh, stride[0], dilation[0]), pt + oh)
        canvas_w = max(reach(out_hw[1], kw, stride[1], dilation[1]), pl + ow)
        gp = np.zeros((o, canvas_h, canvas_w, n), dtype=gt.dtype)
        gp[:, pt:pt + oh, pl:pl + ow] = gt
        sc, sh, sw, sn = gp.strides
        windows = as_strided(gp, (o, kh, kw) + tuple(out_hw) + (n,),
                             (sc, sh * dilation[0], sw * dilation[1], sh * stride[0],
                              sw * stride[1], sn), writeable=False)
        return np.ascontiguousarray(windows)


class KernelConvTranspose2d(ConvTranspose2d):
    """ConvTranspose2d with the compiled kernels (the same numbers as the NumPy path)."""

    kernels = True


speeds_up(reference.ConvTranspose2d)(ConvTranspose2d)
speeds_up(reference.ConvTranspose2d,
          when=kernels_for)(KernelConvTranspose2d)
