"""Module hooks against PyTorch's: the order they run in, what their return values do, the
gradients full backward hooks see, and removing them."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from tests.helpers import assert_close, copy_module_weights


def _pair(seed=0):
    dn.manual_seed(seed)
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    copy_module_weights(ours, theirs)
    return ours, theirs


def _record(framework_model, log):
    handles = []
    for name, m in [("outer", framework_model), ("fc", framework_model[0])]:
        handles.append(m.register_forward_pre_hook(lambda mod, args, n=name: log.append(
            f"pre {n}")))
        handles.append(m.register_forward_hook(lambda mod, args, out, n=name: log.append(
            f"post {n}")))
        handles.append(m.register_full_backward_pre_hook(lambda mod, go, n=name: log.append(
            f"bpre {n}")))
        handles.append(m.register_full_backward_hook(lambda mod, gi, go, n=name: log.append(
            f"back {n}")))
    return handles


def test_hooks_run_in_pytorchs_order():
    ours, theirs = _pair()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    logs = [], []
    _record(ours, logs[0])
    _record(theirs, logs[1])
    ours(dn.tensor(x, requires_grad=True)).sum().backward()
    theirs(torch.tensor(x, requires_grad=True)).sum().backward()
    assert logs[0] == logs[1]


def test_return_values_replace_arguments_outputs_and_gradients():
    ours, theirs = _pair()
    x = np.random.default_rng(1).standard_normal((5, 3))
    results = []
    for model, lib in ((ours, dn), (theirs, torch)):
        model.double()
        model[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        model[1].register_forward_hook(lambda m, args, out: out + 1)
        model[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
        xt = lib.tensor(x, requires_grad=True)
        out = model(xt)
        out.sum().backward()
        results.append((out, xt.grad, model[0].weight.grad))
    for a, b, what in zip(results[0], results[1], ("output", "input grad", "weight grad")):
        assert_close(a, b, np.float64, what)


def test_full_backward_hook_sees_torchs_grad_input_and_grad_output():
    theirs = torch.nn.Linear(3, 2).double()
    ours = nn.Linear(3, 2, dtype=dn.float64)
    copy_module_weights(ours, theirs)
    seen = []
    for lib, layer in ((dn, ours), (torch, theirs)):
        got = {}
        layer.register_full_backward_hook(lambda m, gi, go, got=got: got.update(gi=gi, go=go))
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        (layer(x) * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
        seen.append(got)
    assert len(seen[0]["gi"]) == len(seen[1]["gi"]) == 1
    assert_close(seen[0]["gi"][0], seen[1]["gi"][0], np.float64, "grad_input")
    assert_close(seen[0]["go"][0], seen[1]["go"][0], np.float64, "grad_output")


def test_inputs_without_grad_give_none_in_grad_input():
    for lib, layer in ((dn, nn.Linear(3, 2)), (torch, torch.nn.Linear(3, 2))):
        got = []
        layer.register_full_backward_hook(lambda m, gi, go, got=got: got.append(gi))
        layer(lib.ones(2, 3)).sum().backward()
        assert got == [(None,)], lib


def test_removed_hooks_no_longer_run_and_with_kwargs_hooks_see_kwargs():
    calls = []
    layer = nn.Linear(2, 2)
    handle = layer.register_forward_hook(lambda m, a, o: calls.append("post"))
    layer(dn.ones(1, 2))
    handle.remove()
    layer(dn.ones(1, 2))
    assert calls == ["post"]
    with layer.register_forward_pre_hook(lambda m, a, kw: calls.append(sorted(kw)),
                                         with_kwargs=True):
        layer(dn.ones(1, 2))
    layer(dn.ones(1, 2))
    assert calls == ["post", []]


def test_a_hooked_layer_is_never_fused_and_sees_its_own_output():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = dn.randn(5, 3)
    plain = model(x).numpy().copy()
    seen = []
    handle = model[0].register_forward_hook(lambda m, a, out: seen.append(out.numpy().copy()))
    np.testing.assert_array_equal(model(x).numpy(), plain)
    # the hook saw the Linear's own output, before the ReLU (negative values included)
    assert (seen[0] < 0).any()
    handle.remove()
    assert len(seen) == 1
    model(x)
    assert len(seen) == 1


def test_bad_pre_hook_return_is_a_clear_error():
    layer = nn.Linear(2, 2)
    layer.register_forward_pre_hook(lambda m, a, kw: "nonsense", with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        layer(dn.ones(1, 2))
