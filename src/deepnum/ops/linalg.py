"""Matrix products: batched matmul with broadcasting, the linear map x W^T + b, einsum, and the
cross product of 3-vectors."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.errors import ShapeError
from deepnum.ops import sum_to, unbroadcast


class MatMul(Function):
    """a @ b with NumPy's rules: 1-D operands are promoted and batch dimensions broadcast."""

    saves = (0, 1)
    needed_by = {0: (1,), 1: (0,)}  # g @ b^T and a^T @ g

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError("matmul: both operands must have at least one dimension, got shapes "
                             f"{a.shape} and {b.shape}")
        inner_a, inner_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
        if inner_a != inner_b:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                             f"({inner_a} != {inner_b})")
        self.a, self.b = a, b
        try:
            return a @ b
        except ValueError:
            raise RuntimeError(f"matmul: the batch dimensions of {tuple(a.shape)} and "
                               f"{tuple(b.shape)} cannot be broadcast together") from None

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a  # promote vectors as matmul does
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:  # first: for vector @ vector g is 0-d and needs this axis before -2
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb

    def vjp(self, g):
        a, b = self.parents
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(1) if b.ndim == 1 else b
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        ga = sum_to(g @ b2.transpose(-1, -2), a2.shape).reshape(a.shape)
        gb = sum_to(a2.transpose(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """y = x W^T + b for x of shape (..., in), W of shape (out, in): one BLAS call each way."""

    saves = (0, 1)
    needed_by = {0: (1,), 1: (0,)}  # the input's gradient reads W, W's reads the input

    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
            raise ShapeError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                             f"{weight.shape} (out_features, in_features)")
        self.x, self.weight = x, weight
        out = self.product(x, weight)
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def product(x, weight):
        """x W^T (the speed wing's fused LinearReLU computes the same numbers faster)."""
        return x @ weight.T

    def backward(self, g):
        x, w = self.x, self.weight
        g2 = g.reshape(-1, g.shape[-1])
        gx = (g @ w) if self.needs_input_grad[0] else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if self.needs_input_grad[1] else None
        if len(self.needs_input_grad) == 3:
            gb = g2.sum(axis=0) if self.needs_input_grad[2] else None
            return gx, gw, gb
        return gx, gw

    def vjp(self, g):
        x, w = self.parents[:2]
        g2 = g.reshape(-1, g.shape[-1])
        gx, gw = g @ w, g2.t() @ x.reshape(-1, x.shape[-1])
        return (gx, gw, g2.sum(0)) if len(self.parents) == 3 else (gx, gw)


class Einsum(Function):
    """np.einsum of several operands; the gradient of each is the einsum of g with the others,
    its subscripts moved to the output (repeated indices of one operand, diagonals, are not
    differentiated)."""

    saves = None

    def forward(self, *arrays, equation):
        inputs, output = _parse_einsum(equation, [a.ndim for a in arrays])
        self.inputs, self.output, self.arrays = inputs, output, arrays
        return np.asarray(np.einsum(f"{','.join(inputs)}->{output}", *arrays, optimize=True))

    def _operand_rule(self, i: int) -> tuple[str, list]:
        """The einsum that gives operand i's gradient from g and the other operands, and the
        shape to broadcast it back to: its letters found nowhere else were summed out by forward,
        so the gradient is the same along them."""
        subs = self.inputs[i]
        if len(set(subs)) != len(subs):
            raise RuntimeError(f"einsum: the gradient of operand {i} ('{subs}', a repeated "
                               f"subscript) is not supported")
        others = [x for j, x in enumerate(self.inputs) if j != i]
        known = set(self.output).union(*others)
        present = "".join(c for c in subs if c in known)
        shape = [n if c in known else 1 for c, n in zip(subs, self.arrays[i].shape)]
        return f"{','.join([self.output, *others])}->{present}", shape

    def backward(self, g):
        grads = []
        for i, a in enumerate(self.arrays):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            equation, shape = self._operand_rule(i)
            others = [x for j, x in enumerate(self.arrays) if j != i]
            partial = np.einsum(equation, g, *others, optimize=True)
            grads.append(np.ascontiguousarray(np.broadcast_to(partial.reshape(shape), a.shape)))
        return tuple(grads)

    def vjp(self, g):
        grads = []
        for i, a in enumerate(self.parents):
            equation, shape = self._operand_rule(i)
            others = [x for j, x in enumerate(self.parents) if j != i]
            grads.append(Einsum.apply(g, *others, equation=equation).reshape(shape)
                         .expand(a.shape))
        return tuple(grads)


def _parse_einsum(equation: str, ndims: list) -> tuple[list, str]:
    """Explicit subscripts of an einsum equation ('...' expanded, '->' implied as NumPy)."""
    equation = equation.replace(" ", "")
    if "->" in equation:
        lhs, output = equation.split("->")
    else:
        lhs, output = equation, None
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise RuntimeError(f"einsum(): {len(inputs)} operands in the equation, {len(ndims)} "
                           f"given")
    letters = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               if c not in equation]
    widest = max((n - len(s.replace("...", "")) for s, n in zip(inputs, ndims)
                  if "..." in s), default=0)
    ellipsis = "".join(letters[:widest])
    expanded = []
    for s, n in zip(inputs, ndims):
        if "..." in s:
            width = n - len(s.replace("...", ""))
            s = s.replace("...", ellipsis[widest - width:])
        if len(s) != n:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(s)}) does not match the number of dimensions ({n}) for "
                               f"operand {len(expanded)}")
        expanded.append(s)
    if output is None:
        counts = {}
        for s in expanded:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        output = ellipsis + "".join(sorted(c for c, k in counts.items()
                                           if k == 1 and c not in ellipsis))
    else:
        output = output.replace("...", ellipsis)
    return expanded, output


class Cross(Function):
    """a x b along ``axis`` (length 3); ga = b x g, gb = g x a, summed back over broadcasting."""

    saves = (0, 1)
    needed_by = {0: (1,), 1: (0,)}

    def forward(self, a, b, axis=-1):
        self.a, self.b, self.axis = a, b, axis
        return np.cross(a, b, axis=axis)

    def backward(self, g):
        a, b, axis = self.a, self.b, self.axis
        ga = unbroadcast(np.cross(b, g, axis=axis), a.shape) if self.needs_input_grad[0] \
            else None
        gb = unbroadcast(np.cross(g, a, axis=axis), b.shape) if self.needs_input_grad[1] \
            else None
        return ga, gb

    def vjp(self, g):
        a, b = self.parents
        return (sum_to(Cross.apply(b, g, axis=self.axis), tuple(a.shape)),
                sum_to(Cross.apply(g, a, axis=self.axis), tuple(b.shape)))
