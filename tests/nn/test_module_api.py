"""The rest of nn.Module's API, each against torch.nn.Module: registration and its errors,
traversal (names, order, duplicates), buffers, path lookups, modes, dtype/device moves, apply."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn


def _build(lib):
    """The same nested model with a shared layer and buffers, in deepnum or torch."""
    tensor = dn.zeros if lib is nn else torch.zeros

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.Linear(3, 3)
            self.register_buffer("count", tensor(1))
            self.register_buffer("scratch", tensor(3), persistent=False)
            self.register_buffer("nothing", None)

        def forward(self, x):
            return self.fc(x)

    shared = lib.Linear(3, 3)
    model = lib.Sequential(OrderedDict(first=Block(), shared=shared,
                                       inner=lib.Sequential(shared, lib.Tanh(), Block())))
    model.scale = lib.Parameter(tensor(3))
    return model


def test_traversal_names_and_order_match_torch():
    ours, theirs = _build(nn), _build(torch.nn)
    for kwargs in (dict(), dict(prefix="m"), dict(remove_duplicate=False)):
        assert [n for n, _ in ours.named_modules(**kwargs)] == \
            [n for n, _ in theirs.named_modules(**kwargs)], kwargs
    for method in ("named_parameters", "named_buffers"):
        for kwargs in (dict(), dict(prefix="p"), dict(recurse=False), dict(remove_duplicate=False)):
            assert [n for n, _ in getattr(ours, method)(**kwargs)] == \
                [n for n, _ in getattr(theirs, method)(**kwargs)], (method, kwargs)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert len(list(ours.children())) == len(list(theirs.children()))
    assert len(list(ours.parameters(recurse=False))) == 1
    assert len(list(ours.buffers())) == len(list(theirs.buffers()))
    assert list(ours.state_dict()) == list(theirs.state_dict())  # shared layer under both names
    memo = set()
    assert len(list(ours.named_modules(memo))) == len(memo)


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    ours, theirs = _build(nn), _build(torch.nn)
    assert "first.scratch" not in ours.state_dict() and "first.count" in ours.state_dict()
    result = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert result == ([], [])
    with pytest.raises(RuntimeError, match='Unexpected key.*"first.scratch"'):
        ours.load_state_dict({**ours.state_dict(), "first.scratch": np.zeros(3)})
    block = ours.first
    block.register_buffer("scratch", dn.ones(2), persistent=True)  # registered again: persistent
    assert "first.scratch" in ours.state_dict()


def test_setattr_keeps_registrations_like_torch():
    for lib, tensor in ((nn, dn.ones), (torch.nn, torch.ones)):
        block = lib.Linear(2, 2)
        block.register_buffer("running", tensor(2))
        block.running = tensor(3)  # a registered buffer stays a buffer
        assert [n for n, _ in block.named_buffers()] == ["running"]
        block.bias = None  # a registered parameter set to None stays registered as None
        assert "bias" in block._parameters and block.bias is None
        with pytest.raises(TypeError, match="cannot assign '.*' as parameter 'weight'"):
            block.weight = tensor(2, 2)
        with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'running'"):
            block.running = 3
        block.child = lib.ReLU()
        block.child = None
        assert "child" in block._modules and block.child is None
        with pytest.raises(TypeError, match="cannot assign 'int' as child module 'child'"):
            block.child = 3
        block.weight = lib.Parameter(tensor(2, 2))
        del block.running
        assert not hasattr(block, "running") and list(block.named_buffers()) == []


@pytest.mark.parametrize("call, error, message", [
    (lambda m, t: m.register_buffer("a.b", t(1)), KeyError, r"buffer name can.+t contain \"\.\""),
    (lambda m, t: m.register_buffer("", t(1)), KeyError, "buffer name can.+t be empty"),
    (lambda m, t: m.register_buffer(3, t(1)), TypeError, "buffer name should be a string. Got int"),
    (lambda m, t: m.register_buffer("weight", t(1)), KeyError, "attribute 'weight' already exists"),
    (lambda m, t: m.register_buffer("x", 3), TypeError, "cannot assign 'int' object to buffer 'x'"),
    (lambda m, t: m.register_parameter("x", t(1)), TypeError,
     "cannot assign '.*FloatTensor' object to parameter 'x'"),
    (lambda m, t: m.register_parameter("a.b", None), KeyError, "parameter name can.+t contain"),
    (lambda m, t: m.add_module("a.b", None), KeyError, "module name can.+t contain .+, got: a.b"),
    (lambda m, t: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
    (lambda m, t: m.add_module("training", None), KeyError, "attribute 'training' already"),
])
def test_registration_errors_match_torch(call, error, message):
    for lib, tensor in ((nn, dn.ones), (torch.nn, torch.ones)):
        with pytest.raises(error, match=message):
            call(lib.Linear(2, 2), tensor)


def test_path_lookups_match_torch():
    ours, theirs = _build(nn), _build(torch.nn)
    assert ours.get_submodule("") is ours
    assert ours.get_submodule("inner.2.fc") is ours.inner[2].fc
    assert ours.get_parameter("inner.2.fc.weight") is ours.inner[2].fc.weight
    assert ours.get_buffer("first.count") is ours.first.count
    assert ours.get_parameter("scale") is ours.scale
    for target, method in [("inner.9", "get_submodule"), ("first.count.x", "get_submodule"),
                           ("first.count", "get_parameter"), ("first.fc.weight", "get_buffer"),
                           ("first.nope", "get_buffer"), ("first.fc.nope", "get_parameter")]:
        with pytest.raises(AttributeError) as expected:
            getattr(theirs, method)(target)
        with pytest.raises(AttributeError) as got:
            getattr(ours, method)(target)
        assert str(got.value) == str(expected.value), (method, target)
    replacement = nn.Linear(3, 3)
    ours.set_submodule("inner.2.fc", replacement)
    assert ours.inner[2].fc is replacement
    with pytest.raises(AttributeError, match="`count` is not an nn.Module"):
        ours.set_submodule("first.count", nn.ReLU())


def test_train_and_eval_recurse_through_train_like_torch():
    calls = []

    class Watch(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(Watch()))
    assert model.eval() is model and calls == [False]
    assert not any(m.training for m in model.modules())
    model.train()
    assert calls == [False, True] and all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("no")


def test_requires_grad_zero_grad_and_apply():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model(dn.randn(4, 2)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.numpy().any() for p, g in zip(model.parameters(), grads))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]  # children first, as torch

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    model.apply(init)
    assert (model[2].weight.numpy() == 0.5).all()


def test_dtype_and_device_moves_keep_the_parameter_objects():
    model = _build(nn)
    params = list(model.parameters())
    opt = dn.optim.SGD(model.parameters(), lr=0.1)
    model(dn.randn(2, 3)).sum().backward()
    assert model.double() is model
    assert list(model.parameters()) == params and opt.param_groups[0]["params"][0] is params[0]
    assert all(p.dtype == dn.float64 and (p.grad is None or p.grad.dtype == dn.float64)
               for p in params) and params[1].grad.dtype == dn.float64
    assert model.first.count.dtype == dn.float64
    model.to(dn.float32)
    assert all(p.dtype == dn.float32 for p in model.parameters())
    model.half()
    assert model.scale.dtype == dn.float16
    model.to("cpu", dn.float64)
    assert model.scale.dtype == dn.float64
    model.to(torch.float32 if False else dn.zeros(1, dtype=dn.float32))  # to(tensor)
    assert model.scale.dtype == dn.float32
    assert model.cpu() is model and model.to("cpu") is model
    model.type(dn.float64)
    assert model.scale.dtype == dn.float64
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex "
                                        "dtypes, but got desired dtype=deepnum.int64"):
        model.to(dn.int64)
    with pytest.raises(RuntimeError, match="CPU only; cannot put a module on cuda"):
        model.cuda()
    with pytest.raises(RuntimeError, match="cannot put a module on cuda:0"):
        model.to("cuda:0")
    with pytest.raises(TypeError, match="bfloat16"):
        model.bfloat16()
    ints = nn.Module()
    ints.register_buffer("n", dn.tensor([1, 2]))
    ints.double()
    assert ints.n.dtype == dn.int64  # double() leaves integer buffers alone, as torch
    ints.type(dn.float32)
    assert ints.n.dtype == dn.float32  # type() casts them too, as torch


def test_repr_matches_torch_for_nested_models():
    def build(lib):
        return lib.Sequential(OrderedDict(
            conv=lib.Conv2d(1, 4, 3, padding=1), act=lib.ReLU(),
            blocks=lib.ModuleList([lib.Linear(4, 4), lib.Linear(4, 4), lib.Linear(4, 4),
                                   lib.Tanh(), lib.Linear(4, 4)]),
            heads=lib.ModuleDict({"a": lib.Linear(4, 2), "b": lib.Sequential(lib.Flatten())}),
            empty=lib.ModuleList(), plain=lib.Module()))

    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def extra_repr(self):
            return "two\nlines"

    assert repr(Net()) == ("Net(\n  two\n  lines\n  (fc): Linear(in_features=2, out_features=2, "
                           "bias=True)\n)")
