"""Matrix functions and decompositions (inv, det, solve, cholesky, eigh, svd, qr, pinv, cross),
each backward the standard matrix-calculus rule right under its forward, on batches of matrices
(the last two dimensions). ``T`` is the transpose of the last two axes.

The rules (real matrices, g the output's gradient):

* inv:      gA = -A^-T g A^-T
* det:      gA = g det(A) A^-T = g adj(A)^T, taken from the SVD so that it holds when A is
  singular too
* slogdet:  gA = g_logabsdet A^-T (the sign is piecewise constant)
* solve:    gB = A^-T g, gA = -gB X^T
* cholesky: gA = sym(L^-T Phi(L^T gL) L^-1), Phi: the lower triangle with its diagonal halved
* eigh:     gA = V (diag(gw) + skew(V^T gV) / 2E) V^T, E_ij = w_j - w_i
* svd:      gA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] V^T (+ the terms of the
  thin side), E_jk = s_k^2 - s_j^2: defined for distinct singular values
* qr:       gA = (gQ + Q copyltu(triu(gR R^T - Q^T gQ))) R^-T for m >= n

These are the rules PyTorch's derivatives use, so the gradients agree with it.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.errors import LinAlgError
from deepnum.ops import unbroadcast


def T(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def _diag(v: np.ndarray) -> np.ndarray:
    """A batch of diagonal matrices from a batch of vectors (torch's diag_embed)."""
    out = np.zeros(v.shape + v.shape[-1:], v.dtype)
    n = v.shape[-1]
    out[..., np.arange(n), np.arange(n)] = v
    return out


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


class Det(Function):
    saves = (0,)

    def forward(self, a):
        self.a = a
        return np.asarray(np.linalg.det(a), a.dtype)

    def backward(self, g):
        # adj(A)^T = det(U) det(V) U diag(prod_{j != i} s_j) V^T: no inverse, so singular works
        u, s, vh = np.linalg.svd(self.a)
        n = s.shape[-1]
        others = np.repeat(s[..., None, :], n, axis=-2)
        others[..., np.arange(n), np.arange(n)] = 1
        scale = (np.linalg.det(u) * np.linalg.det(vh) * g)[..., None, None]
        return (scale * (u * np.prod(others, axis=-1)[..., None, :]) @ vh).astype(self.a.dtype)


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


class Cholesky(Function):
    saves = ()

    def forward(self, a, upper=False):
        self.upper = upper
        try:
            self.L = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.cholesky: The factorization could not be completed "
                              "because the input is not positive-definite.") from None
        return T(self.L).copy() if upper else self.L

    def backward(self, g):
        L = self.L
        gL = T(g) if self.upper else g
        phi = np.tril(T(L) @ gL)
        n = phi.shape[-1]
        phi[..., np.arange(n), np.arange(n)] *= 0.5
        left = np.linalg.solve(T(L), phi)  # L^-T Phi
        ga = T(np.linalg.solve(T(L), T(left)))  # (L^-T Phi) L^-1
        return 0.5 * (ga + T(ga))


class Eigh(Function):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, read from its
    lower (UPLO='L') or upper triangle."""

    saves = ()

    def forward(self, a, UPLO="L"):  # noqa: N803 - PyTorch's name
        self.w, self.v = np.linalg.eigh(a, UPLO=UPLO)
        return self.w.astype(a.dtype), self.v.astype(a.dtype)

    def backward(self, gw, gv):
        w, v = self.w, self.v
        inner = np.zeros(v.shape, v.dtype)
        if gv is not None:
            e = w[..., None, :] - w[..., :, None]
            n = w.shape[-1]
            e[..., np.arange(n), np.arange(n)] = 1  # the diagonal of V^T gV is not used
            vgv = T(v) @ gv  # only its skew part moves V along the orthogonal matrices
            inner = 0.5 * (vgv - T(vgv)) / e
        if gw is not None:
            inner = inner + _diag(gw)
        return v @ inner @ T(v)


class SVD(Function):
    """A = U diag(S) Vh; with full_matrices the gradient uses the first min(m, n) columns of U
    and rows of Vh (the others are not determined by A)."""

    saves = ()

    def forward(self, a, full_matrices=True):
        self.u, self.s, self.vh = np.linalg.svd(a, full_matrices=full_matrices)
        self.m, self.n = a.shape[-2:]
        return self.u, self.s, self.vh

    def backward(self, gu, gs, gvh):
        k = min(self.m, self.n)
        u, s, vh = self.u[..., :k], self.s, self.vh[..., :k, :]
        if gu is None and gvh is None:
            return u @ (gs[..., None] * vh) if gs is not None else None
        gu = None if gu is None else gu[..., :k]
        gv = None if gvh is None else T(gvh[..., :k, :])
        v = T(vh)
        s2 = s * s
        e = s2[..., None, :] - s2[..., :, None]
        e[..., np.arange(k), np.arange(k)] = 1
        inner = np.zeros(s.shape + (k,), s.dtype)
        if gu is not None:
            uhgu = T(u) @ gu
            inner = inner + (uhgu - T(uhgu)) * s[..., None, :]
        if gv is not None:
            vhgv = T(v) @ gv
            inner = inner + s[..., :, None] * (vhgv - T(vhgv))
        inner = inner / e
        if gs is not None:
            inner = inner + _diag(gs)
        if self.m > self.n and gu is not None:  # + (I - U U^T) gU S^-1 V^T
            gus = gu / s[..., None, :]
            return (u @ inner + gus - u @ (T(u) @ gus)) @ vh
        if self.m < self.n and gv is not None:  # + U S^-1 gV^T (I - V V^T)
            gvs = T(gv / s[..., None, :])
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

    def backward(self, gq, gr):
        m, n = self.a.shape[-2:]
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        q, r = self.q, self.r
        if m >= n:
            return _qr_tall_backward(gq, gr, q, r)
        # A = [X | Y], R = [U | V]: X = QU is square, Y = QV
        y = self.a[..., m:]
        gv = None if gr is None else gr[..., m:]
        gq2 = gq if gv is None else (y @ T(gv) if gq is None else gq + y @ T(gv))
        gx = _qr_tall_backward(gq2, None if gr is None else gr[..., :m], q, r[..., :m])
        gy = np.zeros_like(y) if gv is None else q @ gv
        return np.concatenate([gx, gy], axis=-1)


def _qr_tall_backward(gq, gr, q, r):
    m = np.zeros(r.shape[:-2] + (r.shape[-1],) * 2, r.dtype)
    if gr is not None:
        m = m + gr @ T(r)
    if gq is not None:
        m = m - T(q) @ gq
    m = np.triu(m)
    sym = m + T(m)
    k = sym.shape[-1]
    sym[..., np.arange(k), np.arange(k)] *= 0.5
    ga = q @ sym if gq is None else gq + q @ sym
    return T(np.linalg.solve(r, T(ga)))  # ga R^-T


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
        with np.errstate(divide="ignore"):
            s_inv = np.where(keep, 1 / np.where(keep, s, 1), 0)
        self.out = (T(vh) * s_inv[..., None, :]) @ T(u)
        return self.out.astype(a.dtype)

    def backward(self, g):
        a, p = self.a, self.out
        ph, gh = T(p), T(g)
        m, n = a.shape[-2:]
        if m <= n:
            k = gh @ p
            kph = k @ ph
            return -T(p @ k) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
        k = p @ gh
        phk = ph @ k
        return -T(k @ p) + (gh - a @ k) @ p @ ph + phk - phk @ p @ a


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
