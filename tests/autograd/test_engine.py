"""The backward engine against PyTorch: backward (gradient=, retain_graph, inputs=), autograd.grad
(grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads), higher-order
gradients (a WGAN-GP gradient penalty into a LeakyReLU critic's weights, a Hessian-vector
product, third derivatives), accumulation, retain_grad, tensor hooks (order, replacing the
gradient, handle.remove()), requires_grad_, and the errors torch raises."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from tests.helpers import raises_both, run_both


def _data(seed=0, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------- backward
def test_backward_with_a_gradient_accumulates_into_leaves():
    def f(m):
        x = m.tensor(_data(0, 2, 3), requires_grad=True)
        w = m.tensor(_data(1, 3), requires_grad=True)
        y = x * w + x.exp()
        y.backward(m.tensor(_data(2, 2, 3)))
        (x * 2).sum().backward()  # a second graph: adds to x.grad
        return x.grad, w.grad, y.grad_fn is not None, x.is_leaf, y.is_leaf

    run_both(f)


def test_a_tensor_used_twice_gets_both_contributions():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = x * x
        b = a + a.sin() * x
        c = m.stack([b, a, x]).prod(0)
        c.sum().backward()
        return c, x.grad

    run_both(f)


def test_retain_graph_allows_a_second_backward_and_its_absence_raises():
    def twice(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    run_both(twice)
    raises_both(lambda m: [y.backward() for y in [(m.tensor([1.0], requires_grad=True).exp()
                                                   * 2).sum()] for _ in range(2)],
                "backward through the graph a second time")


def test_backward_inputs_only_fills_those():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        h = x * w
        h.retain_grad()
        loss = (h * h).sum()
        loss.backward(inputs=[w], retain_graph=True)
        first = (x.grad, w.grad)
        loss.backward(inputs=(x, h))  # a non-leaf input gets .grad too
        return first, x.grad, w.grad, h.grad

    run_both(f)


def test_autograd_backward_of_several_roots():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        a, b = x * 3, x.exp()
        m.autograd.backward([a.sum(), b], [None, m.tensor([1.0, -1.0])])
        return x.grad

    run_both(f)


# ---------------------------------------------------------------------------- autograd.grad
def test_grad_returns_and_does_not_accumulate():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = (x * w).tanh()
        gx, gw = m.autograd.grad(y, (x, w), grad_outputs=m.tensor([1.0, 2.0, 3.0]),
                                 retain_graph=True)
        (only,) = m.autograd.grad(y.sum(), [w])
        return gx, gw, only, x.grad, w.grad, gx.requires_grad

    run_both(f)


def test_grad_of_several_outputs_and_retain_graph():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        a, b = x ** 2, x.sin()
        (g,) = m.autograd.grad([a.sum(), b.sum()], x, retain_graph=True)
        (h,) = m.autograd.grad(a, x, grad_outputs=m.ones(2))
        return g, h

    run_both(f)


def test_grad_allow_unused_and_materialize_grads():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        unused = m.tensor([5.0], requires_grad=True)
        y = (x * 2).sum()
        a = m.autograd.grad(y, (x, unused), allow_unused=True, retain_graph=True)
        b = m.autograd.grad(y, (x, unused), materialize_grads=True)
        return a, b

    run_both(f)
    raises_both(lambda m: m.autograd.grad((m.ones(2, requires_grad=True) * 2).sum(),
                                          m.ones(1, requires_grad=True)),
                "appears to not have been used in the graph")


def test_grad_with_respect_to_an_intermediate_tensor():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x.exp()
        y = (h * h).sum()
        (gh,) = m.autograd.grad(y, h, retain_graph=True)
        (gx,) = m.autograd.grad(y, x)
        return gh, gx

    run_both(f)


# ---------------------------------------------------------------------------- higher order
def _critic(m, weights):
    """A small MLP critic with LeakyReLU, its weights given."""
    w1, b1, w2, b2, w3, b3 = weights

    def critic(x):
        h = m.nn.functional.leaky_relu(x @ w1.t() + b1, 0.2)
        h = m.nn.functional.leaky_relu(m.nn.functional.linear(h, w2, b2), 0.2)
        return h @ w3.t() + b3

    return critic


def test_wgan_gp_gradient_penalty_into_the_critics_weights():
    """WGAN-GP: penalty ((|d critic(x_hat) / d x_hat|_2 - 1)^2).mean(), backpropagated into the
    critic's weights (a gradient of a gradient), equal to PyTorch's."""
    shapes = [(8, 4), (8,), (6, 8), (6,), (1, 6), (1,)]
    arrays = [_data(i, *s) * 0.5 for i, s in enumerate(shapes)]
    real, fake, alpha = _data(10, 5, 4), _data(11, 5, 4), np.random.default_rng(12).random((5, 1))

    def f(m):
        weights = [m.tensor(a, requires_grad=True) for a in arrays]
        critic = _critic(m, weights)
        a = m.tensor(alpha)
        x_hat = (a * m.tensor(real) + (1 - a) * m.tensor(fake)).requires_grad_(True)
        score = critic(x_hat)
        (grad,) = m.autograd.grad(score, x_hat, grad_outputs=m.ones_like(score),
                                  create_graph=True, retain_graph=True)
        penalty = ((grad.norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(m.tensor(fake)).mean() - critic(m.tensor(real)).mean() + 10 * penalty
        loss.backward()
        return penalty, grad, [w.grad for w in weights], x_hat

    ours = run_both(f)
    # A deliberate difference: the penalty depends on x_hat only through LeakyReLU's slopes,
    # whose derivative is 0; torch's double backward still connects x_hat (its .grad is
    # zeros), deepnum's does not (None).
    assert ours[3].grad is None
    assert not f(torch)[3].grad.any()


def test_wgan_gp_in_float32_with_nn_modules():
    """The same penalty with nn.Sequential(Linear, LeakyReLU, ...) in float32."""
    def f(m):
        m.manual_seed(0)
        critic = m.nn.Sequential(m.nn.Linear(4, 8), m.nn.LeakyReLU(0.2), m.nn.Linear(8, 1))
        with m.no_grad():
            for p, a in zip(critic.parameters(), [_data(i, *p.shape) for i, p in
                                                  enumerate(critic.parameters())]):
                p.copy_(m.tensor(a, dtype=m.float32))
        x_hat = m.tensor(_data(20, 6, 4), dtype=m.float32, requires_grad=True)
        (grad,) = m.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        penalty = ((grad.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        # the biases reach the penalty only through LeakyReLU's slopes (see above): torch
        # gives them zeros, deepnum None
        return penalty, [p.grad for name, p in critic.named_parameters() if "weight" in name]

    run_both(f)


def test_hessian_vector_product():
    def f(m):
        x = m.tensor(_data(0, 4), requires_grad=True)
        v = m.tensor(_data(1, 4))
        y = (x.sin() * x.exp()).sum() + (x @ x) ** 2 + x.softmax(0).log().sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (hv,) = m.autograd.grad(g, x, grad_outputs=v, retain_graph=True)
        hessian = m.stack([m.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(4)])
        return g, hv, hessian @ v

    run_both(f)


def test_third_derivative_and_create_graph_backward():
    def f(m):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        y = (x ** 4 + x.tanh() * x.sigmoid()).sum()
        (g1,) = m.autograd.grad(y, x, create_graph=True)
        (g2,) = m.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = m.autograd.grad(g2.sum(), x, create_graph=True)
        z = (x * x).sum()
        z.backward(create_graph=True)  # x.grad itself has a graph
        first = x.grad.clone()
        (x.grad * x).sum().backward()
        return g1, g2, g3, first, x.grad, g3.requires_grad

    run_both(f)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "softmax", "log_softmax", "cat", "index",
                                  "where", "clamp", "abs", "div", "pow", "sqrt", "expand",
                                  "cumsum", "gather", "permute", "flip", "roll", "trig", "erf",
                                  "sigmoid", "tanh", "relu", "logsumexp", "var", "norm_dim"])
def test_double_backward_of_each_op(name):
    ops = {
        "sum": lambda m, x: (x.sum(1) ** 2).sum(), "mean": lambda m, x: (x.mean(0) ** 3).sum(),
        "max": lambda m, x: (x.amax(1) ** 2).sum() + (x.max(0).values ** 2).sum(),
        "softmax": lambda m, x: (x.softmax(1) ** 2).sum(),
        "log_softmax": lambda m, x: (x.log_softmax(0) * x).sum(),
        "cat": lambda m, x: (m.cat([x, x * x], 1) ** 2).sum(),
        "index": lambda m, x: (x[[0, 0, 1], 1:] ** 3).sum(),
        "where": lambda m, x: (m.where(x > 0, x * x, x ** 3)).sum(),
        "clamp": lambda m, x: (x.clamp(-0.5, 0.5) * x).sum(),
        "abs": lambda m, x: (x.abs() * x).sum(), "div": lambda m, x: (x / (x * x + 1)).sum(),
        "pow": lambda m, x: ((x * x + 1) ** x).sum(), "sqrt": lambda m, x: (x * x + 1).sqrt().sum(),
        "expand": lambda m, x: (x[:, :1].expand(2, 3) * x).sum(),
        "cumsum": lambda m, x: (x.cumsum(1) ** 2).sum(),
        "gather": lambda m, x: (x.gather(1, m.tensor([[2, 0], [1, 1]])) ** 2).sum(),
        "permute": lambda m, x: (x.t() @ x).sum() ** 2, "flip": lambda m, x: (x.flip(1) * x).sum(),
        "roll": lambda m, x: (x.roll(1, 1) * x).sum(),
        "trig": lambda m, x: (x.sin() * x.cos() + x.atan() + m.atan2(x, x * x + 1)).sum(),
        "erf": lambda m, x: (x.erf() * x).sum(), "sigmoid": lambda m, x: (x.sigmoid() * x).sum(),
        "tanh": lambda m, x: (x.tanh() ** 2).sum(), "relu": lambda m, x: (x.relu() * x).sum(),
        "logsumexp": lambda m, x: (x.logsumexp(1) ** 2).sum(),
        "var": lambda m, x: x.var(1).sum() * x.std(), "norm_dim": lambda m, x: x.norm(dim=1).sum(),
    }

    def f(m):
        x = m.tensor([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]], requires_grad=True)
        (g,) = m.autograd.grad(ops[name](m, x), x, create_graph=True)
        (g * m.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])).sum().backward()
        return g, x.grad

    run_both(f)


# ---------------------------------------------------------------------------- grads and hooks
def test_retain_grad_keeps_a_non_leaf_gradient():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        h.retain_grad()
        y = (h * h).sum()
        y.backward()
        leaf = m.tensor([1.0], requires_grad=True)
        leaf.retain_grad()  # a leaf: no-op
        return h.grad, h.retains_grad, x.grad, (x * 2).grad

    run_both(f)


def test_tensor_hooks_order_replacement_and_removal():
    def f(m):
        calls = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        h.register_hook(lambda g: calls.append(("h1", g.tolist())))
        h.register_hook(lambda g: g * 10)  # replaces the gradient that flows on
        h.register_hook(lambda g: calls.append(("h3", g.tolist())))
        h.retain_grad()
        handle = x.register_hook(lambda g: calls.append(("x", g.tolist())))
        removed = x.register_hook(lambda g: calls.append(("removed", g.tolist())))
        removed.remove()
        x.register_hook(lambda g: g + 1)
        (h * h).sum().backward()
        first = (calls[:], x.grad.clone(), h.grad)
        handle.remove()
        calls.clear()
        (x * 1).sum().backward()
        return first, calls, x.grad

    run_both(f)


def test_hooks_see_the_summed_gradient_once():
    def f(m):
        seen = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x.exp()
        h.register_hook(lambda g: seen.append(g.tolist()))
        (h * 2 + h * 3).sum().backward()
        return seen, x.grad

    run_both(f)


def test_requires_grad_flags():
    def f(m):
        x = m.tensor([1.0, 2.0])
        before = (x * 2).requires_grad
        out = x.requires_grad_()
        y = x * 2
        x2 = m.tensor([1.0]).requires_grad_(True).requires_grad_(False)
        w = m.ones(2, requires_grad=True)
        return out is x, before, y.requires_grad, y.is_leaf, x2.requires_grad, (
            w.detach().requires_grad, (w + m.ones(2)).requires_grad, (w > 0).requires_grad,
            w.argmax().requires_grad, w.sum().item())

    run_both(f)


@pytest.mark.parametrize("case, match", [
    (lambda m: (m.ones(2, requires_grad=True) * 2).backward(), "only for scalar outputs"),
    (lambda m: m.ones(2).sum().backward(), "does not require grad"),
    (lambda m: (m.ones(2, requires_grad=True) * 2).backward(m.ones(3)), "Mismatch in shape"),
    (lambda m: m.autograd.grad(m.ones(1, requires_grad=True).sum(), m.ones(1)),
     "does not require grad"),
    (lambda m: (m.ones(2, requires_grad=True) * 2).requires_grad_(False), "leaf variables"),
    (lambda m: m.tensor([1, 2]).requires_grad_(), "floating point"),
    (lambda m: m.ones(2).register_hook(lambda g: g), "doesn't require grad"),
    (lambda m: m.ones(2).retain_grad(), "requires_grad=False"),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)


def test_deep_chains_do_not_recurse():
    def f(m):
        x = m.tensor([0.5], requires_grad=True)
        y = x
        for _ in range(3000):
            y = y * 1.0001 + 0.0001
        y.sum().backward()
        return x.grad

    run_both(f)


def test_each_grad_owns_its_memory_and_accumulates_in_place():
    """a + b hands the same gradient to both leaves; changing one .grad in place (clipping,
    zero_) must not change the other. A second backward adds into the same .grad tensor."""
    def f(m):
        a, b = m.ones(2, requires_grad=True), m.ones(2, requires_grad=True)
        ((a + b) * 3).sum().backward()
        a.grad.mul_(2)
        c = m.ones(2, requires_grad=True)
        (c.clone() + b).backward(m.ones(2))
        c.grad.zero_()
        first = a.grad
        (a * 5).sum().backward()
        return a.grad, b.grad, c.grad, first is a.grad

    run_both(f)
    a, b = dn.ones(3, requires_grad=True), dn.ones(3, requires_grad=True)
    ((a + b) * 10).sum().backward()
    nn.utils.clip_grad_norm_([a, b], 1.0)  # scales each grad once
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())
    np.testing.assert_allclose(float((a.grad ** 2 + b.grad ** 2).sum()), 1.0, rtol=1e-5)


def test_grad_takes_an_intermediate_input_before_its_hooks():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        h.register_hook(lambda g: g * 0)
        in_grad = m.autograd.grad(h.sum() * 2, (h, x), retain_graph=True)
        y = x * 3
        y.register_hook(lambda g: g * 0)
        (y.sum() * 2).backward(inputs=[y, x])
        return in_grad, y.grad, x.grad

    run_both(f)
