"""Module, Parameter and the containers: registration, modes, state dicts (PyTorch's), repr."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from tests.helpers import assert_close


def _pair():
    ours = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Dropout(0.2), nn.Linear(5, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Dropout(0.2),
                                 torch.nn.Linear(5, 2)).double()
    return ours, theirs


def test_parameter_names_and_shapes_match_torch():
    ours, theirs = _pair()
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())
    assert len(list(ours.children())) == 4 and ours.num_parameters() == 3 * 5 + 5 + 5 * 2 + 2


@pytest.mark.parametrize("as_numpy", [True, False])
def test_torch_state_dict_loads_unchanged(as_numpy, rng):
    ours, theirs = _pair()
    state = theirs.state_dict()
    if as_numpy:
        state = {k: v.numpy() for k, v in state.items()}
    ours.load_state_dict(state)
    ours.eval(), theirs.eval()
    x = rng.standard_normal((4, 3))
    assert_close(ours(dn.tensor(x)).astype(np.float64), theirs(torch.tensor(x)), np.float32)
    ours.double()
    assert_close(ours(dn.tensor(x)), theirs(torch.tensor(x)), np.float64)


def test_load_state_dict_checks_keys_and_shapes():
    ours, _ = _pair()
    state = dict(ours.state_dict())
    del state["0.bias"]
    state["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing keys \['0.bias'\].*unexpected keys \['extra'\]"):
        ours.load_state_dict(state)
    missing, unexpected = ours.load_state_dict(state, strict=False)
    assert missing == ["0.bias"] and unexpected == ["extra"]
    bad = dict(ours.state_dict(), **{"3.weight": np.zeros((2, 4))})
    with pytest.raises(dn.ShapeError, match=r"'3.weight'.*\(2, 4\).*\(2, 5\)"):
        ours.load_state_dict(bad)


def test_train_eval_reach_every_submodule():
    ours, _ = _pair()
    ours.eval()
    assert not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())
    x = dn.randn(4, 3)
    ours.eval()
    np.testing.assert_array_equal(ours(x).numpy(), ours(x).numpy())  # dropout is off


def test_repr_matches_torch():
    ours, theirs = _pair()
    assert repr(ours) == repr(theirs).replace("inplace=False", "").replace(", )", ")")


def test_shared_parameters_listed_once_and_modulelist_registers():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 1)])
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias", "1.weight",
                                                          "1.bias"]
    assert len(layers) == 2 and isinstance(layers[1], nn.Linear)


def test_custom_module_registers_attributes():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)
            self.scale = nn.Parameter(dn.ones(3))

        def forward(self, x):
            return self.fc(x) * self.scale

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc.weight", "fc.bias"]
    net(dn.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_setattr_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()
