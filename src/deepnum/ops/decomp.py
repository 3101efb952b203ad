"""Matrix decompositions (cholesky, eigh, svd, qr) on batches of matrices (the last two
dimensions). Each rule is written once, on a namespace of array operations: ``backward`` runs
it on the ndarrays, ``vjp`` on tensors (recomputing the factors in the graph), so that
create_graph=True differentiates it again. g is an output's gradient, T a transpose:

* cholesky: gA = sym(L^-T Phi(L^T gL) L^-1), Phi: the lower triangle with its diagonal halved
* eigh:     gA = V (diag(gw) + skew(V^T gV) / 2E) V^T, E_ij = w_j - w_i
* svd:      gA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] V^T (+ the terms of the
  thin side), E_jk = s_k^2 - s_j^2: defined for distinct singular values
* qr:       gA = (gQ + Q copyltu(triu(gR R^T - Q^T gQ))) R^-T for m >= n; a wide A = [X|Y]
  splits into the square X = QU and Y = QV

These are the rules PyTorch's derivatives use, so the gradients agree with it.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.errors import LinAlgError
from deepnum.ops import constant


def T(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


class _Arrays:
    """The operations the rules use, on ndarrays."""

    t = staticmethod(T)
    tril, triu = staticmethod(np.tril), staticmethod(np.triu)
    solve = staticmethod(np.linalg.solve)

    @staticmethod
    def eye(n, like):
        return np.eye(n, dtype=like.dtype)

    @staticmethod
    def row(v):
        return v[..., None, :]

    @staticmethod
    def col(v):
        return v[..., :, None]

    @staticmethod
    def cat(parts):
        return np.concatenate(parts, axis=-1)


class _Tensors:
    """The same operations on tensors, differentiable."""

    @staticmethod
    def t(x):
        return x.mT

    @staticmethod
    def tril(x):
        from deepnum.functions.shape import tril

        return tril(x)

    @staticmethod
    def triu(x):
        from deepnum.functions.shape import triu

        return triu(x)

    @staticmethod
    def solve(a, b):
        from deepnum.ops.solve import Solve

        return Solve.apply(a, b)

    @staticmethod
    def eye(n, like):
        return constant(np.eye(n, dtype=like.array.dtype))

    @staticmethod
    def row(v):
        return v.unsqueeze(-2)

    @staticmethod
    def col(v):
        return v.unsqueeze(-1)

    @staticmethod
    def cat(parts):
        from deepnum.functions.shape import cat

        return cat(parts, -1)


class Cholesky(Function):
    saves = ()  # backward reads L, as PyTorch's (vjp recomputes it from A)

    def forward(self, a, upper=False):
        self.upper = upper
        try:
            self.L = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.cholesky: The factorization could not be completed "
                              "because the input is not positive-definite.") from None
        return T(self.L).copy() if upper else self.L

    def backward(self, g):
        return _cholesky_rule(_Arrays, self.L, T(g) if self.upper else g)

    def vjp(self, g):
        lower = Cholesky.apply(self.parents[0])
        return _cholesky_rule(_Tensors, lower, g.mT if self.upper else g)


def _cholesky_rule(xp, L, gL):
    n = L.shape[-1]
    phi = xp.tril(xp.t(L) @ gL)
    phi = phi - 0.5 * phi * xp.eye(n, L)
    left = xp.solve(xp.t(L), phi)  # L^-T Phi
    ga = xp.t(xp.solve(xp.t(L), xp.t(left)))  # (L^-T Phi) L^-1
    return 0.5 * (ga + xp.t(ga))


class Eigh(Function):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, read from its
    lower (UPLO='L') or upper triangle."""

    saves = ()

    def forward(self, a, UPLO="L"):  # noqa: N803 - PyTorch's name
        self.w, self.v = np.linalg.eigh(a, UPLO=UPLO)
        return self.w.astype(a.dtype), self.v.astype(a.dtype)

    def backward(self, gw, gv):
        return _eigh_rule(_Arrays, self.w, self.v, gw, gv)

    def vjp(self, gw, gv):
        w, v = Eigh.apply(self.parents[0], **self.attributes)
        return _eigh_rule(_Tensors, w, v, gw, gv)


def _eigh_rule(xp, w, v, gw, gv):
    eye = xp.eye(w.shape[-1], w)
    inner = 0 * eye
    if gv is not None:
        vgv = xp.t(v) @ gv  # only its skew part moves V along the orthogonal matrices
        e = xp.row(w) - xp.col(w) + eye  # the diagonal (0 / 0) is not used: 1 there
        inner = 0.5 * (vgv - xp.t(vgv)) / e
    if gw is not None:
        inner = inner + xp.col(gw) * eye
    return v @ inner @ xp.t(v)


