"""deepnum.linalg against torch.linalg: norms, inv/det/slogdet/solve/pinv, cholesky, eigh, svd, qr,
lstsq, matrix_power/rank, cross/vecdot/multi_dot, and the torch.* forms (det, logdet, inverse, qr,
svd...) with their Tensor methods. Values and gradients in float64 and float32, finite
differences in float64, named-tuple results, result dtypes, and torch's errors (LinAlgError, a
RuntimeError, for singular and non-positive-definite matrices).

The signs of eigenvectors and singular vectors are LAPACK's choice, so their tests differentiate
sign-invariant functions of them (squares, U diag(S) Vh); symmetric inputs are made as a + a^T
(or a a^T + nI) inside the function, so that finite differences see the same matrix eigh and
cholesky read."""

import math

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import check_op, compare, raises_both, run_both

# torch's own deprecation warnings for the legacy torch.cholesky/qr/svd compared here
pytestmark = pytest.mark.filterwarnings("ignore:torch.* is deprecated in favor of torch.linalg")


def _n(*shape):
    return lambda rng: rng.standard_normal(shape)


def _well(*shape):
    """Well-conditioned square matrices (a random matrix plus 3I), for float32's tolerance."""
    return lambda rng: rng.standard_normal(shape) + 3 * np.eye(shape[-1])


def _spread(*shape):
    """Matrices with well-separated singular values 4, 3, 2, ... (the SVD's gradient divides by
    s_k^2 - s_j^2)."""
    def make(rng):
        m, n = shape[-2:]
        k = min(m, n)
        u = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))[0]
        v = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))[0]
        return (u * (4.0 - np.arange(k) * (3.0 / k))) @ np.swapaxes(v, -1, -2)
    return make


def _spd(m, a):
    return a @ a.mT + a.shape[-1] * m.eye(a.shape[-1], dtype=a.dtype)


def _sym(m, a):
    return a + a.mT


def _svd_invariant(m, r):
    u, s, vh = r
    k = s.shape[-1]
    return m.cat([(u[..., :k] ** 2 * s.unsqueeze(-2)).flatten(),
                  (vh[..., :k, :] ** 2 * s.unsqueeze(-1)).flatten(), s.flatten()])


