"""Layers exported whole, where ONNX has one op for what the layer's trace spells out in pieces
(or where the trace alone cannot say it: LeakyReLU's ``where(x > 0, ...)`` reads a mask computed
from the input's values, an Embedding looks rows up with the integer ids themselves).

RNN, LSTM and GRU become ONNX's RNN, LSTM and GRU nodes, one per layer (both directions in one),
with PyTorch's weights reordered inside the graph from PyTorch's gate order to ONNX's:

    LSTM  PyTorch i, f, g, o   ->  ONNX i, o, f, c       GRU  PyTorch r, z, n  ->  ONNX z, r, h

(GRU with ``linear_before_reset=1``, PyTorch's r * (W_hn h + b_hn)). The initializers keep their
state-dict names and layouts (``lstm.weight_ih_l0``); a Gather node reorders them, which
runtimes fold into a constant when they load the file.

>>> MODULES[nn.LeakyReLU].convert(g, call, ["x"])   # ['/act/LeakyRelu_output_0']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepnum import nn
from deepnum.nn.functional import SELU_ALPHA, SELU_SCALE


@dataclass
class ModuleConverter:
    convert: object  # (g, call, input names) -> output names, one per flattened output
    applies: object = None  # (module) -> bool; None: always


MODULES: dict[type, ModuleConverter] = {}


def whole(cls, applies=None):
    def register(fn):
        MODULES[cls] = ModuleConverter(fn, applies)
        return fn

    return register


def exported_whole(module) -> bool:
    """Whether ``module`` is exported as one step (its class, unmodified, has a converter)."""
    converter = MODULES.get(type(module))
    if converter is None or "forward" in module.__dict__:
        return False
    return converter.applies is None or converter.applies(module)


@whole(nn.LeakyReLU)
def _leaky_relu(g, call, inputs):
    return g.node("LeakyRelu", inputs, alpha=float(call.module.negative_slope))


@whole(nn.ELU)
def _elu(g, call, inputs):
    return g.node("Elu", inputs, alpha=float(call.module.alpha))


@whole(nn.SELU)
def _selu(g, call, inputs):
    return g.node("Selu", inputs, alpha=float(SELU_ALPHA), gamma=float(SELU_SCALE))


@whole(nn.CELU)
def _celu(g, call, inputs):
    return g.node("Celu", inputs, alpha=float(call.module.alpha))


def _clip(g, call, inputs, low: float, high: float):  # x clamped to [low, high]
    dtype = call.args[0].array.dtype
    bounds = [g.const(np.array(v, dtype), hint) for v, hint in ((low, "min"), (high, "max"))]
    return g.node("Clip", [inputs[0], *bounds])


MODULES[nn.Hardtanh] = ModuleConverter(
    lambda g, call, inputs: _clip(g, call, inputs, call.module.min_val, call.module.max_val))
MODULES[nn.ReLU6] = ModuleConverter(lambda g, call, inputs: _clip(g, call, inputs, 0.0, 6.0))


@whole(nn.Hardsigmoid)
def _hardsigmoid(g, call, inputs):  # relu6(x + 3) / 6
    return g.node("HardSigmoid", inputs, alpha=1.0 / 6.0, beta=0.5)


@whole(nn.Hardswish)
def _hardswish(g, call, inputs):  # x * relu6(x + 3) / 6 (ONNX's HardSwish from opset 14)
    if g.opset >= 14:
        return g.node("HardSwish", inputs)
    (gate,) = g.node("HardSigmoid", inputs, alpha=1.0 / 6.0, beta=0.5)
    return g.node("Mul", [inputs[0], gate])


@whole(nn.PReLU)
def _prelu(g, call, inputs):  # one slope per channel (dimension 1), broadcast as PyTorch's
    m, ndim = call.module, call.args[0].ndim
    slope = g.state(m.weight)
    if m.num_parameters > 1 and ndim > 2:
        shape = np.array([m.num_parameters] + [1] * (ndim - 2), dtype=np.int64)
        (slope,) = g.node("Reshape", [slope, g.const(shape, "slope_shape")])
    return g.node("PRelu", [inputs[0], slope])


@whole(nn.Embedding)
def _embedding(g, call, inputs):
    return g.node("Gather", [g.state(call.module.weight), inputs[0]], axis=0)


def _batch_norm_applies(module) -> bool:
    return not module.training and module.track_running_stats


def _batch_norm(g, call, inputs):
    m = call.module
    dtype = m.running_mean.array.dtype
    if m.affine:
        scale, shift = g.state(m.weight), g.state(m.bias)
    else:
        scale = g.const(np.ones(m.num_features, dtype), "scale")
        shift = g.const(np.zeros(m.num_features, dtype), "shift")
    return g.node("BatchNormalization", [inputs[0], scale, shift, g.state(m.running_mean),
                                         g.state(m.running_var)], epsilon=float(m.eps))


for _bn in (nn.BatchNorm1d, nn.BatchNorm2d):
    MODULES[_bn] = ModuleConverter(_batch_norm, _batch_norm_applies)


# ---------------------------------------------------------------------------- recurrent
# ONNX's gate blocks as PyTorch's block indices
GATE_ORDER = {"RNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}


def gate_rows(mode: str, hidden: int) -> np.ndarray:
    """Row indices that take a PyTorch-ordered (G*H, ...) weight to ONNX's gate order."""
    return np.concatenate([np.arange(b * hidden, (b + 1) * hidden) for b in GATE_ORDER[mode]])


