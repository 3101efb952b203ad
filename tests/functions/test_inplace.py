"""In-place operations against PyTorch: every ``*_`` method changes the memory (views see it) and
the gradient; a backward that needs a value changed since raises torch's "modified by an inplace
operation" RuntimeError instead of a silently wrong gradient; ops recorded before an in-place
change keep their history; .data and .detach() share memory (.data outside the version counter,
.detach() inside it); leaves that require grad refuse in-place changes outside no_grad."""

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import compare, raises_both, run_both

MODIFIED = "modified by an inplace operation"

# method, args: each applied to a non-leaf y = x * 1, which then flows on to the loss
METHODS = {
    "add_": (lambda m: (m.tensor([1.0, 2.0, 3.0]),), {}),
    "add_alpha": (lambda m: (m.tensor([1.0, 2.0, 3.0]),), {"alpha": -2}),
    "add_scalar": (lambda m: (2.5,), {}),
    "sub_": (lambda m: (m.tensor([1.0, 2.0, 3.0]),), {"alpha": 0.5}),
    "mul_": (lambda m: (m.tensor([1.0, -2.0, 3.0]),), {}),
    "mul_scalar": (lambda m: (3.0,), {}),
    "div_": (lambda m: (m.tensor([1.0, 2.0, 4.0]),), {}),
    "pow_": (lambda m: (2,), {}),
    "clamp_": (lambda m: (), {"min": 0.0, "max": 1.5}),
    "clamp_min_": (lambda m: (0.5,), {}),
    "clamp_max_": (lambda m: (0.5,), {}),
    "relu_": (lambda m: (), {}),
    "sigmoid_": (lambda m: (), {}),
    "tanh_": (lambda m: (), {}),
    "exp_": (lambda m: (), {}),
    "neg_": (lambda m: (), {}),
    "abs_": (lambda m: (), {}),
    "sqrt_": (lambda m: (), {}),
    "masked_fill_": (lambda m: (m.tensor([True, False, True]), 0.5), {}),
    "lerp_": (lambda m: (m.tensor([1.0, 1.0, 1.0]), 0.25), {}),
    "addcmul_": (lambda m: (m.tensor([1.0, 2.0, 3.0]), m.tensor([2.0, 2.0, 2.0])),
                 {"value": 0.5}),
    "addcdiv_": (lambda m: (m.tensor([1.0, 2.0, 3.0]), m.tensor([2.0, 4.0, 8.0])), {}),
    "copy_": (lambda m: (m.tensor([7.0, 8.0, 9.0]),), {}),
    "fill_": (lambda m: (2.0,), {}),
    "zero_": (lambda m: (), {}),
    "scatter_": (lambda m: (0, m.tensor([2, 0]), m.tensor([5.0, 6.0])), {}),
    "index_fill_": (lambda m: (0, m.tensor([1]), -1.0), {}),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_inplace_method_values_and_gradient(name):
    method = name if name.endswith("_") else name.rsplit("_", 1)[0] + "_"
    make_args, kwargs = METHODS[name]

    def f(m):
        x = m.tensor([0.3, 1.2, 2.0], requires_grad=True)
        y = x * 1  # a non-leaf: in-place is allowed
        out = getattr(y, method)(*make_args(m), **kwargs)
        (y * m.tensor([1.0, 2.0, 3.0])).sum().backward()
        return out is y, y, x.grad, y._version > 0

    run_both(f)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_inplace_method_without_gradients_writes_the_memory_views_see(name):
    method = name if name.endswith("_") else name.rsplit("_", 1)[0] + "_"
    make_args, kwargs = METHODS[name]

    def f(m):
        base = m.tensor([[0.3, 1.2, 2.0], [4.0, 5.0, 6.0]])
        row = base[0]
        getattr(row, method)(*make_args(m), **kwargs)
        return base, row

    run_both(f)


def test_random_fills_change_the_memory_in_the_distribution():
    for m in (torch, dn):
        x = m.zeros(2000)
        view = x[:1000]
        assert x.normal_(2.0, 0.5) is x
        assert view[0] == x[0]
        assert abs(float(x.mean()) - 2.0) < 0.05 and abs(float(x.std()) - 0.5) < 0.05
        x.uniform_(-1.0, 3.0)
        assert float(x.min()) >= -1.0 and float(x.max()) < 3.0
        assert abs(float(x.mean()) - 1.0) < 0.1
        x.bernoulli_(0.25)
        assert set(x.unique().tolist()) <= {0.0, 1.0}
        x.exponential_(2.0)
        assert abs(float(x.mean()) - 0.5) < 0.05
        x.random_(0, 5)
        assert set(x.unique().tolist()) <= {0.0, 1.0, 2.0, 3.0, 4.0}
        g = m.Generator().manual_seed(3)
        a = m.zeros(4).normal_(generator=g)
        g.manual_seed(3)
        assert m.equal(a, m.zeros(4).normal_(generator=g))


# ---------------------------------------------------------------------------- version checks
def test_the_issue_case_changing_a_saved_input_raises():
    """The issue: W [100, 4] and x [3, 4]; x changed in place after x @ W.t() saved it."""
    def f(m):
        w = m.ones(100, 4, requires_grad=True)
        x = m.ones(3, 4)
        out = x @ w.t()
        x.add_(1)
        out.sum().backward()

    raises_both(f, MODIFIED)


SAVE_THEIR_OUTPUT = ("sigmoid", "tanh", "exp", "sqrt", "softmax")


@pytest.mark.parametrize("op", ["mul", "div", "pow", "sigmoid", "tanh", "exp", "sqrt", "log",
                                "matmul", "max", "softmax", "norm", "sin", "abs", "prod"])
def test_changing_what_backward_reads_raises(op):
    ops = {"mul": lambda y: y * y, "div": lambda y: y / (y + 1), "pow": lambda y: y ** 3,
           "sigmoid": lambda y: y.sigmoid(), "tanh": lambda y: y.tanh(), "exp": lambda y: y.exp(),
           "sqrt": lambda y: y.sqrt(), "log": lambda y: y.log(), "matmul": lambda y: y @ y.t(),
           "max": lambda y: y.amax(1), "softmax": lambda y: y.softmax(1),
           "norm": lambda y: y.norm(), "sin": lambda y: y.sin(), "abs": lambda y: y.abs(),
           "prod": lambda y: y.prod(1)}

    def f(m, change_output):
        x = m.ones(3, 4, requires_grad=True)
        y = x * 2
        z = ops[op](y)
        (z if change_output else y).mul_(2)
        z.sum().backward()
        return x.grad

    if op in SAVE_THEIR_OUTPUT:  # their backward reads the output, not the input
        raises_both(lambda m: f(m, True), MODIFIED)
        run_both(lambda m: f(m, False))
    else:
        raises_both(lambda m: f(m, False), MODIFIED)


def test_changing_what_backward_does_not_read_is_fine():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        z = y + 3  # add does not keep y
        w = y.sum()
        y.mul_(5)  # z and w were recorded before: their gradients ignore this
        (z.sum() + w + y.sum()).backward()
        return z, y, x.grad

    run_both(f)


def test_in_place_with_grad_makes_a_constant_part_of_the_graph_from_then_on():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        c = m.zeros(2)
        before = c * 3 + 1  # recorded while c was a constant
        c.add_(x * x)
        after = c * 3
        (before.sum() + after.sum()).backward()
        return c.requires_grad, c.is_leaf, before.requires_grad, x.grad

    run_both(f)


def test_views_share_the_version_counter():
    def f(m):
        x = m.ones(3, 4, requires_grad=True)
        y = x.exp()
        y[0].zero_()  # a view of y: y's saved output changed
        y.sum().backward()

    raises_both(f, MODIFIED)

    def versions(m):
        x = m.ones(3, 4)
        v, t = x[1], x.t()
        v.add_(1)
        t.mul_(2)
        x[0, 0] = 5
        return x._version, x

    run_both(versions)


def test_in_place_through_a_view_of_a_non_leaf_flows_into_the_gradient():
    def f(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 1
        y[0].mul_(10)
        y[:, 1] += 1
        (y * y).sum().backward()
        return y, x.grad

    run_both(f)


def test_in_place_on_the_base_reaches_views_made_before():
    def f(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 1
        v, c = y[0], y[:, 1]
        y.mul_(2)  # v and c now hold doubled values: their gradients must say so
        v.mul_(3)  # and y (and c) hold v's tripled ones
        (v.sum() * 5 + c.sum() + y.sum() * 7).backward()
        return y, v, c, x.grad

    run_both(f)


def test_a_constant_with_views_filled_in_place_from_a_leaf():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        z = m.zeros(2, 2)
        row, col = z[1], z.t()[0]
        z.add_(x * 3)
        ((row * m.tensor([3.0, 4.0])).sum() + col.sum()).backward()
        return z, row, col, x.grad, row.requires_grad

    run_both(f)


def test_setitem_on_a_view_of_a_non_leaf():
    def f(m):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y = x.exp()
        z = y * 1
        z.t()[1][0] = y[1, 2]  # z[0, 1] = y[1, 2], through a view of a view
        (z * m.arange(6.0).reshape(2, 3)).sum().backward()
        return z, x.grad

    run_both(f)


def test_detached_memory_changed_in_place_does_not_change_the_history():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        y = x * 2
        d = y.detach()
        d.add_(w)  # y's values change (shared memory) but not its history, as in torch
        (y * 3).sum().backward()
        return y, d.requires_grad, x.grad, w.grad

    run_both(f)


def test_data_shares_memory_outside_the_graph_and_the_version_counter():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.exp()
        d = y.data
        d.zero_()  # not seen by autograd: the gradient uses the changed values, as torch
        y.sum().backward()
        p = m.tensor([1.0, 2.0], requires_grad=True)
        p.data.add_(1)  # the optimizer idiom
        p.data = m.tensor([5.0, 6.0])
        return d.requires_grad, d.is_leaf, y, x.grad, p, p.requires_grad

    run_both(f)


def test_detach_shares_memory_and_the_version_counter():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.exp()
        d = y.detach()
        d.zero_()
        y.sum().backward()

    raises_both(f, MODIFIED)

    def g(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        d = x.detach()
        d[0] = 10.0  # the same memory as x
        y = (x * 2).detach_()
        return x, d.requires_grad, y.requires_grad, y.is_leaf, x._version

    run_both(g)


@pytest.mark.parametrize("change", [
    lambda m, w: w.add_(1), lambda m, w: w.mul_(2), lambda m, w: w.zero_(),
    lambda m, w: w.fill_(1.0), lambda m, w: w.copy_(m.ones(3)), lambda m, w: w.normal_(),
    lambda m, w: w.uniform_(), lambda m, w: w.clamp_(0, 1), lambda m, w: w.relu_(),
    lambda m, w: w.__setitem__(0, 1.0), lambda m, w: w.masked_fill_(w > 0, 0.0),
])
def test_a_leaf_that_requires_grad_refuses_in_place_outside_no_grad(change):
    raises_both(lambda m: change(m, m.zeros(3, requires_grad=True)),
                "leaf Variable that requires grad is being used in an in-place operation")

    def allowed(m):
        w = m.zeros(3, requires_grad=True)
        with m.no_grad():
            change(m, w)
        return w.requires_grad, w.is_leaf, w.grad_fn is None

    run_both(allowed)


def test_an_sgd_step_written_the_pytorch_way():
    def f(m):
        w = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        for _ in range(3):
            loss = ((w * m.tensor([0.5, 1.0, 2.0])) ** 2).sum()
            loss.backward()
            with m.no_grad():
                w -= 0.1 * w.grad
                w.grad.zero_()
        return w, w.grad

    run_both(f)


@pytest.mark.parametrize("case, match", [
    (lambda m: m.tensor([1, 2]).add_(0.5), "can't be cast"),
    (lambda m: m.tensor([1, 2]).div_(2), "can't be cast"),
    (lambda m: m.tensor([1, 2]).mul_(1.5), "can't be cast"),
    (lambda m: m.tensor([True]).add_(1), "can't be cast"),
    (lambda m: m.ones(3).add_(m.ones(2, 3)), None),
    (lambda m: m.ones(2).fill_(m.ones(2)), "0-dim"),
    (lambda m: m.ones(2).clamp_(), "At least one of 'min' or 'max'"),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)


def test_integer_in_place_ops_keep_the_integer_type():
    run_both(lambda m: (m.tensor([1, 2]).add_(3), m.tensor([5, 7]).mul_(2),
                        m.tensor([5, 7]).div_(2, rounding_mode="floor"),
                        m.tensor([1.5, 2.5]).add_(m.tensor([1, 1])),
                        m.tensor([1, 2], dtype=m.int32).add_(m.tensor([3])),
                        m.tensor([-1, 2]).clamp_(0), m.tensor([3, 4]).fill_(2.7),
                        m.tensor([1.0, 2.0]).copy_(m.tensor([5, 6]))))


def test_augmented_assignment_is_in_place():
    def f(m):
        x = m.tensor([1.0, 2.0])
        alias = x
        x += 1
        x *= 3
        x -= m.tensor([1.0, 1.0])
        x /= 2
        return alias is x, alias

    run_both(f)
    compare(dn.ones(2).__iadd__(1), torch.ones(2).__iadd__(1))


def test_in_place_on_integer_index_tensor_with_broadcast():
    x = np.arange(6).reshape(2, 3)
    run_both(lambda m: m.tensor(x).add_(m.tensor([1, 1, 1])))


VIEWS = [lambda y: y[0], lambda y: y[:, 1], lambda y: y.t(), lambda y: y[1:, ::2],
         lambda y: y.view(-1), lambda y: y.reshape(4, 3)[1:3], lambda y: y.unsqueeze(0)[0],
         lambda y: y[..., 2], lambda y: y.narrow(1, 1, 2), lambda y: y, lambda y: y.select(0, 2)]
CHANGES = [lambda m, v, w: v.mul_(w[0]), lambda m, v, w: v.add_(w[1] * 2),
           lambda m, v, w: v.zero_(), lambda m, v, w: v.__setitem__(0, w[2]),
           lambda m, v, w: v.sub_(w.sum()), lambda m, v, w: v.clamp_(-1.0, 1.0),
           lambda m, v, w: v.copy_(v.exp() * w[3]), lambda m, v, w: v.sigmoid_(),
           lambda m, v, w: v.masked_fill_(v > 0.5, 0.25)]


@pytest.mark.parametrize("seed", range(60))
def test_random_sequences_of_in_place_changes_through_views(seed):
    """Property: any sequence of in-place changes through views of a non-leaf, with values read
    in between, gives the values and gradients of the same program written out of place (each
    change made on a fresh clone, run in torch), and torch's own where torch runs it. Where
    torch refuses (a value its backward keeps was changed), deepnum computes the out-of-place
    answer: its in-place ops keep their own copy of what backward reads (a deliberate
    difference, never a wrong gradient)."""
    rng = np.random.default_rng(seed)
    steps = [(int(rng.integers(len(VIEWS))), int(rng.integers(len(CHANGES))),
              int(rng.integers(len(VIEWS))), float(rng.standard_normal())) for _ in range(5)]
    x0, w0 = rng.standard_normal((3, 4)), rng.standard_normal(4)

    def f(m, out_of_place=False):
        x = m.tensor(x0, requires_grad=True)
        w = m.tensor(w0, requires_grad=True)
        y = x * 1.5
        reads = []
        for view, change, read, weight in steps:
            if out_of_place:
                y = y.clone()
            CHANGES[change](m, VIEWS[view](y), w)
            reads.append((VIEWS[read](y) * weight).sum())  # a value read between changes
        loss = sum(reads) + (y * y).sum()
        loss.backward()
        return y, x.grad, w.grad

    compare(f(dn), f(torch, out_of_place=True))
    try:
        theirs = f(torch)
    except RuntimeError as error:
        assert MODIFIED in str(error)
    else:
        compare(f(dn), theirs)


def test_transposing_in_place_transposes_the_history():
    """t_()/transpose_() on a non-leaf: its gradient is transposed back (it was not)."""
    def f(m):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y = x * 1
        y.transpose_(0, 1)
        y[0, 1] = 7.0
        z = (x * 2).t_()
        z.unsqueeze_(0)
        ((y * m.arange(6.0).view(3, 2)).sum() + (z * z).sum()).backward()
        w = m.arange(6.0).view(2, 3)
        w.t_()
        w[0, 1] = -1.0
        return y, z, x.grad, w, y.is_contiguous()

    run_both(f)


def test_an_in_place_op_with_itself_as_operand_raises_like_torch():
    """y.mul_(y): the operand mul_ saved is the y it changes."""
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        y.clamp_(min=1.5).mul_(y)
        y.sum().backward()

    raises_both(f, MODIFIED)