INF = math.inf
CASES = {
    "inv": (lambda m, a: m.linalg.inv(a), [_well(3, 3)]),
    "inv_batched": (lambda m, a: m.linalg.inv(a), [_well(2, 2, 3, 3)]),
    "det": (lambda m, a: m.linalg.det(a), [_well(3, 3)]),
    "det_batched": (lambda m, a: m.linalg.det(a), [_well(2, 4, 4)]),
    "det_singular": (lambda m, a: m.linalg.det(a @ m.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 0]],
                                                             dtype=a.dtype) @ a.mT),
                     [_well(3, 3)]),
    "slogdet": (lambda m, a: m.linalg.slogdet(a).logabsdet, [_n(2, 3, 3)]),
    "slogdet_sum": (lambda m, a: sum(m.linalg.slogdet(a)), [_well(3, 3)]),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), [_well(3, 3), _n(3, 2)]),
    "solve_vector": (lambda m, a, b: m.linalg.solve(a, b), [_well(3, 3), _n(3)]),
    "solve_batched_vectors": (lambda m, a, b: m.linalg.solve(a, b), [_well(2, 3, 3), _n(2, 3)]),
    "solve_broadcast": (lambda m, a, b: m.linalg.solve(a, b), [_well(2, 3, 3), _n(3, 2)]),
    "solve_broadcast_b": (lambda m, a, b: m.linalg.solve(a, b), [_well(3, 3), _n(2, 3, 2)]),
    "solve_right": (lambda m, a, b: m.linalg.solve(a, b, left=False), [_well(3, 3), _n(2, 3)]),
    "cholesky": (lambda m, a: m.linalg.cholesky(_spd(m, a)), [_n(3, 3)]),
    "cholesky_upper_batched": (lambda m, a: m.linalg.cholesky(_spd(m, a), upper=True),
                               [_n(2, 4, 4)]),
    "eigh": (lambda m, a: (lambda r: r.eigenvectors ** 2 + r.eigenvalues)(
        m.linalg.eigh(_sym(m, a))), [_n(4, 4)]),
    "eigh_reconstruct": (lambda m, a: (lambda r: (r[1] * r[0].unsqueeze(-2) ** 2) @ r[1].mT)(
        m.linalg.eigh(_sym(m, a))), [_n(3, 3)]),
    "eigh_batched_upper": (lambda m, a: (lambda r: r[1].abs() * r[0].unsqueeze(-2))(
        m.linalg.eigh(_sym(m, a), UPLO="U")), [_n(2, 3, 3)]),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(_sym(m, a)), [_n(2, 4, 4)]),
    "svd_square": (lambda m, a: _svd_invariant(m, m.linalg.svd(a)), [_spread(3, 3)]),
    "svd_tall_thin": (lambda m, a: _svd_invariant(m, m.linalg.svd(a, full_matrices=False)),
                      [_spread(5, 3)]),
    "svd_wide_thin": (lambda m, a: _svd_invariant(m, m.linalg.svd(a, full_matrices=False)),
                      [_spread(2, 3, 5)]),
    "svd_tall_full": (lambda m, a: _svd_invariant(m, m.linalg.svd(a)), [_spread(4, 2)]),
    "svd_reconstruct": (lambda m, a: (lambda r: (r.U * r.S.unsqueeze(-2)) @ r.Vh)(
        m.linalg.svd(a, full_matrices=False)), [_spread(4, 3)]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [_spread(2, 4, 3)]),
    "pinv_tall": (lambda m, a: m.linalg.pinv(a), [_spread(5, 3)]),
    "pinv_wide": (lambda m, a: m.linalg.pinv(a), [_spread(2, 3, 4)]),
    "pinv_hermitian": (lambda m, a: m.linalg.pinv(_sym(m, a), hermitian=True), [_well(3, 3)]),
    "qr_tall": (lambda m, a: m.cat([r.flatten() for r in m.linalg.qr(a)]), [_n(5, 3)]),
    "qr_square_batched": (lambda m, a: m.cat([r.flatten() for r in m.linalg.qr(a)]),
                          [_n(2, 3, 3)]),
    "qr_wide": (lambda m, a: m.cat([r.flatten() for r in m.linalg.qr(a)]), [_n(3, 5)]),
    "qr_complete_square": (lambda m, a: m.cat([r.flatten() for r in m.linalg.qr(a, "complete")]),
                           [_n(3, 3)]),
    "qr_r_only": (lambda m, a: m.linalg.qr(a)[1], [_n(4, 3)]),
    "matrix_power_3": (lambda m, a: m.linalg.matrix_power(a, 3), [_n(2, 3, 3)]),
    "matrix_power_neg": (lambda m, a: m.linalg.matrix_power(a, -2), [_well(3, 3)]),
    "matrix_power_0": (lambda m, a: m.linalg.matrix_power(a, 0) * a, [_n(3, 3)]),
    "matrix_power_method": (lambda m, a: a.matrix_power(5), [_well(2, 2)]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), [_n(4, 3), _n(1, 3)]),
    "cross_dim": (lambda m, a, b: m.linalg.cross(a, b, dim=0), [_n(3, 2), _n(3, 2)]),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b), [_n(2, 4), _n(4)]),
    "vecdot_dim": (lambda m, a, b: m.linalg.vecdot(a, b, dim=0), [_n(3, 2), _n(3, 2)]),
    "multi_dot": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [_n(2, 3), _n(3, 4),
                                                                     _n(4, 2)]),
    "multi_dot_vectors": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
                          [_n(3), _n(3, 4), _n(4)]),
    "lstsq_tall": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [_spread(5, 3), _n(5, 2)]),
    "lstsq_wide_batched": (lambda m, a, b: m.linalg.lstsq(a, b).solution,
                           [_spread(2, 3, 4), _n(2, 3, 1)]),
    "lstsq_gelsd_residuals": (lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd").residuals,
                              [_spread(6, 3), _n(6, 2)]),
    # norms
    "vector_norm": (lambda m, a: m.linalg.vector_norm(a), [_n(3, 4)]),
    "vector_norm_dim_keepdim": (lambda m, a: m.linalg.vector_norm(a, dim=1, keepdim=True),
                                [_n(3, 4)]),
    "vector_norm_1": (lambda m, a: m.linalg.vector_norm(a, 1, dim=(0, 2)), [_n(2, 3, 4)]),
    "vector_norm_inf": (lambda m, a: m.linalg.vector_norm(a, INF, dim=-1), [_n(3, 4)]),
    "vector_norm_neg_inf": (lambda m, a: m.linalg.vector_norm(a, -INF), [_n(3, 4)]),
    "vector_norm_3": (lambda m, a: m.linalg.vector_norm(a, 3, dim=0), [_n(3, 4)]),
    "vector_norm_half": (lambda m, a: m.linalg.vector_norm(a, 0.5), [_n(5)]),
    "norm_default": (lambda m, a: m.linalg.norm(a), [_n(2, 3, 4)]),
    "norm_vector_ord": (lambda m, a: m.linalg.norm(a, 1), [_n(5)]),
    "norm_matrix_ord": (lambda m, a: m.linalg.norm(a, INF), [_n(3, 4)]),
    "norm_dim_pair": (lambda m, a: m.linalg.norm(a, "nuc", dim=(0, 2)), [_spread(3, 2, 4)]),
    "norm_dim_int": (lambda m, a: m.linalg.norm(a, 3, dim=1, keepdim=True), [_n(3, 4)]),
    **{f"matrix_norm_{name}": (lambda m, a, o=o: m.linalg.matrix_norm(a, o), [_spread(2, 4, 3)])
       for name, o in [("fro", "fro"), ("nuc", "nuc"), ("2", 2), ("-2", -2), ("1", 1),
                       ("-1", -1), ("inf", INF), ("-inf", -INF)]},
    "matrix_norm_dims_keepdim": (lambda m, a: m.linalg.matrix_norm(a, 1, dim=(2, 0),
                                                                  keepdim=True), [_n(3, 2, 4)]),
    # the torch.* forms and Tensor methods
    "torch_det_method": (lambda m, a: a.det() + m.det(a), [_well(2, 3, 3)]),
    "torch_logdet": (lambda m, a: m.logdet(_spd(m, a)) + _spd(m, a).logdet(), [_n(3, 3)]),
    "torch_slogdet_method": (lambda m, a: a.slogdet()[1], [_n(3, 3)]),
    "torch_inverse": (lambda m, a: m.inverse(a) + a.inverse(), [_well(3, 3)]),
    "torch_cholesky": (lambda m, a: m.cholesky(_spd(m, a)) + _spd(m, a).cholesky(upper=True),
                       [_n(3, 3)]),
    "torch_qr": (lambda m, a: (lambda r: r.Q.sum(0) + r.R.sum(1))(a.qr()), [_n(4, 3)]),
    "torch_svd": (lambda m, a: (lambda r: (r.U ** 2 * r.S).sum(0) + (r.V ** 2 * r.S).sum(0))(
        m.svd(a)), [_spread(4, 3)]),
    "torch_pinverse": (lambda m, a: m.pinverse(a) + a.pinverse(), [_spread(3, 4)]),
    "torch_matrix_power": (lambda m, a: m.matrix_power(a, 2), [_n(3, 3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch_and_finite_differences(name, rng):
    fn, makers = CASES[name]
    check_op(fn, [make(rng) for make in makers])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_named_tuples_and_dtypes(dtype, rng):
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    s = a + np.swapaxes(a, -1, -2)

    def t(m, x=a):
        return m.tensor(x, dtype=getattr(m, dtype))

    run_both(lambda m: m.linalg.slogdet(t(m)))
    run_both(lambda m: m.linalg.qr(t(m)))
    run_both(lambda m: m.linalg.lstsq(t(m), t(m)))
    run_both(lambda m: m.linalg.lstsq(t(m), t(m), driver="gelsd"))
    run_both(lambda m: m.slogdet(t(m)))
    run_both(lambda m: t(m).qr(some=False))
    run_both(lambda m: (m.linalg.matrix_rank(t(m)), m.linalg.eigvalsh(t(m, s)),
                        m.linalg.svdvals(t(m)), m.linalg.det(t(m))))
    # the eigen- and singular vectors: names, eigenvalues and |vectors| (signs vary)
    for m_fn in (lambda m: m.linalg.eigh(t(m, s)), lambda m: m.linalg.svd(t(m)),
                 lambda m: m.svd(t(m))):
        ours, theirs = m_fn(dn), m_fn(torch)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours._fields == tuple(f for f in ("eigenvalues", "eigenvectors", "U", "S",
                                                 "Vh", "V") if hasattr(theirs, f))
        compare(tuple(x.abs() for x in ours), tuple(x.abs() for x in theirs))


def test_requires_grad_of_the_results(rng):
    a = rng.standard_normal((3, 2))

    def f(m):
        x = m.tensor(a, requires_grad=True)
        r = m.linalg.lstsq(x, m.tensor(a[:, :1]), driver="gelsd")
        return (r, m.linalg.slogdet(x[:2]), m.linalg.matrix_rank(x),
                m.linalg.matrix_power(x[:2], 0), m.linalg.matrix_power(x[:2], 1),
                m.linalg.vector_norm(x, 0), m.linalg.norm(x, 0, dim=1),
                m.linalg.matrix_norm(x, -2), m.linalg.svdvals(x), m.linalg.eigvalsh(x[:2]),
                m.linalg.vecdot(x, x), m.linalg.multi_dot([x, x.mT, x]), m.linalg.lstsq(x, x))

    run_both(f)


def test_matrix_rank_and_tolerances(rng):
    low = rng.standard_normal((2, 5, 2)) @ rng.standard_normal((2, 2, 4))
    symmetric = low[0, :4] @ low[0, :4].T
    for kwargs in ({}, {"atol": 1.0}, {"rtol": 0.5}):
        run_both(lambda m, kw=kwargs: m.linalg.matrix_rank(m.tensor(low), **kw))
    run_both(lambda m: m.linalg.matrix_rank(m.tensor(symmetric), hermitian=True))
    run_both(lambda m: m.linalg.pinv(m.tensor(low)))  # rank-deficient: the cutoff drops zeros
    run_both(lambda m: m.linalg.pinv(m.tensor(low), atol=0.1, rtol=0.01))


def test_zero_norm_gradients_are_zero():
    def f(m):
        z = m.zeros(2, 3, dtype=m.float64, requires_grad=True)
        (m.linalg.vector_norm(z) + m.linalg.matrix_norm(z) + m.cdist(z, z).sum()).backward()
        return z.grad

    run_both(f)


def test_exactly_singular_determinant_gradient_is_the_adjugate():
    """A deliberate difference: at a matrix whose LU has an exact zero pivot PyTorch's det
    backward returns 0 (it solves with det(A) = 0 on the right); deepnum returns the adjugate
    adj(A)^T, the true derivative, which finite differences confirm."""
    a = dn.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=dn.float64, requires_grad=True)
    dn.linalg.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    assert dn.gradcheck(dn.linalg.det, [dn.tensor(a.numpy(), requires_grad=True)])
    t = torch.tensor(a.numpy(), requires_grad=True)
    torch.linalg.det(t).backward()
    assert not t.grad.any()  # PyTorch's (documented here so a change in it is noticed)


def test_linalg_loads_lazily_and_its_error_is_a_runtime_error():
    import subprocess
    import sys

    code = "import sys, deepnum; print('deepnum.linalg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert issubclass(dn.linalg.LinAlgError, RuntimeError)
    assert issubclass(dn.linalg.LinAlgError, dn.DeepnumError)


@pytest.mark.parametrize("case, match", [
    (lambda m: m.linalg.inv(m.zeros(3, 3)), "singular"),
    (lambda m: m.linalg.inv(m.zeros(2, 3, 3)), "singular"),
    (lambda m: m.linalg.cholesky(-m.eye(2)), "positive-definite"),
    (lambda m: m.linalg.solve(m.zeros(2, 2), m.ones(2)), "singular"),
    (lambda m: m.cholesky(m.tensor([[1.0, 2.0], [2.0, 1.0]])), "positive-definite"),
])
def test_linalg_errors(case, match):
    error = raises_both(case, match)
    assert isinstance(error, dn.linalg.LinAlgError)


@pytest.mark.parametrize("case, match", [
    (lambda m: m.linalg.det(m.ones(2, 3)), "square"),
    (lambda m: m.linalg.inv(m.ones(3)), "at least 2 dimensions"),
    (lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.int64)), "floating point"),
    (lambda m: m.linalg.eigh(m.ones(2, 3)), "square"),
    (lambda m: m.linalg.eigh(m.eye(2), UPLO="X"), "UPLO"),
    (lambda m: m.linalg.cross(m.ones(2), m.ones(2)), "length 3"),
    (lambda m: m.linalg.qr(m.eye(2), mode="thin"), "mode"),
    (lambda m: m.linalg.solve(m.eye(3), m.ones(2, 1)), None),
    (lambda m: m.linalg.solve(m.eye(2), m.ones(2, dtype=m.float64)), None),
    (lambda m: m.linalg.multi_dot([m.ones(2, 2)]), "at least 2 tensors"),
    (lambda m: m.linalg.multi_dot([m.ones(3), m.ones(3, dtype=m.float64)]), "same dtype"),
    (lambda m: m.linalg.multi_dot([m.ones(2, 2), m.ones(2, 2, 2), m.ones(2)]), "2D"),
    (lambda m: m.linalg.vecdot(m.ones(3), m.ones(3, dtype=m.float64)), "same dtype"),
    (lambda m: m.linalg.cross(m.ones(3), m.ones(3, dtype=m.float64)), "expected scalar type"),
    (lambda m: m.linalg.norm(m.ones(2, 2, 2), 2), "1D or 2D"),
    (lambda m: m.linalg.matrix_norm(m.ones(2, 2), 3), None),
    (lambda m: m.linalg.matrix_power(m.ones(2, 3), 2), None),
    (lambda m: m.linalg.lstsq(m.ones(3, 2), m.ones(4, 1)), None),
    (lambda m: m.linalg.qr(m.ones(3, 2, requires_grad=True), "complete")[0].sum().backward(),
     "not differentiable"),
    (lambda m: m.linalg.qr(m.ones(3, 2, requires_grad=True), "r")[1].sum().backward(),
     "mode='r'"),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)


DOUBLE = {
    "inv": (lambda m, a: m.linalg.inv(a), _well(2, 3, 3)),
    "det": (lambda m, a: m.linalg.det(a), _well(3, 3)),
    "slogdet": (lambda m, a: m.linalg.slogdet(a).logabsdet, _well(2, 3, 3)),
    "solve": (lambda m, a: m.linalg.solve(a, a[..., :1] ** 2), _well(2, 3, 3)),
    "pinv": (lambda m, a: m.linalg.pinv(a), _spread(4, 3)),
    "cholesky": (lambda m, a: m.linalg.cholesky(_spd(m, a)), _n(3, 3)),
    "cholesky_upper": (lambda m, a: m.linalg.cholesky(_spd(m, a), upper=True), _n(3, 3)),
    "eigh": (lambda m, a: (lambda r: r[1] ** 2 * r[0])(m.linalg.eigh(_sym(m, a))), _n(3, 3)),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(_sym(m, a)), _n(2, 3, 3)),
    "svd": (lambda m, a: _svd_invariant(m, m.linalg.svd(a, full_matrices=False)), _spread(4, 3)),
    "svd_wide": (lambda m, a: _svd_invariant(m, m.linalg.svd(a)), _spread(2, 4)),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), _spread(3, 3)),
    "qr": (lambda m, a: m.cat([r.flatten() for r in m.linalg.qr(a)]), _n(4, 3)),
    "qr_wide": (lambda m, a: m.cat([r.flatten() for r in m.linalg.qr(a)]), _n(2, 4)),
    "cross": (lambda m, a: m.linalg.cross(a, a.flip(-1) ** 2), _n(2, 3)),
    "matrix_norm_nuc": (lambda m, a: m.linalg.matrix_norm(a, "nuc"), _spread(3, 4)),
}


