"""The fusion plan: which runs of layers Sequential computes as one op, and when it re-plans."""

import numpy as np

import deepnum as dn
import deepnum.nn as nn
from deepnum.nn.fusion import Fused, plan
from tests.helpers import kernels_on


def _lenet_like():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64, 10), nn.ReLU(), nn.Linear(10, 3))


def _kinds(steps):
    return [repr(s) if isinstance(s, Fused) else type(s).__name__ for s in steps]


def test_plan_fuses_the_longest_runs_of_exactly_these_classes():
    assert _kinds(plan(_lenet_like())) == ["Fused(Conv2d, ReLU, MaxPool2d)", "Flatten",
                                           "Fused(Linear, ReLU)", "Linear"]


def test_hooks_replaced_forwards_and_the_reference_path_are_never_fused():
    model = _lenet_like()
    model[4].register_forward_hook(lambda *a: None)
    model[0].forward = model[0].forward  # a replaced forward (as a profiler would install)
    assert _kinds(plan(model)) == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU",
                                   "Linear"]
    with kernels_on("reference"):
        assert not any(isinstance(s, Fused) for s in plan(_lenet_like()))


def test_sequential_replans_when_it_changes_and_results_equal_the_unfused_layers(rng):
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU())
    x = dn.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    fused = model(x).numpy().copy()
    calls = []
    handle = model[0].register_forward_hook(lambda m, a, out: calls.append(1))
    unfused = model(x).numpy()
    assert calls == [1]
    np.testing.assert_array_equal(fused, unfused)
    handle.remove()
    model.append(nn.Linear(6, 2))
    assert model(x).shape == (5, 2)


def test_a_users_own_container_can_use_the_plan(rng):
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)])

        def forward(self, x):
            for step in plan(self.layers):
                x = step(x)
            return x

    dn.manual_seed(0)
    mine = Stack()
    x = dn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    expected = mine.layers[2](mine.layers[1](mine.layers[0](x)))
    np.testing.assert_array_equal(mine(x).numpy(), expected.numpy())


def test_the_linear_relu_op_is_chosen_when_the_plan_is_made_and_again_when_the_wing_switches(rng):
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    x = dn.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    fused = model(x).numpy().copy()
    assert _kinds(model._plan[1]) == ["Fused(Linear, ReLU)", "Linear"]
    with kernels_on("reference"):  # the wing off: the next call re-plans, the layers one by one
        unfused = model(x).numpy()
        assert _kinds(model._plan[1]) == ["Linear", "ReLU", "Linear"]
    np.testing.assert_array_equal(fused, unfused)
    model(x)
    assert _kinds(model._plan[1]) == ["Fused(Linear, ReLU)", "Linear"]
