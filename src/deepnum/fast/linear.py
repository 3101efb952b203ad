"""Linear followed by ReLU as one op: what the fusion plan runs for ``Linear, ReLU``.

    y = max(0, x W^T + b)

The ReLU is applied in place on the fresh product, so there is no second array and no stored
mask: y > 0 is exactly where the ReLU lets the gradient through. Same numbers as Linear then
ReLU (tested).
"""

from __future__ import annotations

import numpy as np

from deepnum.fast import jit, speeds_up
from deepnum.fast.activation import relu
from deepnum.ops import constant
from deepnum.ops.linalg import Linear

# NumPy's OpenBLAS multiplies a few rows by a transposed weight, x @ W^T, well below its speed
# for W @ x^T, the same products (measured on this project's AVX-512 machine, float32, 1 thread,
# x (rows, 784) by W (256, 784): 8 rows 98 vs 55 us, 32 rows 147 vs 108, 64 rows 210 vs 189,
# 128 rows 348 vs 352, copy included; 2 threads 57 vs 32, 94 vs 65, 133 vs 118, 218 vs 221).
# Each output element is then the same dot product, summed in the same order by that BLAS (the
# numbers equal bit for bit, C-contiguous rows, every shape tried). A BLAS that sums them in
# another order changes the numbers (OpenBLAS's Haswell kernels on an AVX2 EPYC: 8, 32 and 64
# rows differ), so each shape is checked once, on random values, and keeps x @ W^T unless equal.
FEW_ROWS = 64
_same_numbers: dict = {}  # (rows, in, out) -> whether W @ x^T gives x @ W^T's numbers


def _few_float32_rows(a: np.ndarray) -> bool:
    """Whether an input (or its output) is one linear_product may compute as W @ x^T."""
    return a.ndim == 2 and 1 < len(a) <= FEW_ROWS and a.dtype == np.float32


def product_scratch(out: np.ndarray) -> np.ndarray | None:
    """The (out, rows) buffer linear_product needs for an output like ``out``, or None where it
    never takes the W @ x^T form (more rows, float64, not 2-D)."""
    return np.empty(out.shape[::-1], dtype=out.dtype) if _few_float32_rows(out) else None


def linear_product(x: np.ndarray, w: np.ndarray, out: np.ndarray | None = None,
                   scratch: np.ndarray | None = None) -> np.ndarray:
    """x @ w.T; for a few C-contiguous float32 rows as (w @ x.T).T copied into C order (into
    ``out`` and through ``scratch``, shaped (rows, out) and (out, rows), when given)."""
    if (_few_float32_rows(x) and w.dtype == np.float32 and x.flags.c_contiguous
            and _gives_same_numbers(x.shape, w.shape)):
        scratch = np.matmul(w, x.T, out=scratch)
        if out is None:
            return scratch.T.copy()
        np.copyto(out, scratch.T)
        return out
    return np.matmul(x, w.T, out=out)


def _gives_same_numbers(x_shape, w_shape) -> bool:
    key = (*x_shape, w_shape[0])
    same = _same_numbers.get(key)
    if same is None:
        if len(_same_numbers) > 4096:  # many shapes: a bound, not a leak
            _same_numbers.clear()
        rng = np.random.default_rng(0)
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = rng.standard_normal(w_shape, dtype=np.float32)
        same = _same_numbers[key] = bool(np.array_equal(x @ w.T, (w @ x.T).T))
    return same


class LinearReLU(Linear):
    saves = (0, 1)
    saves_output = True
    product = staticmethod(linear_product)

    def forward(self, x, weight, bias=None):
        out = Linear.forward(self, x, weight, bias)
        relu(out, out=out)  # fast.activation's: NumPy's maximum, or one compiled pass
        if self.needs_input_grad:
            self.out = out
        return out

    def backward(self, g):
        return super().backward(g * (self.out > 0))  # 0 at 0, as PyTorch's ReLU

    def vjp(self, g):
        # ReLU's vjp (g times its constant mask), then Linear's: the unfused composition's
        return super().vjp(g * constant((self.out > 0).astype(g.array.dtype)))


speeds_up(("linear", "relu"))(LinearReLU)


# ---------------------------------------------------------------------------- compiled passes
# The elementwise work between a linear layer's products, in one pass each way (the captured
# step's LinearStage uses them): the same float operations in the same order as NumPy's
# ``out += b; np.maximum(out, 0, out=out)`` forward and ``g * (out > 0)`` followed by the
# column sum over the batch (NumPy sums axis 0 of a C-contiguous array row by row, in order),
# so the numbers are the same, bit for bit.

@jit.kernel("out[N,O] bias[O]", parallel=True)
def bias_relu_rows(out, bias, relu):
    n, o = out.shape
    for i in jit.prange(n):
        row = out[i]
        for j in range(o):
            v = row[j] + bias[j]
            row[j] = 0 if relu and v < 0 else v  # NaN stays NaN, as np.maximum


@jit.kernel("g[N,O] out[N,O] gm[N,O] gb[O]", parallel=True)
def relu_grad_bias_rows(g, out, gm, gb, zero, one):
    """gm = g * (out > 0) and gb = its sum over the rows, columns split across threads (each
    column summed by one thread in row order: the result does not depend on the threads)."""
    n, o = g.shape
    step = 16
    for block in jit.prange((o + step - 1) // step):
        start, stop = block * step, min(block * step + step, o)
        for i in range(n):
            g_row, out_row, gm_row = g[i], out[i], gm[i]
            for j in range(start, stop):
                v = g_row[j] * (one if out_row[j] > zero else zero)
                gm_row[j] = v
                gb[j] = v if i == 0 else gb[j] + v  # row 0 first, then in order: NumPy's sum
