"""Products: matmul (NumPy's broadcasting rules), mm, bmm, dot, outer, einsum, addmm/baddbmm.

>>> dn.einsum("bij,bjk->bik", a, b)           # a batched matrix product
"""

from __future__ import annotations

from deepnum.functions.pointwise import add, mul, promote
from deepnum.ops import linalg as ops


def matmul(input, other):
    a, b = promote(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    inner_a, inner_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        shape_a = "x".join(map(str, a.shape[-2:] if a.ndim > 1 else (1, *a.shape)))
        shape_b = "x".join(map(str, b.shape[-2:] if b.ndim > 1 else b.shape))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({shape_a} and "
                           f"{shape_b})")
    return ops.MatMul.apply(a, b)


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return matmul(input, mat2)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           f"tensors")
    return matmul(input, other)


inner = dot


def mv(input, vec):
    return matmul(input, vec)


def outer(input, vec2):
    return mul(input.reshape(-1, 1), vec2.reshape(1, -1))


ger = outer


def einsum(equation: str, *operands):
    """Einstein summation, NumPy's notation (also ``einsum(eq, [a, b])``)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = list(operands)
    if len(tensors) > 1:
        base = tensors[0]
        for i, t in enumerate(tensors[1:], start=1):
            base, tensors[i] = promote(base, t)
        tensors[0] = base
        tensors = [t if t.array.dtype == tensors[0].array.dtype else t.astype(tensors[0].dtype)
                   for t in tensors]
    return ops.Einsum.apply(*tensors, equation=equation)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta input + alpha (mat1 @ mat2)."""
    product = mm(mat1, mat2)
    return add(mul(input, beta) if beta != 1 else input, mul(product, alpha) if alpha != 1
               else product)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    product = bmm(batch1, batch2)
    return add(mul(input, beta) if beta != 1 else input, mul(product, alpha) if alpha != 1
               else product)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return add(mul(input, beta), mul(matmul(mat, vec), alpha))
