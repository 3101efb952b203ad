"""PyTorch-style custom autograd Functions, written once and run with torch and deepnum:
ctx.save_for_backward / saved_tensors, needs_input_grad, non-tensor arguments, multiple outputs,
mark_non_differentiable, mark_dirty, set_materialize_grads, double backward through a backward
written with tensor ops, version checks on saved tensors, and deepnum's own primitive style."""

import numpy as np
import pytest

import deepnum as dn
from tests.helpers import raises_both, run_both


def _functions(m):
    """The same custom Functions, defined on module m (torch or deepnum)."""

    class Exp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    class ScaledMul(m.autograd.Function):
        """a * b * scale (scale a Python number): gradients only where needs_input_grad."""

        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            ga = grad * b * ctx.scale if ctx.needs_input_grad[0] else None
            gb = grad * a * ctx.scale if ctx.needs_input_grad[1] else None
            return ga, gb, None

    class SortWithIndex(m.autograd.Function):
        """Two outputs, the second (indices) not differentiable."""

        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            return values, indices

        @staticmethod
        def backward(ctx, grad_values, grad_indices):
            (indices,) = ctx.saved_tensors
            return m.zeros_like(grad_values).scatter(0, indices, grad_values)

    class SinCos(m.autograd.Function):
        """Two differentiable outputs; backward written with tensor ops (double backward)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, g_sin, g_cos):
            (x,) = ctx.saved_tensors
            return g_sin * x.cos() - g_cos * x.sin()

    class AddOneInPlace(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class NoMaterialize(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            total = 0
            if g1 is not None:
                total = total + g1 * 2
            if g2 is not None:
                total = total + g2 * 3
            return total

    return Exp, ScaledMul, SortWithIndex, SinCos, AddOneInPlace, NoMaterialize


def test_save_for_backward_and_apply():
    def f(m):
        exp = _functions(m)[0]
        x = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = exp.apply(x)
        (y * m.tensor([1.0, 2.0, 3.0])).sum().backward()
        return y, x.grad, y.requires_grad, y.is_leaf

    run_both(f)


def test_needs_input_grad_and_non_tensor_arguments():
    def f(m):
        scaled = _functions(m)[1]
        seen = []

        class Spy(scaled):
            @staticmethod
            def backward(ctx, grad):
                seen.append(ctx.needs_input_grad)
                return scaled.backward(ctx, grad)

        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = m.tensor([3.0, 4.0])
        y = Spy.apply(a, b, 0.5)
        y.sum().backward()
        return y, a.grad, b.grad, seen

    run_both(f)


def test_mark_non_differentiable_multiple_outputs():
    def f(m):
        sort = _functions(m)[2]
        x = m.tensor([3.0, 1.0, 2.0], requires_grad=True)
        values, indices = sort.apply(x)
        (values * m.tensor([1.0, 10.0, 100.0])).sum().backward()
        return values, indices, indices.requires_grad, values.requires_grad, x.grad

    run_both(f)


def test_two_differentiable_outputs_and_one_unused():
    def f(m):
        sincos = _functions(m)[3]
        x = m.tensor([0.5, 1.0], requires_grad=True)
        s, c = sincos.apply(x)
        (s * 2 + c * 3).sum().backward(retain_graph=True)
        both = x.grad.clone()
        x.grad = None
        s.sum().backward()  # c unused: its gradient is materialized as zeros
        return s, c, both, x.grad

    run_both(f)


def test_double_backward_through_a_custom_function():
    def f(m):
        sincos = _functions(m)[3]
        exp = _functions(m)[0]
        x = m.tensor([0.5, 1.0, -0.3], requires_grad=True)
        s, c = sincos.apply(x)
        y = (s * c + exp.apply(x)).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
        return g, x.grad

    run_both(f)


def test_mark_dirty_in_place_function():
    def f(m):
        add_one = _functions(m)[4]
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = add_one.apply(y)
        (z * 2).sum().backward()
        return z, z is y, x.grad, y._version

    run_both(f)


def test_set_materialize_grads_false_passes_none():
    def f(m):
        fn = _functions(m)[5]
        x = m.tensor([1.0, 2.0], requires_grad=True)
        a, _ = fn.apply(x)
        a.sum().backward()
        return x.grad

    run_both(f)


def test_a_saved_tensor_changed_in_place_raises():
    def f(m):
        exp = _functions(m)[0]
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = exp.apply(x)
        y.mul_(2)
        y.sum().backward()

    raises_both(f, "modified by an inplace operation")


def test_function_under_no_grad_records_nothing():
    def f(m):
        exp = _functions(m)[0]
        x = m.tensor([1.0], requires_grad=True)
        with m.no_grad():
            y = exp.apply(x)
        return y.requires_grad, y.grad_fn is None

    run_both(f)


def test_backward_returning_the_wrong_number_of_gradients_raises():
    def f(m):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * b

            @staticmethod
            def backward(ctx, grad):
                return grad, grad, grad

        a = m.ones(2, requires_grad=True)
        Bad.apply(a, m.ones(2)).sum().backward()

    raises_both(f, "returned")


class Cube(dn.autograd.Function):
    """deepnum's primitive style: forward and backward on ndarrays, vjp on tensors."""

    def forward(self, a):
        self.a = a
        return a ** 3

    def backward(self, g):
        return 3 * self.a ** 2 * g

    def vjp(self, g):
        (x,) = self.parents
        return 3 * x * x * g


def test_deepnum_primitive_style_with_gradcheck_and_double_backward():
    import torch

    x = np.array([0.5, -1.5, 2.0])
    t = dn.tensor(x, requires_grad=True)
    (g,) = dn.autograd.grad(Cube.apply(t).sum(), t, create_graph=True)
    g.sum().backward()
    r = torch.tensor(x, requires_grad=True)
    (rg,) = torch.autograd.grad((r ** 3).sum(), r, create_graph=True)
    rg.sum().backward()
    np.testing.assert_allclose(g.numpy(), rg.detach().numpy())
    np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy())
    assert dn.gradcheck(Cube.apply, [x])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_custom_function_gradient_keeps_the_dtype(dtype):
    def f(m):
        exp = _functions(m)[0]
        x = m.tensor(np.array([0.5, 1.0], dtype=dtype), requires_grad=True)
        exp.apply(x).sum().backward()
        return x.grad

    run_both(f)