class SVD(Function):
    """A = U diag(S) Vh; with full_matrices the gradient uses the first min(m, n) columns of U
    and rows of Vh (the others are not determined by A)."""

    saves = ()

    def forward(self, a, full_matrices=True):
        self.u, self.s, self.vh = np.linalg.svd(a, full_matrices=full_matrices)
        return self.u, self.s, self.vh

    def backward(self, gu, gs, gvh):
        return _svd_rule(_Arrays, self.u, self.s, self.vh, gu, gs, gvh)

    def vjp(self, gu, gs, gvh):
        u, s, vh = SVD.apply(self.parents[0], **self.attributes)
        return _svd_rule(_Tensors, u, s, vh, gu, gs, gvh)


def _svd_rule(xp, u, s, vh, gu, gs, gvh):
    m, n = u.shape[-2], vh.shape[-1]
    k = min(m, n)
    u, vh = u[..., :k], vh[..., :k, :]
    if gu is None and gvh is None:
        return u @ (xp.col(gs) * vh)
    gu = None if gu is None else gu[..., :k]
    gv = None if gvh is None else xp.t(gvh[..., :k, :])
    v, eye = xp.t(vh), xp.eye(k, s)
    inner = 0 * eye
    if gu is not None:
        uhgu = xp.t(u) @ gu
        inner = inner + (uhgu - xp.t(uhgu)) * xp.row(s)
    if gv is not None:
        vhgv = xp.t(v) @ gv
        inner = inner + xp.col(s) * (vhgv - xp.t(vhgv))
    s2 = s * s
    inner = inner / (xp.row(s2) - xp.col(s2) + eye)
    if gs is not None:
        inner = inner + xp.col(gs) * eye
    if m > n and gu is not None:  # + (I - U U^T) gU S^-1 V^T
        gus = gu / xp.row(s)
        return (u @ inner + gus - u @ (xp.t(u) @ gus)) @ vh
    if m < n and gv is not None:  # + U S^-1 gV^T (I - V V^T)
        gvs = xp.t(gv / xp.row(s))
        return u @ (inner @ vh + gvs - (gvs @ v) @ vh)
    return u @ inner @ vh


class QR(Function):
    """A = QR (Householder, as LAPACK's geqrf, so the signs agree with PyTorch's)."""

    saves = (0,)

    def forward(self, a, mode="reduced"):
        self.a, self.mode = a, mode
        if mode == "r":
            self.r = np.linalg.qr(a, mode="r")
            self.q = np.zeros((0,), a.dtype)
        else:
            self.q, self.r = np.linalg.qr(a, mode=mode)
        return self.q, self.r

    def _check(self):
        m, n = self.a.shape[-2:]
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")

    def backward(self, gq, gr):
        self._check()
        return _qr_rule(_Arrays, self.a, self.q, self.r, gq, gr)

    def vjp(self, gq, gr):
        self._check()
        a = self.parents[0]
        q, r = QR.apply(a, mode=self.mode)
        return _qr_rule(_Tensors, a, q, r, gq, gr)


def _qr_rule(xp, a, q, r, gq, gr):
    m, n = a.shape[-2:]
    if m >= n:
        return _qr_tall_rule(xp, q, r, gq, gr)
    # A = [X | Y], R = [U | V]: X = QU is square, Y = QV
    y = a[..., m:]
    gv = None if gr is None else gr[..., m:]
    if gv is not None:
        gq = y @ xp.t(gv) if gq is None else gq + y @ xp.t(gv)
    gx = _qr_tall_rule(xp, q, r[..., :m], gq, None if gr is None else gr[..., :m])
    gy = 0 * y if gv is None else q @ gv
    return xp.cat([gx, gy])


def _qr_tall_rule(xp, q, r, gq, gr):
    eye = xp.eye(r.shape[-1], r)
    m = 0 * eye
    if gr is not None:
        m = m + gr @ xp.t(r)
    if gq is not None:
        m = m - xp.t(q) @ gq
    m = xp.triu(m)
    sym = m + xp.t(m) - m * eye  # copyltu: the upper triangle mirrored, the diagonal once
    ga = q @ sym if gq is None else gq + q @ sym
    return xp.t(xp.solve(r, xp.t(ga)))  # ga R^-T
