"""The backprop trace against the same quantities computed by hand with PyTorch: each layer's
output statistics, its delta (retain_grad on every intermediate) and each parameter's gradient."""

import os

import numpy as np
import pytest
import torch
from tests.helpers import copy_module_weights

import deepnum as dn
import deepnum.nn as nn
from deepnum.train import backprop_trace
from deepnum.train.trace import SATURATION


def _by_hand(layers, x, y, loss_fn):
    """Run torch layers one by one, keeping every output and its gradient."""
    outputs, a = [], torch.tensor(x)
    for layer in layers:
        a = layer(a)
        if a.requires_grad:
            a.retain_grad()
        outputs.append(a)
    loss = loss_fn(a, torch.tensor(y))
    loss.backward()
    return outputs, float(loss)


def _compare(trace, layers, outputs, loss, kinds):
    assert trace.loss == pytest.approx(loss, rel=1e-10)
    assert [r.layer for r in trace.rows] == [type(m).__name__ for m in layers]
    for row, out, layer, kind in zip(trace.rows, outputs, layers, kinds):
        a = out.detach().numpy()
        assert row.shape == a.shape
        assert row.mean == pytest.approx(a.mean(), rel=1e-9, abs=1e-12)
        assert row.std == pytest.approx(a.std(), rel=1e-9)
        assert row.zeros == pytest.approx(np.mean(a == 0))
        if kind == "sigmoid":
            assert row.saturated == pytest.approx(np.mean(a * (1 - a) < SATURATION * 0.25))
        elif kind == "tanh":
            assert row.saturated == pytest.approx(np.mean(1 - a ** 2 < SATURATION))
        else:
            assert row.saturated is None
        if out.grad is None:
            assert row.delta_norm is None
        else:
            assert row.delta_norm == pytest.approx(float(out.grad.norm()), rel=1e-9)
        own = list(layer.named_parameters(recurse=False))
        assert [p.name.split(".")[-1] for p in row.params] == [n for n, _ in own]
        for p, (_, theirs) in zip(row.params, own):
            assert p.grad_norm == pytest.approx(float(theirs.grad.norm()), rel=1e-9)
            assert p.ratio == pytest.approx(float(theirs.grad.norm() / theirs.norm()), rel=1e-9)


def test_mlp_trace_matches_pytorch_by_hand():
    dn.manual_seed(0)
    ours = nn.Sequential(nn.Linear(6, 8), nn.Sigmoid(), nn.Linear(8, 5), nn.Tanh(),
                         nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 3)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Sigmoid(),
                                 torch.nn.Linear(8, 5), torch.nn.Tanh(), torch.nn.Linear(5, 5),
                                 torch.nn.ReLU(), torch.nn.Linear(5, 3)).double()
    copy_module_weights(ours, theirs)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 6)) * 3, rng.integers(0, 3, 16)  # * 3: some units saturate
    trace = backprop_trace(ours, x, y, loss="cross_entropy")
    outputs, loss = _by_hand(list(theirs), x, y, torch.nn.functional.cross_entropy)
    kinds = [None, "sigmoid", None, "tanh", None, None, None]
    _compare(trace, list(theirs), outputs, loss, kinds)
    assert [r.symbol for r in trace.rows] == ["z^1", "a^1", "z^2", "a^2", "z^3", "a^3", "z^4"]
    assert [p.symbol for p in trace.weights()][:2] == ["W^1", "b^1"]
    assert trace.layer("1").saturated > 0  # the test exercises saturation, not only zeros
    assert trace.layer("5").zeros > 0


def test_cnn_trace_matches_pytorch_by_hand():
    dn.manual_seed(1)
    ours = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3 * 4 * 4, 4)).double()
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(48, 4)).double()
    copy_module_weights(ours, theirs)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 1, 8, 8)), rng.integers(0, 4, 5)
    trace = backprop_trace(ours, x, y, loss="cross_entropy")
    outputs, loss = _by_hand(list(theirs), x, y, torch.nn.functional.cross_entropy)
    _compare(trace, list(theirs), outputs, loss, [None] * 5)
    assert [r.symbol for r in trace.rows] == ["z^1", "a^1", "a^1", "a^1", "z^2"]


class _Residual(nn.Module):
    """Not a Sequential: a block whose forward calls one layer twice and adds a skip."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(4, 4)
        self.act = nn.Tanh()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = self.act(self.inner(x))
        h = self.act(self.inner(h)) + h
        return self.head(h)


def test_any_module_each_call_in_order_and_grads_left_alone():
    dn.manual_seed(2)
    model = _Residual().double()
    x = np.random.default_rng(2).normal(size=(3, 4))
    y = np.array([0, 1, 1])
    model.inner.weight.grad = dn.ones(4, 4, dtype=dn.float64)  # must survive the trace
    trace = backprop_trace(model, x, y)
    assert [r.name for r in trace.rows] == ["inner", "act", "inner", "act", "head"]
    assert all(r.delta_norm is not None and r.delta_norm > 0 for r in trace.rows)
    np.testing.assert_array_equal(model.inner.weight.grad.array, np.ones((4, 4)))
    assert model.head.weight.grad is None

    # the shared layer's gradient is the sum over both calls, as autograd gives it
    model.inner.weight.grad = None
    out = dn.nn.functional.cross_entropy(model(dn.tensor(x)), dn.tensor(y))
    out.backward()
    expected = float(np.linalg.norm(model.inner.weight.grad.array))
    assert trace.layer("inner").params[0].grad_norm == pytest.approx(expected, rel=1e-12)


def test_trace_prints_plots_and_removes_its_hooks(tmp_path):
    from rich.console import Console

    dn.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Sigmoid(), nn.Linear(8, 3))
    x = np.random.default_rng(0).normal(size=(4, 1, 4, 4)).astype(np.float32)
    trace = backprop_trace(model, x, np.array([0, 1, 2, 0]))
    text = str(trace)
    assert "delta^1" in text and "W^2" in text and "dL/da^1" in text
    console = Console(width=160, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(trace)
    shown = console.export_text()
    assert "δ^1" in shown and "∂L/∂a^1" in shown
    path = trace.plot(tmp_path / "trace.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    assert all(not m._forward_hooks for m in model.modules())
    assert [r["parameter"] for r in trace.table_rows()][2:4] == ["W^1", "b^1"]


def test_unknown_layer_name_says_which_exist():
    model = nn.Sequential(nn.Linear(2, 2))
    trace = backprop_trace(model, np.ones((1, 2), np.float32), np.array([0]))
    with pytest.raises(KeyError, match="modules: 0"):
        trace.layer("fc")