@pytest.mark.parametrize("name", sorted(DOUBLE))
def test_double_backward(name, rng):
    fn, make = DOUBLE[name]
    data = make(rng)

    def f(m):
        a = m.tensor(data, requires_grad=True)
        (g,) = m.autograd.grad((fn(m, a) ** 2).sum(), (a,), create_graph=True)
        ((g ** 2).sum() + (g * a).sum()).backward()
        return g, a.grad

    run_both(f)


def test_torch_norm_nuc_is_differentiable(rng):
    a = rng.standard_normal((2, 3, 4))

    def f(m):
        x = m.tensor(a, requires_grad=True)
        y = m.norm(x[0], "nuc") + x.norm("nuc", dim=(0, 2)).sum()
        y.backward()
        return y, x.grad

    run_both(f)


def test_qr_r_mode_and_complete_wide(rng):
    a = rng.standard_normal((2, 4, 3))
    run_both(lambda m: m.linalg.qr(m.tensor(a), mode="r"))
    run_both(lambda m: m.linalg.qr(m.tensor(a).mT, mode="complete"))


@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_drivers_return_what_torchs_do(driver, rng):
    a, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    run_both(lambda m: m.linalg.lstsq(m.tensor(a), m.tensor(b), driver=driver))
    run_both(lambda m: m.linalg.lstsq(m.tensor(a).mT, m.tensor(b[:, :3]), driver=driver))
