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


def test_load_state_dict_checks_keys_and_shapes_like_torch():
    ours, theirs = _pair()
    state = {k: v.numpy() for k, v in theirs.state_dict().items()}
    del state["0.bias"]
    state["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError) as expected:
        theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    with pytest.raises(RuntimeError) as got:
        ours.load_state_dict(state)
    assert str(got.value) == str(expected.value)
    before = ours[0].weight.numpy().copy()
    result = ours.load_state_dict(state, strict=False)
    ref = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    assert result == ref and result.missing_keys == ["0.bias"]
    assert result.unexpected_keys == ["extra"] and repr(result) == repr(ref)
    assert not np.array_equal(before, ours[0].weight.numpy())  # the rest was loaded
    bad = dict(ours.state_dict(), **{"3.weight": np.zeros((2, 4))})
    with pytest.raises(RuntimeError) as got:
        ours.load_state_dict(bad, strict=False)  # wrong shapes fail even when not strict
    with pytest.raises(RuntimeError) as expected:
        theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in bad.items()})
    assert str(got.value) == str(expected.value).replace("torch.Size", "deepnum.Size")
    assert repr(ours.load_state_dict(ours.state_dict())) == "<All keys matched successfully>"


def test_a_failed_load_changes_nothing():
    ours, _ = _pair()
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    bad = dict(ours.state_dict(), **{"3.weight": np.zeros((2, 4))})
    bad["0.weight"] = np.ones((5, 3))
    with pytest.raises(dn.errors.StateDictError, match="size mismatch for 3.weight"):
        ours.load_state_dict(bad)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        ours.load_state_dict([1, 2])
    with pytest.raises(RuntimeError, match='named "0.bias", expected deepnum.Tensor'):
        ours.load_state_dict(dict(ours.state_dict(), **{"0.bias": "abc"}))


def test_state_dict_values_are_detached_tensors_sharing_memory():
    ours, theirs = _pair()
    state = ours.state_dict()
    assert type(state) is type(theirs.state_dict())  # an OrderedDict
    assert all(type(v) is dn.Tensor and not v.requires_grad for v in state.values())
    state["0.bias"].array[0] = 42.0
    assert ours[0].bias.numpy()[0] == 42.0  # the same memory, as torch's detach()
    kept = ours.state_dict(keep_vars=True)
    assert kept["0.weight"] is ours[0].weight
    prefixed = ours.state_dict(prefix="net.")
    assert list(prefixed) == ["net." + k for k in state]
    destination = {"other": 1}
    assert ours.state_dict(destination=destination) is destination and len(destination) == 5
    with pytest.warns(FutureWarning):
        ours.state_dict({}, "p.")


def test_load_state_dict_assign_replaces_the_tensors():
    ours, _ = _pair()
    new = {k: dn.tensor(np.full(v.shape, 0.5, np.float64)) for k, v in ours.state_dict().items()}
    ours[0].weight.requires_grad_(False)
    ours.load_state_dict(new, assign=True)
    assert isinstance(ours[0].weight, nn.Parameter) and ours[0].weight.dtype == dn.float64
    assert not ours[0].weight.requires_grad and ours[3].weight.requires_grad
    assert ours[0].weight.array is new["0.weight"].array
    assert [n for n, _ in ours.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]


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
    assert repr(ours) == repr(theirs)  # Dropout prints inplace=False, as PyTorch (issue 14)


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

    with pytest.raises(AttributeError, match="cannot assign module before Module.__init__\\(\\) "
                                             "call \\(call super\\(\\).__init__\\(\\) first"):
        Bad()


@pytest.mark.parametrize("layers", [
    ("lin", "relu", "lin", "relu", "lin"),     # fused twice, trailing Linear alone
    ("relu", "lin", "lin", "relu"),            # leading ReLU, Linear then fused pair at the end
    ("lin", "tanh", "lin", "relu", "relu"),    # a ReLU after a fused pair runs on its own
], ids=str)
def test_sequential_linear_relu_matches_torch(layers, rng):
    # Sequential runs Linear + ReLU as one op (F.linear_relu); the result must not change
    sizes = iter([3, 5, 4, 2, 2])
    ours, theirs, width = [], [], 3
    for kind in layers:
        if kind == "lin":
            width_out = next(sizes) + 1
            layer = nn.Linear(width, width_out, dtype=np.float64)
            ours.append(layer)
            t = torch.nn.Linear(width, width_out).double()
            t.weight.data, t.bias.data = (torch.tensor(layer.weight.numpy()),
                                          torch.tensor(layer.bias.numpy()))
            theirs.append(t)
            width = width_out
        else:
            ours.append(nn.ReLU() if kind == "relu" else nn.Tanh())
            theirs.append(torch.nn.ReLU() if kind == "relu" else torch.nn.Tanh())
    model, ref = nn.Sequential(*ours), torch.nn.Sequential(*theirs)
    x = rng.standard_normal((6, 3))
    xd, xt = dn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = model(xd), ref(xt)
    assert_close(out, expected, np.float64)
    out.sum().backward(), expected.sum().backward()
    assert_close(xd.grad, xt.grad, np.float64)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert_close(p.grad, q.grad, np.float64)


def test_sequential_conv_relu_matches_torch(rng):
    # Sequential runs Conv2d + ReLU as one op (F.conv2d_relu); gradients must not change
    conv = nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64)
    ref_conv = torch.nn.Conv2d(2, 3, 3, padding=1).double()
    ref_conv.weight.data = torch.tensor(conv.weight.numpy())
    ref_conv.bias.data = torch.tensor(conv.bias.numpy())
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten())
    ref = torch.nn.Sequential(ref_conv, torch.nn.ReLU(), torch.nn.Flatten())
    x = rng.standard_normal((2, 2, 5, 4))
    xd, xt = dn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = model(xd), ref(xt)
    assert_close(out, expected, np.float64)
    w = rng.standard_normal(out.shape)
    (out * dn.tensor(w)).sum().backward(), (expected * torch.tensor(w)).sum().backward()
    for ours, theirs in [(xd, xt), (conv.weight, ref_conv.weight), (conv.bias, ref_conv.bias)]:
        assert_close(ours.grad, theirs.grad, np.float64)
