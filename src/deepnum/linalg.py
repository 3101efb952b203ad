"""``torch.linalg``'s functions: norms, inverses and determinants, solvers, decompositions, on
batches of matrices (the last two dimensions; leading ones are the batch), with PyTorch's
argument names and named-tuple results. The inverses, solvers and decompositions (and their
gradients) are the primitives of :mod:`deepnum.ops.solve` and :mod:`deepnum.ops.decomp`; the
rest is composed from them and deepnum's ops.

>>> A = dn.randn(3, 3, dtype=dn.float64)
>>> sign, logabsdet = dn.linalg.slogdet(A); X = dn.linalg.solve(A, dn.ones(3, dtype=dn.float64))
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from deepnum import functions as _f
from deepnum import return_types as rt
from deepnum.errors import LinAlgError
from deepnum.functions.pointwise import _tensor
from deepnum.ops import decomp
from deepnum.ops import solve as solvers
from deepnum.ops.linalg import Cross
from deepnum.tensor import Tensor

__all__ = ["LinAlgError", "cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "lstsq",
           "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "svd", "svdvals", "vecdot", "vector_norm"]


def _matrices(name: str, A, square: bool = True) -> Tensor:
    """A as a floating tensor of (batches of) matrices, or PyTorch's error."""
    t = _tensor(A)
    if t.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if t.array.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{t.dtype.name.capitalize()}")
    if square and t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{t.shape[-2]} by {t.shape[-1]} matrices")
    return t


def _same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a.array.dtype != b.array.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of "
                           f"type {a.dtype.name.capitalize()} and B of type "
                           f"{b.dtype.name.capitalize()} instead")


