"""The ONNX graph under construction: nodes, initializers and value names, for the converters.

A converter asks for nodes by op type and gets their output names back; constants become
initializers; parameters and buffers become initializers under their state-dict names, once.

>>> (y,) = g.node("Relu", [x])
>>> w = g.const(np.float32(0.5), "half")
"""

from __future__ import annotations

import numpy as np

from deepnum.errors import DeepnumError


class ExportError(DeepnumError):
    """The model (one of its modules or ops) cannot be written as ONNX; nothing was written."""


class Builder:
    def __init__(self, opset: int, parameter_names: dict):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.opset = opset
        self.nodes, self.initializers = [], {}
        self.parameter_names = parameter_names  # id(tensor) -> state-dict name
        self.scope = ""  # the module path the nodes being made belong to
        self._counts: dict[str, int] = {}

    def _fresh(self, stem: str) -> str:
        n = self._counts.get(stem, 0)
        self._counts[stem] = n + 1
        return stem if n == 0 else f"{stem}_{n}"

    def node(self, op_type: str, inputs: list, outputs: int = 1, **attributes) -> list[str]:
        """Add one node; returns the names of its ``outputs`` values."""
        prefix = f"/{self.scope}" if self.scope else ""
        name = self._fresh(f"{prefix}/{op_type}")
        names = [f"{name}_output_{i}" for i in range(outputs)]
        attrs = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append(self.helper.make_node(
            op_type, ["" if i is None else i for i in inputs], names, name=name, **attrs))
        return names

    def const(self, value, hint: str = "const", dtype=None) -> str:
        """An initializer holding ``value`` (a constant the graph reads)."""
        array = np.asarray(value, dtype=dtype)
        if array.dtype.kind == "b":
            array = array.astype(np.bool_)
        prefix = f"/{self.scope}" if self.scope else ""
        name = self._fresh(f"{prefix}/{hint}")
        # asarray, not ascontiguousarray, which makes a 0-d array (a scalar input) 1-d
        self.initializers[name] = self.numpy_helper.from_array(np.asarray(array, order="C"), name)
        return name

    def ints(self, values, hint: str = "shape") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), hint)

    def state(self, tensor) -> str:
        """The initializer of a parameter or buffer, named by its state-dict name."""
        name = self.parameter_names.get(id(tensor))
        if name is None:
            return self.const(tensor.array, "const")
        if name not in self.initializers:
            self.initializers[name] = self.numpy_helper.from_array(
                np.ascontiguousarray(tensor.array), name)
        return name

    # ------------------------------------------------------------------ opset-dependent forms
    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        """A Reduce* node: axes as an input from opset 18 on (ReduceSum from 13), an
        attribute before."""
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            (y,) = self.node(op_type, [x, self.ints(axes, "axes")], keepdims=int(keepdims))
        else:
            (y,) = self.node(op_type, [x], axes=axes, keepdims=int(keepdims))
        return y

    def unsqueeze(self, x: str, axes) -> str:
        return self.node("Unsqueeze", [x, self.ints(axes, "axes")])[0]

    def squeeze(self, x: str, axes) -> str:
        return self.node("Squeeze", [x, self.ints(axes, "axes")])[0]

    def slice(self, x: str, starts, ends, axes, steps=None) -> str:
        inputs = [x, self.ints(starts, "starts"), self.ints(ends, "ends"), self.ints(axes, "axes")]
        if steps is not None:
            inputs.append(self.ints(steps, "steps"))
        return self.node("Slice", inputs)[0]
