"""What the page draws of a network: the decision surface, one small map per neuron, the weights.

Maps are sampled on a regular grid over the page's square [-6, 6]^2 (row 0 at the top, x2 = +6)
and sent as base64 bytes, one byte per cell, so a frame stays a few kilobytes:

* the output map has one channel per class holding p(class) * 255 (softmax for cross-entropy, the
  output clipped to [0, 1] for MSE), or, for regression, one channel with the value clipped to
  [-1, 1] and mapped to 0..255;
* each input feature and neuron map holds its value clipped to [-1, 1] on 0..255 (features are
  first divided by their largest magnitude on the square), as the TF Playground colours neurons.

>>> frame(model, points, settings)["output"]["channels"]     # 2 for two classes
"""

from __future__ import annotations

import base64

import numpy as np

import deepnum.nn as nn
from deepnum.autograd import no_grad
from deepnum.models.playground import FEATURE_FUNCTIONS, PointFeatures
from deepnum.playground.network import feature_range
from deepnum.tensor import Tensor

OUTPUT_GRID = 100  # cells per side of the decision surface (as the TF Playground's)
NEURON_GRID = 20  # cells per side of each neuron's small map
SQUARE = 6.0


def grid_points(size: int) -> np.ndarray:
    """Cell centres on the square, row-major from the top-left corner, shape (size*size, 2)."""
    centres = (np.arange(size) + 0.5) / size * 2 * SQUARE - SQUARE
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)


def frame(model, points, settings: dict) -> dict:
    """The output map, every feature's and neuron's map, and the weights, as JSON-ready data."""
    with no_grad(), np.errstate(all="ignore"):
        model.eval()
        try:
            output = _output_map(model, points, settings)
            layers = _neuron_maps(model, points)
        finally:
            model.train()
    return {"output": output, "layers": layers, "weights": _weights(model)}


def _raw(points, grid: np.ndarray) -> np.ndarray:
    """Grid points on the square back in the data's own units (uploaded CSV data is scaled)."""
    return grid / np.float32(points.scale) + np.float32(points.offset)


def output(model, points, settings: dict) -> dict:
    """The decision surface alone (the compare view's second network)."""
    with no_grad():
        model.eval()
        try:
            return _output_map(model, points, settings)
        finally:
            model.train()


def _output_map(model, points, settings: dict) -> dict:
    out = model(Tensor._wrap(_raw(points, grid_points(OUTPUT_GRID)))).array.astype(np.float64)
    if points.task == "regression":
        channels = [_signed_bytes(out[:, 0])]
    else:
        if settings["loss"] == "cross_entropy":
            shifted = np.exp(out - out.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        else:
            probabilities = np.clip(out, 0, 1)
        probabilities = np.nan_to_num(probabilities, nan=0.0)
        channels = [np.round(probabilities[:, c] * 255).astype(np.uint8)
                    for c in range(out.shape[1])]
    return {"size": OUTPUT_GRID, "channels": len(channels),
            "data": _b64(np.concatenate(channels))}


def _neuron_maps(model, points) -> list[dict]:
    """One entry per column of the diagram: the features, each hidden layer, the output layer."""
    raw = Tensor._wrap(_raw(points, grid_points(NEURON_GRID)))
    x = raw
    columns, modules = [], list(model)
    for i, module in enumerate(modules):
        x = module(x)
        if isinstance(module, PointFeatures):
            # Every feature, used or not, so the page can show what switching one on would add.
            every = PointFeatures(tuple(FEATURE_FUNCTIONS), module.offset, module.scale)
            scaled = every(raw).array / np.array([feature_range(n) for n in every.names],
                                                np.float32)
            columns.append({"kind": "features", "names": list(every.names),
                            "maps": _maps(scaled)})
        elif i == len(modules) - 1:
            columns.append({"kind": "output", "maps": _maps(x.array)})
        elif not isinstance(module, (nn.Linear, nn.Dropout)):
            columns.append({"kind": "hidden", "activation": type(module).__name__,
                            "maps": _maps(x.array)})
    return columns


def _weights(model) -> list[dict]:
    """Each Linear layer's weight (out x in) and bias, rounded for a short JSON answer (a weight
    that is not finite, as in a damaged file, is sent as null)."""
    return [{"weight": _finite_list(m.weight.array), "bias": _finite_list(m.bias.array)}
            for m in model if isinstance(m, nn.Linear)]


def _finite_list(values: np.ndarray) -> list:
    rounded = np.round(values.astype(np.float64), 4)
    return np.where(np.isfinite(rounded), rounded, None).tolist()


def _maps(values: np.ndarray) -> list[str]:
    return [_b64(_signed_bytes(values[:, j])) for j in range(values.shape[1])]


def _signed_bytes(values: np.ndarray) -> np.ndarray:
    """[-1, 1] -> 0..255; NaN (a diverged network) becomes the middle, 128."""
    clipped = np.clip(np.nan_to_num(values, nan=0.0), -1, 1)
    return np.round((clipped + 1) * 127.5).astype(np.uint8)


def _b64(data: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(data, dtype=np.uint8).tobytes()).decode("ascii")