# ---------------------------------------------------------------------------- norms
def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002
    """(sum |x_i|^ord)^(1/ord) over ``dim`` (all elements by default); ord inf/-inf: max/min
    |x_i|, 0: the count of nonzeros.

    >>> x = dn.tensor([3.0, -4.0])
    >>> dn.linalg.vector_norm(x), dn.linalg.vector_norm(x, 1)    # tensor(5.), tensor(7.)
    """
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Expected ord to be a number, got '{ord}'")
    return _f.norm(_tensor(x), float(ord) if ord not in (2, 1, 0) else ord, dim, keepdim,
                   dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):  # noqa: A002
    """The matrix norm over the two dims ``dim``: 'fro' sqrt(sum a_ij^2), 'nuc' the sum of the
    singular values, 2/-2 the largest/smallest one, 1/-1 the max/min column sum of |a_ij|,
    inf/-inf the max/min row sum.

    >>> A = dn.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> dn.linalg.matrix_norm(A, 1), dn.linalg.matrix_norm(A, math.inf)  # tensor(6.), (7.)
    """
    t = _matrices("linalg.matrix_norm", A, square=False)
    if dtype is not None:
        t = t.to(dtype)
    d0, d1 = (d % t.ndim for d in dim)
    if d0 == d1:
        raise RuntimeError("linalg.matrix_norm: dims must be different. Got "
                           f"({dim[0]}, {dim[1]})")
    if ord == "fro":
        return _f.norm(t, 2, (d0, d1), keepdim)
    m = t.movedim((d0, d1), (-2, -1))
    if ord in ("nuc", 2, -2):
        s = svdvals(m)
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
    elif ord in (1, -1, math.inf, -math.inf):
        sums = m.abs().sum(-2 if ord in (1, -1) else -1)
        out = sums.amax(-1) if ord > 0 else sums.amin(-1)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        out = out.unsqueeze(builtins.min(d0, d1)).unsqueeze(builtins.max(d0, d1))
    return out


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002
    """A vector norm (dim an int, or a 1-D input) or a matrix norm (dim a pair, or a 2-D input
    with ``ord``); no ord and no dim: the 2-norm of all elements.

    >>> A = dn.ones(2, 2)
    >>> dn.linalg.norm(A), dn.linalg.norm(A, 1, dim=1)           # tensor(2.), tensor([2., 2.])
    """
    t = _tensor(A)
    dims = None if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if dims is None and ord is not None:
        if t.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {t.ndim}D.")
        dims = tuple(range(t.ndim))
    if dims is None or len(dims) == 1:
        return vector_norm(t, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    return matrix_norm(t, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)


# ---------------------------------------------------------------------------- inverses
def inv(A):
    """A^-1 (LinAlgError when A is singular); gradient -A^-T g A^-T.

    >>> A = dn.tensor([[2.0, 0.0], [0.0, 4.0]])
    >>> dn.linalg.inv(A)                                         # [[0.5, 0.], [0., 0.25]]
    """
    return solvers.Inv.apply(_matrices("linalg.inv", A))


def det(A):
    """det A; gradient g det(A) A^-T (the adjugate, so singular A works too).

    >>> A = dn.tensor([[2.0, 1.0], [1.0, 1.0]], requires_grad=True)
    >>> dn.linalg.det(A).backward(); A.grad                      # [[1., -1.], [-1., 2.]]
    """
    return solvers.Det.apply(_matrices("linalg.det", A))


def slogdet(A):
    """(sign, logabsdet) with det A = sign * exp(logabsdet); gradient g A^-T through logabsdet.

    >>> sign, logabsdet = dn.linalg.slogdet(-2 * dn.eye(3))
    >>> sign, logabsdet                                          # tensor(-1.), log 8
    """
    sign, logabsdet = solvers.Slogdet.apply(_matrices("linalg.slogdet", A))
    return rt.linalg_slogdet(sign, logabsdet)  # the sign's gradient is zero


def solve(A, B, *, left: bool = True):
    """X with AX = B (XA = B when left=False); B a (batch of) vector(s) or matrices. Gradients
    gB = A^-T g, gA = -gB X^T.

    >>> A, b = dn.tensor([[3.0, 1.0], [1.0, 2.0]]), dn.tensor([9.0, 8.0])
    >>> dn.linalg.solve(A, b)                                    # tensor([2., 3.])
    """
    a, b = _matrices("linalg.solve", A), _tensor(B)
    _same_dtype("linalg.solve", a, b)
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and tuple(b.shape) == tuple(a.shape[:-1]))
    if not left:
        if vector:
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not "
                               "supported for left=False.")
        return solve(a.mT, b.mT).mT
    matrix = b.unsqueeze(-1) if vector else b
    if matrix.ndim < 2 or matrix.shape[-2] != a.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = "
                           f"B ({a.shape[-2]}x{a.shape[-1]} and {'x'.join(map(str, b.shape))})")
    x = solvers.Solve.apply(a, matrix)
    return x.squeeze(-1) if vector else x


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False):
    """The pseudo-inverse V S^+ U^T, singular values at most max(atol, rtol s_max) dropped (rtol
    eps max(m, n) by default); PyTorch's gradient, valid for repeated singular values too.

    >>> A = dn.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    >>> dn.linalg.pinv(A)                                        # [[1., 0., 0.], [0., 0., 0.5]]
    """
    t = _matrices("linalg.pinv", A, square=False)
    atol = atol.item() if isinstance(atol, Tensor) else atol
    rtol = rtol.item() if isinstance(rtol, Tensor) else rtol
    return solvers.Pinv.apply(t, atol=atol or 0.0, rtol=rtol, hermitian=hermitian)


def matrix_power(A, n: int):
    """A^n by repeated squaring (A^-1 for negative n, I for 0).

    >>> A = dn.tensor([[1.0, 1.0], [0.0, 1.0]])
    >>> dn.linalg.matrix_power(A, 3), dn.linalg.matrix_power(A, -1)  # [[1, 3], [0, 1]], A^-1
    """
    t = _tensor(A)
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {t.shape[-2] if t.ndim > 1 else 1} by {t.shape[-1]} "
                           f"matrices")
    if n == 0:  # I, in the graph with a zero gradient (a where keeps NaN out of it)
        eye = np.broadcast_to(np.eye(t.shape[-1], dtype=t.array.dtype), t.shape)
        return _f.where(Tensor._wrap(np.ones(t.shape, bool)), Tensor._wrap(eye.copy()), t)
    base = inv(t) if n < 0 else t
    result, n = None, abs(n)
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def matrix_rank(A, *, atol=None, rtol=None, hermitian: bool = False):
    """The number of singular values above max(atol, rtol s_max) (int64, not differentiable).

    >>> dn.linalg.matrix_rank(dn.ones(3, 3))                     # tensor(1)
    >>> dn.linalg.matrix_rank(dn.eye(3), atol=2.0)               # tensor(0)
    """
    a = _matrices("linalg.matrix_rank", A, square=False).array
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    atol = 0.0 if atol is None else float(atol)
    if rtol is None:
        rtol = max(a.shape[-2:]) * np.finfo(a.dtype).eps if not atol else 0.0
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    return Tensor._wrap(np.sum(s > np.maximum(atol, float(rtol) * smax), axis=-1)
                        .astype(np.int64))


