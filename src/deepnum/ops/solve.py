"""Inverses, determinants and solvers on batches of matrices (the last two dimensions), each
backward the matrix-calculus rule right under its forward, and ``vjp`` the same rule on tensors
(so create_graph=True differentiates it again). ``T`` is the transpose of the last two axes.

* inv:      gA = -A^-T g A^-T
* det:      gA = g det(A) A^-T = g adj(A)^T, taken from the SVD so that it holds when A is
  singular too
* slogdet:  gA = g_logabsdet A^-T (the sign is piecewise constant: no gradient)
* solve:    gB = A^-T g, gA = -gB X^T (summed back over broadcast batch dimensions)
* pinv:     PyTorch's rule (pinv_backward), valid at any constant rank

>>> Inv.apply(dn.eye(2) * 2)                   # 0.5 I
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.errors import LinAlgError
from deepnum.ops import constant, sum_to, unbroadcast


def T(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


class Inv(Function):
    saves = ()

    def forward(self, a):
        try:
            self.out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.inv: The inversion could not be completed because the "
                              "input matrix is singular.") from None
        return self.out

    def backward(self, g):
        inv_t = T(self.out)
        return -(inv_t @ g @ inv_t)

    def vjp(self, g):
        inv_t = Inv.apply(self.parents[0]).mT
        return -(inv_t @ g @ inv_t)


class Det(Function):
    saves = (0,)

    def forward(self, a):
        self.a = a
        return np.asarray(np.linalg.det(a), a.dtype)

    def backward(self, g):
        # adj(A)^T = det(U) det(V) U diag(prod_{j != i} s_j) V^T: no inverse, so singular works
        # (in float64: float32's SVD would lose digits that det(A) A^-T keeps)
        u, s, vh = np.linalg.svd(self.a.astype(np.float64, copy=False))
        n = s.shape[-1]
        others = np.repeat(s[..., None, :], n, axis=-2)
        others[..., np.arange(n), np.arange(n)] = 1
        scale = (np.linalg.det(u) * np.linalg.det(vh) * g)[..., None, None]
        return (scale * (u * np.prod(others, axis=-1)[..., None, :]) @ vh).astype(self.a.dtype)

    def vjp(self, g):
        (a,) = self.parents  # g det(A) A^-T: invertible matrices only
        return (g * Det.apply(a)).unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT


class Slogdet(Function):
    saves = (0,)

    def forward(self, a):
        self.a = a
        sign, logabsdet = np.linalg.slogdet(a)
        return np.asarray(sign, a.dtype), np.asarray(logabsdet, a.dtype)

    def backward(self, g_sign, g_log):
        if g_log is None:
            return np.zeros_like(self.a)
        return g_log[..., None, None] * T(np.linalg.inv(self.a))

    def vjp(self, g_sign, g_log):
        (a,) = self.parents
        if g_log is None:
            return constant(np.zeros_like(self.a))
        return g_log.unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT


class Solve(Function):
    """X = A^-1 B for matrices B (..., n, k); the batch dimensions broadcast."""

    saves = (0,)
    saves_output = True

    def forward(self, a, b):
        self.a, self.b_shape = a, b.shape
        try:
            self.x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix "
                              "is singular.") from None
        return self.x

    def backward(self, g):
        gb = np.linalg.solve(T(self.a), g)
        ga = -(gb @ T(self.x)) if self.needs_input_grad[0] else None
        return (None if ga is None else unbroadcast(ga, self.a.shape),
                unbroadcast(gb, self.b_shape) if self.needs_input_grad[1] else None)

    def vjp(self, g):
        a, b = self.parents
        gb = Solve.apply(a.mT, g)
        ga = -(gb @ Solve.apply(a, b).mT)
        return sum_to(ga, tuple(a.shape)), sum_to(gb, tuple(b.shape))


class Pinv(Function):
    """The Moore-Penrose inverse from the SVD (or eigh when hermitian), singular values at most
    max(atol, rtol * s_max) taken as zero."""

    saves = (0,)
    saves_output = True

    def forward(self, a, atol=0.0, rtol=None, hermitian=False):
        self.a = a
        if rtol is None:
            rtol = max(a.shape[-2:]) * np.finfo(a.dtype).eps if not atol else 0.0
        if hermitian:
            w, v = np.linalg.eigh(a)
            u, s, vh = v, np.abs(w), T(v * np.sign(w)[..., None, :])
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
        smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
        keep = s > np.maximum(atol, rtol * smax)
        s_inv = np.where(keep, 1 / np.where(keep, s, 1), 0)
        self.out = ((T(vh) * s_inv[..., None, :]) @ T(u)).astype(a.dtype)
        return self.out

    def backward(self, g):
        return _pinv_rule(self.a, self.out, g, lambda x: T(x))

    def vjp(self, g):
        (a,) = self.parents
        return _pinv_rule(a, Pinv.apply(a, **self.attributes), g, lambda x: x.mT)


def _pinv_rule(a, p, g, t):
    """PyTorch's pinv_backward, on arrays or tensors (``t`` transposes), in the order that keeps
    the intermediate matrices smallest."""
    ph, gh = t(p), t(g)
    m, n = a.shape[-2:]
    if m <= n:
        k = gh @ p
        kph = k @ ph
        return -t(p @ k) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
    k = p @ gh
    phk = ph @ k
    return -t(k @ p) + (gh - a @ k) @ p @ ph + phk - phk @ p @ a
