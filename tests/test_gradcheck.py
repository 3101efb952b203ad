"""dn.gradcheck: passes correct gradients, names the worst wrong element, checks Module parameters,
keeps dropout deterministic and leaves the generator, parameters and gradients as it found them."""

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
from deepnum.autograd import Function
from deepnum.gradcheck import GradcheckError


class WrongSquare(Function):
    """x^2 with a deliberately wrong backward at one element."""

    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, g):
        grad = 2 * self.a * g
        grad.reshape(-1)[3] += 0.5
        return grad


class BrokenScale(nn.Module):
    """y = x * w, whose weight gradient is wrong (the input gradient is right)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(dn.ones(3))

    def forward(self, x):
        return Scale.apply(x, self.w)


class Scale(Function):
    def forward(self, x, w):
        self.x, self.w = x, w
        return x * w

    def backward(self, g):
        return g * self.w, (g * self.x).sum(0) * 1.01


def test_passes_on_correct_gradients(rng):
    x = dn.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = dn.tensor(rng.standard_normal((4, 2)))  # not marked: not checked, but used
    assert dn.gradcheck(lambda a, b: (a @ b).tanh(), [x, y]) is True
    assert dn.gradcheck(lambda a: a.exp().sum(), rng.standard_normal(5))


def test_names_the_worst_element(rng):
    x = rng.standard_normal((2, 3))
    with pytest.raises(GradcheckError, match=r"input 0 at index \(1, 0\).*analytic.*numeric"):
        dn.gradcheck(WrongSquare.apply, [x])
    assert issubclass(GradcheckError, AssertionError)


def test_checks_module_parameters(rng):
    with pytest.raises(GradcheckError, match="parameter 'w'"):
        dn.gradcheck(BrokenScale(), [rng.standard_normal((4, 3))])


def test_dropout_is_deterministic_and_state_is_restored(rng):
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.ReLU(), nn.Linear(8, 2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model(dn.randn(2, 4)).sum().backward()
    grad = model[0].weight.grad.numpy().copy()
    dn.manual_seed(3)
    expected_draw = dn.randn(3).numpy()
    dn.manual_seed(3)
    assert dn.gradcheck(model, [rng.standard_normal((5, 4))])
    np.testing.assert_array_equal(dn.randn(3).numpy(), expected_draw)
    for k, v in model.state_dict().items():
        assert v.dtype == np.float32
        np.testing.assert_array_equal(v, before[k])
    np.testing.assert_array_equal(model[0].weight.grad.numpy(), grad)


def test_output_must_depend_on_inputs():
    with pytest.raises(GradcheckError, match="does not depend"):
        dn.gradcheck(lambda a: dn.ones(2), [np.ones(2)])
