"""Products: matmul (NumPy's broadcasting rules), mm, bmm, dot, outer, einsum, addmm/baddbmm,
kron, tensordot, cdist, cross; and the torch.* forms of torch.linalg's det, inverse, qr, svd...

>>> dn.einsum("bij,bjk->bik", a, b)           # a batched matrix product
"""

from __future__ import annotations

import numpy as np

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


# ---------------------------------------------------------------------------- torch.* forms
# of torch.linalg's functions (the module loads on first use, so ``import deepnum`` stays light)
def _linalg():
    from deepnum import linalg

    return linalg


def det(input):
    """det A (torch.det = torch.linalg.det)."""
    return _linalg().det(input)


def slogdet(input):
    """(sign, logabsdet) of A, as torch.slogdet's named tuple."""
    from deepnum import return_types as rt

    return rt.slogdet(*_linalg().slogdet(input))


def logdet(input):
    """log det A: NaN where det A < 0, -inf where it is 0 (the gradient A^-T through log|det|)."""
    sign, logabsdet = _linalg().slogdet(input)
    from deepnum.functions.pointwise import where

    return where(sign.detach() < 0, float("nan"), logabsdet)


def inverse(input):
    """A^-1 (torch.inverse = torch.linalg.inv)."""
    return _linalg().inv(input)


def cholesky(input, upper: bool = False):
    """The legacy torch.cholesky: L (U = L^T when upper) with A = L L^T."""
    return _linalg().cholesky(input, upper=upper)


def qr(input, some: bool = True):
    """The legacy torch.qr: (Q, R), reduced unless some=False."""
    from deepnum import return_types as rt

    return rt.qr(*_linalg().qr(input, "reduced" if some else "complete"))


def svd(input, some: bool = True, compute_uv: bool = True):
    """The legacy torch.svd: (U, S, V) with A = U diag(S) V^T (V, not Vh); U and V zeros when
    compute_uv=False."""
    from deepnum import return_types as rt

    u, s, vh = _linalg().svd(input, full_matrices=not some)
    if not compute_uv:
        return rt.svd(u.detach() * 0, s, vh.detach().mT * 0)
    return rt.svd(u, s, vh.mT)


def pinverse(input, rcond: float = 1e-15):
    """The pseudo-inverse, singular values below rcond * s_max dropped."""
    return _linalg().pinv(input, rtol=rcond)


def matrix_power(input, n: int):
    """A^n (torch.matrix_power = torch.linalg.matrix_power)."""
    return _linalg().matrix_power(input, n)


def cross(input, other, dim=None):
    """a x b along ``dim``; without dim the first dimension of length 3 (torch.cross's
    deprecated default, warned about as there).

    >>> a, b = dn.eye(3), dn.ones(3, 3)
    >>> dn.cross(a, b, dim=1)                                      # row i: e_i x (1, 1, 1)
    """
    if dim is None:
        import warnings

        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.",
                      UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _linalg().cross(input, other, dim=dim)


def cdist(x1, x2, p: float = 2.0, compute_mode=None):
    """d_ij = ||x1_i - x2_j||_p between the rows of x1 (..., P, M) and x2 (..., R, M), batch
    dims broadcast; the gradient at d = 0 is 0, as PyTorch's.

    >>> x1, x2 = dn.zeros(1, 2), dn.tensor([[3.0, 4.0], [1.0, 0.0]])
    >>> dn.cdist(x1, x2), dn.cdist(x1, x2, p=1)                     # [[5., 1.]], [[7., 1.]]
    """
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X{1 if x1.ndim < 2 else 2} "
                           f"got: {min(x1.ndim, x2.ndim)}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if x1.array.dtype.kind != "f" or x2.array.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: "
                           f"{x1.dtype.name.capitalize()}")
    if x1.array.dtype != x2.array.dtype:
        raise RuntimeError(f"expected scalar type {x1.dtype.name.capitalize()} but found "
                           f"{x2.dtype.name.capitalize()}")
    return _linalg().vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


def kron(input, other):
    """The Kronecker product: out[i*q + k, j*r + l] = a_ij b_kl (any ranks, aligned right).

    >>> a, b = dn.eye(2), dn.ones(2, 2)
    >>> dn.kron(a, b)                                              # two 2x2 blocks of ones
    """
    a, b = promote(input, other)
    n = max(a.ndim, b.ndim)
    sa, sb = (1,) * (n - a.ndim) + tuple(a.shape), (1,) * (n - b.ndim) + tuple(b.shape)
    a2 = a.reshape(tuple(x for s in sa for x in (s, 1)))
    b2 = b.reshape(tuple(x for s in sb for x in (1, s)))
    return mul(a2, b2).reshape(tuple(x * y for x, y in zip(sa, sb)))


def tensordot(a, b, dims=2, out=None):
    """sum over a's dims ``dims[0]`` paired with b's ``dims[1]`` (an int n: a's last n with b's
    first n), the rest of a's dims then b's; a matmul of the two reshaped.

    >>> a, b = dn.ones(2, 3, 4), dn.ones(4, 3, 5)
    >>> dn.tensordot(a, b, dims=([1, 2], [1, 0])).shape            # (2, 5), each entry 12
    """
    if a.array.dtype != b.array.dtype:
        raise RuntimeError("both inputs should have same dtype")
    x, y = a, b
    if isinstance(dims, int) or (hasattr(dims, "ndim") and dims.ndim == 0):
        n = int(dims)
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        da, db = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        da, db = ([d] if isinstance(d, int) else [int(i) for i in d] for d in dims)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da, db = [d % x.ndim for d in da], [d % y.ndim for d in db]
    for i, j in zip(da, db):
        if x.shape[i] != y.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{x.shape[i]} in dim {i - x.ndim if isinstance(dims, int) else i}"
                               f" and second has size {y.shape[j]} in dim {j}")
    free_a = [i for i in range(x.ndim) if i not in da]
    free_b = [j for j in range(y.ndim) if j not in db]
    size = int(np.prod([x.shape[i] for i in da]))
    left = x.permute(*free_a, *da).reshape(-1, size)
    right = y.permute(*db, *free_b).reshape(size, -1)
    shape = tuple(x.shape[i] for i in free_a) + tuple(y.shape[j] for j in free_b)
    return matmul(left, right).reshape(shape)