# ---------------------------------------------------------------------------- decompositions
def cholesky(A, *, upper: bool = False):
    """L lower-triangular with A = L L^T (U = L^T when upper), from A's lower triangle;
    LinAlgError when A is not positive-definite.

    >>> A = dn.tensor([[4.0, 2.0], [2.0, 2.0]])
    >>> dn.linalg.cholesky(A)                                    # tensor([[2., 0.], [1., 1.]])
    """
    return decomp.Cholesky.apply(_matrices("linalg.cholesky", A), upper=upper)


def qr(A, mode: str = "reduced"):
    """(Q, R) with A = QR, Q orthonormal columns, R upper-triangular; mode 'reduced', 'complete'
    or 'r' (R only, Q empty). Gradients for every shape except mode='complete' with m > n.

    >>> A = dn.randn(4, 3)
    >>> Q, R = dn.linalg.qr(A)                   # Q: 4 x 3 orthonormal columns, R: 3 x 3, QR = A
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    return rt.linalg_qr(*decomp.QR.apply(_matrices("linalg.qr", A, square=False), mode=mode))


def eigh(A, UPLO: str = "L"):  # noqa: N803 - PyTorch's name
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric matrix, read from its
    lower (UPLO='L') or upper triangle. An eigenvector's sign is arbitrary (LAPACK's choice).

    >>> A = dn.tensor([[2.0, 1.0], [1.0, 2.0]])
    >>> w, V = dn.linalg.eigh(A)                                 # w = [1., 3.]; V w V^T = A
    """
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return rt.linalg_eigh(*decomp.Eigh.apply(_matrices("linalg.eigh", A), UPLO=UPLO))


def eigvalsh(A, UPLO: str = "L"):  # noqa: N803
    """The eigenvalues of a symmetric matrix, ascending; gradient V diag(g) V^T.

    >>> A = dn.tensor([[2.0, 1.0], [1.0, 2.0]])
    >>> dn.linalg.eigvalsh(A)                                    # tensor([1., 3.])
    """
    return eigh(A, UPLO).eigenvalues


def svd(A, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. The gradient through U and Vh needs
    distinct singular values; the signs of singular vectors are arbitrary.

    >>> A = dn.randn(4, 3)
    >>> U, S, Vh = dn.linalg.svd(A, full_matrices=False)         # (U * S) @ Vh = A
    """
    t = _matrices("linalg.svd", A, square=False)
    return rt.linalg_svd(*decomp.SVD.apply(t, full_matrices=full_matrices))


def svdvals(A, *, driver=None):
    """The singular values, descending; gradient U diag(g) Vh.

    >>> A = dn.diag(dn.tensor([1.0, -3.0]))
    >>> dn.linalg.svdvals(A)                                     # tensor([3., 1.])
    """
    t = _matrices("linalg.svdvals", A, square=False)
    return decomp.SVD.apply(t, full_matrices=False)[1]


def lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) of min ||AX - B||: the minimum-norm solution
    pinv(A) B, differentiable through it. Like PyTorch's CPU drivers: residuals (the squared
    column norms of AX - B) only for m > n, full rank, and a driver other than 'gelsy' (the
    default); singular values for 'gelsd'/'gelss'; rank for all but 'gels'.

    >>> A, B = dn.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), dn.tensor([[1.0], [2.0], [4.0]])
    >>> dn.linalg.lstsq(A, B).solution                           # [[4/3], [7/3]]
    """
    driver = driver or "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"parameter `driver` should be one of (gels, gelsy, gelsd, gelss), "
                           f"but got {driver}")
    a, b = _matrices("torch.linalg.lstsq", A, square=False), _tensor(B)
    _same_dtype("torch.linalg.lstsq", a, b)
    vector = b.ndim == a.ndim - 1
    matrix = b.unsqueeze(-1) if vector else b
    if matrix.shape[-2] != a.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2). "
                           f"Got {a.shape[-2]} and {matrix.shape[-2]}")
    m, n = a.shape[-2:]
    rtol = max(m, n) * np.finfo(a.array.dtype).eps if rcond is None or rcond < 0 else rcond
    solution = pinv(a, rtol=rtol) @ matrix
    dtype = a.array.dtype
    rank = matrix_rank(a.detach(), rtol=rtol) if driver != "gels" else \
        Tensor._wrap(np.zeros((0,), np.int64))
    residuals = solution.reshape(-1)[:0]  # empty, but in the graph as PyTorch's
    if driver != "gelsy" and m > n and bool((matrix_rank(a.detach()) == n).all()):
        residuals = ((a @ solution - matrix) ** 2).sum(-2)
    values = svdvals(a.detach()) if driver in ("gelsd", "gelss") else \
        Tensor._wrap(np.zeros((0,), dtype))
    return rt.linalg_lstsq(solution.squeeze(-1) if vector else solution, residuals, rank, values)