def _reordered(g, tensor, rows: np.ndarray | None) -> str:
    name = g.state(tensor)
    if rows is None:
        return name
    return g.node("Gather", [name, g.const(rows, "gate_order")], axis=0)[0]


def _stacked(g, pieces: list) -> str:
    """(1, ...) per direction, then concatenated: ONNX's (num_directions, ...) weights."""
    lifted = [g.unsqueeze(p, [0]) for p in pieces]
    return lifted[0] if len(lifted) == 1 else g.node("Concat", lifted, axis=0)[0]


def _recurrent(g, call, inputs):
    m = call.module
    mode, hidden, directions = m.mode, m.hidden_size, m.num_directions
    x_tensor = call.args[0]
    batched = x_tensor.ndim == 3
    rows = None if mode == "RNN" else gate_rows(mode, hidden)
    x = inputs[0]
    if not batched:
        x = g.unsqueeze(x, [1])
    elif m.batch_first:
        (x,) = g.node("Transpose", [x], perm=[1, 0, 2])
    states = inputs[1:]  # h_0 (and c_0), (layers * directions, N, H), if given
    if not batched:
        states = [g.unsqueeze(s, [1]) for s in states]
    h_n, c_n = [], []
    for layer in range(m.num_layers):
        suffixes = m._suffixes(layer)
        w = _stacked(g, [_reordered(g, getattr(m, f"weight_ih{s}"), rows) for s in suffixes])
        r = _stacked(g, [_reordered(g, getattr(m, f"weight_hh{s}"), rows) for s in suffixes])
        b = ""
        if m.bias:
            b = _stacked(g, [g.node("Concat", [_reordered(g, getattr(m, f"bias_ih{s}"), rows),
                                              _reordered(g, getattr(m, f"bias_hh{s}"), rows)],
                                    axis=0)[0] for s in suffixes])
        first = [layer * directions]
        last = [(layer + 1) * directions]
        initial = [g.slice(s, first, last, [0]) for s in states]
        attrs = dict(hidden_size=hidden,
                     direction="bidirectional" if directions == 2 else "forward")
        if mode == "RNN":
            act = "Tanh" if m.nonlinearity == "tanh" else "Relu"
            attrs["activations"] = [act] * directions
        if mode == "GRU":
            attrs["linear_before_reset"] = 1
        outputs = 3 if mode == "LSTM" else 2
        made = g.node(mode, [x, w, r, b, "", *initial], outputs=outputs, **attrs)
        # Y is (T, directions, N, H): the directions side by side, as PyTorch's (T, N, D*H)
        (y,) = g.node("Transpose", [made[0]], perm=[0, 2, 1, 3])
        (x,) = g.node("Reshape", [y, g.ints([0, 0, -1])])
        h_n.append(made[1])
        if mode == "LSTM":
            c_n.append(made[2])
    output = x
    if not batched:
        output = g.squeeze(output, [1])
    elif m.batch_first:
        (output,) = g.node("Transpose", [output], perm=[1, 0, 2])
    results = [output]
    for finals in (h_n, c_n) if mode == "LSTM" else (h_n,):
        joined = finals[0] if len(finals) == 1 else g.node("Concat", finals, axis=0)[0]
        results.append(joined if batched else g.squeeze(joined, [1]))
    return results


for _cls in (nn.RNN, nn.LSTM, nn.GRU):
    MODULES[_cls] = ModuleConverter(_recurrent)
