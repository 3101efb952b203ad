"""torch.autograd.functional against PyTorch: jacobian, hessian, vjp, jvp, hvp, vhp for one and
several inputs; plus autograd.gradcheck, once_differentiable and detect_anomaly."""

import numpy as np

from tests.helpers import run_both

X = np.array([0.5, -1.0, 2.0])
Y = np.array([[1.0, 2.0], [0.5, -0.5]])


def _f(x):
    return (x ** 2).sin() * x.exp()


def _scalar(x):
    return (x ** 3).sum() + x.prod() + x.softmax(0).log().sum()


def test_jacobian_one_and_several_inputs():
    def f(m):
        F = m.autograd.functional
        x, y = m.tensor(X), m.tensor(Y)
        return (F.jacobian(_f, x), F.jacobian(lambda a, b: (a[:2] @ b).tanh(), (x, y)),
                F.jacobian(lambda a: (a.sum(), a * 2), x), F.jacobian(lambda b: b @ b, y))

    run_both(f)


def test_hessian_and_products():
    def f(m):
        F = m.autograd.functional
        x, v = m.tensor(X), m.tensor([1.0, 0.5, -2.0])
        return (F.hessian(_scalar, x), F.hvp(_scalar, x, v), F.vhp(_scalar, x, v),
                F.vjp(_f, x, v), F.jvp(_f, x, v), F.vjp(_scalar, x),
                F.hessian(lambda a, b: (a[:2] @ b).sum() * a.sum(), (x, m.tensor(Y))))

    run_both(f)


def test_create_graph_keeps_the_result_differentiable():
    def f(m):
        x = m.tensor(X, requires_grad=True)
        j = m.autograd.functional.jacobian(_f, x, create_graph=True)
        return j.requires_grad, m.autograd.functional.jacobian(_f, x).requires_grad

    run_both(f)


def test_gradcheck_once_differentiable_detect_anomaly():
    def f(m):
        class Square(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @m.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        x = m.tensor(X, dtype=m.float64, requires_grad=True)
        with m.autograd.detect_anomaly():
            y = Square.apply(x).sum()
        m.autograd.set_detect_anomaly(False)
        (g,) = m.autograd.grad(y, x, create_graph=True)
        return m.autograd.gradcheck(Square.apply, (x,)), g, g.requires_grad

    run_both(f)
