"""Products against PyTorch: matmul (every rank combination, broadcasting), mm, bmm, mv, dot,
outer, einsum (products, traces of other operands, '...', implicit output), addmm/baddbmm/addmv
with beta/alpha, nn.functional.linear; values, gradients in float64/float32, finite differences,
double backward, and torch's errors."""

import pytest

from tests.helpers import check_op, raises_both, run_both


def _n(*shape):
    return lambda rng: rng.standard_normal(shape)


PRODUCTS = {
    "matmul_2d": (lambda m, a, b: a @ b, [_n(3, 4), _n(4, 5)]),
    "matmul_vec_vec": (lambda m, a, b: m.matmul(a, b), [_n(4), _n(4)]),
    "matmul_mat_vec": (lambda m, a, b: a @ b, [_n(3, 4), _n(4)]),
    "matmul_vec_mat": (lambda m, a, b: a.matmul(b), [_n(4), _n(4, 5)]),
    "matmul_batched_broadcast": (lambda m, a, b: a @ b, [_n(2, 1, 3, 4), _n(3, 4, 2)]),
    "matmul_batched_vec": (lambda m, a, b: a @ b, [_n(2, 3, 4), _n(4)]),
    "matmul_vec_batched": (lambda m, a, b: a @ b, [_n(4), _n(2, 4, 3)]),
    "mm": (lambda m, a, b: m.mm(a, b), [_n(3, 4), _n(4, 2)]),
    "mm_transposed": (lambda m, a, b: a.t().mm(b.t()), [_n(4, 3), _n(2, 4)]),
    "bmm": (lambda m, a, b: m.bmm(a, b), [_n(2, 3, 4), _n(2, 4, 5)]),
    "mv": (lambda m, a, b: m.mv(a, b), [_n(3, 4), _n(4)]),
    "dot": (lambda m, a, b: m.dot(a, b), [_n(5), _n(5)]),
    "inner": (lambda m, a, b: m.inner(a, b), [_n(5), _n(5)]),
    "outer": (lambda m, a, b: m.outer(a, b), [_n(3), _n(4)]),
    "ger_method": (lambda m, a, b: a.outer(b), [_n(3), _n(2)]),
    "einsum_matmul": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [_n(3, 4), _n(4, 5)]),
    "einsum_batched": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [_n(2, 3, 4),
                                                                       _n(2, 4, 5)]),
    "einsum_implicit": (lambda m, a, b: m.einsum("ij,jk", a, b), [_n(3, 4), _n(4, 5)]),
    "einsum_list": (lambda m, a, b: m.einsum("i,j->ij", [a, b]), [_n(3), _n(4)]),
    "einsum_sum_out": (lambda m, a, b: m.einsum("ij,kj->k", a, b), [_n(3, 4), _n(2, 4)]),
    "einsum_ellipsis": (lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
                        [_n(2, 3, 4), _n(2, 4, 2)]),
    "einsum_attention": (lambda m, a, b: m.einsum("bhqd,bhkd->bhqk", a, b).softmax(-1),
                         [_n(2, 2, 3, 4), _n(2, 2, 5, 4)]),
    "einsum_three": (lambda m, a, b: m.einsum("ij,jk,k->i", a, b, b[0]), [_n(3, 4), _n(4, 5)]),
    "einsum_spaces": (lambda m, a, b: m.einsum("i j , j -> i", a, b), [_n(3, 4), _n(4)]),
    "addmm": (lambda m, c, a: m.addmm(c, a, a.t()), [_n(3, 3), _n(3, 4)]),
    "addmm_beta_alpha": (lambda m, c, a: m.addmm(c, a, a.t(), beta=0.5, alpha=2.0),
                         [_n(3), _n(3, 4)]),
    "addmm_method": (lambda m, c, a: c.addmm(a, a.t(), alpha=-1), [_n(3, 3), _n(3, 4)]),
    "baddbmm": (lambda m, c, a: m.baddbmm(c, a, a.transpose(1, 2)), [_n(2, 3, 3), _n(2, 3, 4)]),
    "baddbmm_beta_alpha": (lambda m, c, a: c.baddbmm(a, a.transpose(1, 2), beta=2, alpha=0.5),
                           [_n(2, 3, 3), _n(2, 3, 4)]),
    "addmv": (lambda m, c, a: m.addmv(c, a, a[0], beta=0.5, alpha=3), [_n(3), _n(3, 4)]),
    "linear": (lambda m, x, w: m.nn.functional.linear(x, w), [_n(5, 4), _n(3, 4)]),
    "linear_bias": (lambda m, x, w: m.nn.functional.linear(x, w, w[:, 0]), [_n(2, 5, 4),
                                                                            _n(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_product_against_torch_and_finite_differences(name, rng):
    fn, makers = PRODUCTS[name]
    check_op(fn, [make(rng) for make in makers])


@pytest.mark.parametrize("name", ["matmul_2d", "matmul_batched_broadcast", "matmul_mat_vec",
                                  "einsum_batched", "linear_bias", "bmm"])
def test_product_double_backward(name, rng):
    fn, makers = PRODUCTS[name]
    arrays = [make(rng) for make in makers]

    def f(m):
        a, b = (m.tensor(x, requires_grad=True) for x in arrays)
        ga, gb = m.autograd.grad((fn(m, a, b) ** 2).sum(), (a, b), create_graph=True)
        ((ga ** 2).sum() + (gb * b).sum()).backward()
        return ga, gb, a.grad, b.grad

    run_both(f)


def test_integer_matmul_and_promotion():
    run_both(lambda m: (m.tensor([[1, 2], [3, 4]]) @ m.tensor([[1], [1]]),
                        m.tensor([[1.0, 2.0]], dtype=m.float64) @ m.tensor([[1.0], [1.0]],
                                                                           dtype=m.float64),
                        m.einsum("i,i->", m.tensor([1, 2]), m.tensor([3, 4]))))


@pytest.mark.parametrize("case, match", [
    (lambda m: m.ones(2, 3) @ m.ones(4, 5), "2x3 and 4x5"),
    (lambda m: m.ones(3) @ m.ones(4), None),
    (lambda m: m.matmul(m.tensor(1.0), m.ones(2)), "at least 1D"),
    (lambda m: m.ones(2, 2, 3) @ m.ones(3, 2, 2), None),
    (lambda m: m.mm(m.ones(2), m.ones(2, 2)), None),
    (lambda m: m.bmm(m.ones(2, 3), m.ones(2, 3, 4)), "batch1 must be a 3D tensor"),
    (lambda m: m.bmm(m.ones(2, 3, 4), m.ones(3, 4, 5)), None),
    (lambda m: m.dot(m.ones(2, 2), m.ones(2)), "1D tensors expected"),
    (lambda m: m.einsum("ij,jk->ik", m.ones(2, 3)), None),
    (lambda m: m.einsum("ij->ij", m.ones(2, 3, 4)), None),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)