# ---------------------------------------------------------------------------- products
def cross(input, other, *, dim: int = -1):  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (batch dimensions broadcast).

    >>> a, b = dn.tensor([1.0, 0.0, 0.0]), dn.tensor([0.0, 1.0, 0.0])
    >>> dn.linalg.cross(a, b)                                    # tensor([0., 0., 1.])
    """
    a, b = _tensor(input), _tensor(other)
    if a.array.dtype != b.array.dtype:
        raise RuntimeError(f"expected scalar type {a.dtype.name.capitalize()} but found "
                           f"{b.dtype.name.capitalize()}")
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions. Got "
                           f"{a.ndim} and {b.ndim}")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[dim]} and {b.shape[dim]}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: the shapes {tuple(a.shape)} and {tuple(b.shape)} "
                           f"cannot be broadcast") from None
    return Cross.apply(a, b, axis=dim)


def vecdot(x, y, *, dim: int = -1):
    """sum_i x_i y_i along ``dim`` (batch dimensions broadcast).

    >>> x, y = dn.ones(2, 3), dn.tensor([1.0, 2.0, 3.0])
    >>> dn.linalg.vecdot(x, y)                                   # tensor([6., 6.])
    """
    x, y = _tensor(x), _tensor(y)
    if x.array.dtype != y.array.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {x.dtype.name.capitalize()} and y of type "
                           f"{y.dtype.name.capitalize()} instead")
    return _f.sum(_f.mul(x, y), dim)


def multi_dot(tensors):
    """A_1 A_2 ... A_k; the first may be a row vector and the last a column vector (1-D).

    >>> v, M = dn.ones(3), dn.ones(3, 4)
    >>> dn.linalg.multi_dot([v, M, dn.ones(4)])                  # tensor(12.)
    """
    tensors = [_tensor(t) for t in tensors]
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        edge = i == 0 or i == len(tensors) - 1
        if t.ndim != 2 and not (edge and t.ndim == 1):
            where = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
            what = f"{where} tensor must be 1D or 2D" if where else \
                f"tensor {i} must be 2D"
            raise RuntimeError(f"multi_dot(): {what} but got {t.ndim}D")
    for i, t in enumerate(tensors[1:], start=1):
        if t.array.dtype != tensors[0].array.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {tensors[0].dtype.name} and tensor {i} {t.dtype.name}")
    first, last = tensors[0].ndim == 1, tensors[-1].ndim == 1
    out = tensors[0].unsqueeze(0) if first else tensors[0]
    for t in tensors[1:-1]:
        out = _f.matmul(out, t)
    out = _f.matmul(out, tensors[-1].unsqueeze(-1) if last else tensors[-1])
    if last:
        out = out.squeeze(-1)
    return out.squeeze(0) if first else out
