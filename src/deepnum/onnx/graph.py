"""OnnxGraph: a deepnum Module that runs an ONNX graph with deepnum's ops.

Its one constructor argument is the graph *description*, plain JSON-able data: the inputs (name,
dtype, shape), the outputs, the nodes in order (op type, input and output names, attributes)
and the initializers (name, dtype, shape, and whether it is a trained parameter or a buffer).
The initializers' values are the module's parameters and buffers, under the initializers'
names (``features.0.weight`` for a file deepnum exported), so the module trains, its
``state_dict()`` is the weights, and ``dn.save(graph, "m.safetensors")`` writes an ordinary
deepnum model file: the architecture JSON is the description, the weights are safetensors, and
``dn.load`` rebuilds it like any deepnum layer. The description is validated here, whatever its
source (an ONNX file, a model file's JSON): unknown operators are listed together, names must be
defined before use, sizes are bounded.

>>> graph = dn.onnx.load("lenet.onnx")          # an OnnxGraph
>>> graph(dn.randn(8, 1, 28, 28)).shape         # (8, 10)
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.creation import zeros
from deepnum.errors import ModelFileError, ShapeError
from deepnum.nn.module import Module, Parameter

# ONNX's TensorProto element types that deepnum holds, as NumPy dtype names
ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
               7: "int64", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}
MAX_NODES = 200_000
MAX_NAME = 1_000
MAX_RANK = 32


class OnnxGraph(Module):
    """Runs the ONNX graph described by ``graph`` (see the module docstring) on deepnum tensors.

    >>> graph = OnnxGraph(description)     # usually made by dn.onnx.load(path)
    >>> outputs = graph(x)                 # one tensor, or a tuple for several outputs
    """

    def __init__(self, graph: dict):
        super().__init__()
        object.__setattr__(self, "_plan", _validate(graph))
        self.graph = graph
        for spec in graph["initializers"]:
            t = zeros(tuple(spec["shape"]), dtype=np.dtype(spec["dtype"]))
            if spec["role"] == "parameter":
                self._parameters[spec["name"]] = Parameter(t)
            else:
                self._buffers[spec["name"]] = t

    @property
    def input_names(self) -> list[str]:
        return [i["name"] for i in self.graph["inputs"]]

    @property
    def output_names(self) -> list[str]:
        return list(self.graph["outputs"])

    def forward(self, *inputs):
        from deepnum.tensor import Tensor

        specs = self.graph["inputs"]
        if len(inputs) != len(specs):
            raise ShapeError(f"OnnxGraph: the graph takes {len(specs)} inputs "
                             f"({', '.join(self.input_names)}), got {len(inputs)}")
        values = {}
        for name, t in self._parameters.items():
            values[name] = t
        for name, t in self._buffers.items():
            values[name] = t
        for spec, x in zip(specs, inputs):
            x = x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))
            _check_input(spec, x)
            values[spec["name"]] = x
        for run, inputs_, outputs, attributes, multi in self._plan:
            args = [None if n == "" else values[n] for n in inputs_]
            try:
                made = run(args, attributes, len(outputs)) if multi else run(args, attributes)
            except ShapeError:
                raise
            except (ValueError, RuntimeError, IndexError, TypeError, KeyError, AttributeError,
                    ArithmeticError, MemoryError) as error:
                raise ShapeError(f"OnnxGraph: node {outputs[0]!r}: {error}") from None
            for name, t in zip(outputs, made):
                if name:
                    values[name] = t
        out = tuple(values[n] for n in self.graph["outputs"])
        for n, t in zip(self.graph["outputs"], out):
            if t is None:  # an optional output its op does not compute (Dropout's mask)
                raise ShapeError(f"OnnxGraph: output {n[:80]!r} has no value: its node does "
                                 f"not compute that optional output")
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        ops = self.graph["nodes"]
        return (f"{len(ops)} nodes, inputs={self.input_names}, outputs={self.output_names}")


def _check_input(spec: dict, x) -> None:
    shape = spec["shape"]
    if shape is None:
        return
    if x.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, x.shape)):
        want = tuple("N" if s is None else s for s in shape)
        raise ShapeError(f"OnnxGraph: input {spec['name']!r} must have shape {want}, got "
                         f"{tuple(x.shape)}")


# ---------------------------------------------------------------------------- validation
def _fail(message: str):
    raise ModelFileError(f"ONNX graph: {message}")


def _name(value, what: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME:
        _fail(f"{what} must be a name (a string of at most {MAX_NAME} characters), "
              f"got {str(value)[:60]!r}")
    return value


def _shape(value, what: str, allow_free: bool) -> list:
    if not isinstance(value, (list, tuple)) or len(value) > MAX_RANK or not all(
            (s is None and allow_free) or (type(s) is int and s >= 0) for s in value):
        _fail(f"{what}: malformed shape {str(value)[:60]}")
    return list(value)


def decode_attribute(value):
    """An attribute as the ops read it (tensors and non-finite floats are tagged in JSON)."""
    if isinstance(value, dict):
        if set(value) == {"float"} and value["float"] in ("inf", "-inf", "nan"):
            return float(value["float"])
        if set(value) == {"tensor"} and isinstance(value["tensor"], dict):
            t = value["tensor"]
            dtype = t.get("dtype")
            if dtype not in ONNX_DTYPES.values() or not isinstance(t.get("values"), list) or \
                    len(t["values"]) > 4096:
                _fail(f"malformed tensor attribute {str(value)[:60]}")
            shape = _shape(t.get("shape", []), "tensor attribute", False)
            try:
                return np.asarray(t["values"], dtype=dtype).reshape(shape)
            except (ValueError, TypeError, OverflowError):
                _fail(f"malformed tensor attribute {str(value)[:60]}")
        _fail(f"malformed attribute {str(value)[:60]}")
    if isinstance(value, (list, tuple)):
        if len(value) > 4096:
            _fail("an attribute list longer than 4096")
        return [decode_attribute(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    _fail(f"malformed attribute {str(value)[:60]}")


def _validate(graph) -> list:
    """The execution plan [(run, inputs, outputs, attributes, multi)] of a description, or a
    ModelFileError saying what is wrong with it."""
    from deepnum.onnx.ops_in import MULTI_OUTPUT, OPS

    if not isinstance(graph, dict) or not {"inputs", "outputs", "nodes", "initializers"} <= \
            set(graph):
        _fail("the description needs inputs, outputs, nodes and initializers")
    nodes, specs = graph["nodes"], graph["initializers"]
    if not isinstance(nodes, (list, tuple)) or len(nodes) > MAX_NODES:
        _fail(f"nodes must be a list of at most {MAX_NODES:,}")
    if not isinstance(specs, (list, tuple)) or not isinstance(graph["inputs"], (list, tuple)) \
            or not isinstance(graph["outputs"], (list, tuple)):
        _fail("inputs, outputs and initializers must be lists")
    defined = set()
    for spec in specs:
        if not isinstance(spec, dict):
            _fail("malformed initializer entry")
        name = _name(spec.get("name"), "an initializer's name")
        if name == "" or name in defined:
            _fail(f"initializer {name!r} is empty or defined twice")
        if spec.get("dtype") not in ONNX_DTYPES.values() or spec.get("role") not in (
                "parameter", "buffer"):
            _fail(f"initializer {name!r}: unknown dtype or role")
        if spec["role"] == "parameter" and np.dtype(spec["dtype"]).kind != "f":
            _fail(f"initializer {name!r}: a parameter must be floating point")
        _shape(spec.get("shape"), f"initializer {name!r}", False)
        defined.add(name)
    for spec in graph["inputs"]:
        if not isinstance(spec, dict):
            _fail("malformed input entry")
        name = _name(spec.get("name"), "an input's name")
        if name in defined or spec.get("dtype") not in ONNX_DTYPES.values():
            _fail(f"input {name!r} is defined twice or has an unknown dtype")
        if spec.get("shape") is not None:
            _shape(spec["shape"], f"input {name!r}", True)
        defined.add(name)
    missing = sorted({str(n.get("op"))[:40] for n in nodes if isinstance(n, dict)
                      and n.get("op") not in OPS and n.get("op") not in MULTI_OUTPUT})
    if missing:
        _fail(f"the graph needs operators deepnum does not have: {', '.join(missing)}")
    plan = []
    for i, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("inputs"), (list, tuple)) or \
                not isinstance(node.get("outputs"), (list, tuple)) or not node["outputs"]:
            _fail(f"node {i} is malformed")
        op = node["op"]
        for n in node["inputs"]:
            if _name(n, f"node {i} ({op}) input") != "" and n not in defined:
                _fail(f"node {i} ({op}) reads {n[:80]!r} before anything makes it")
        for n in node["outputs"]:
            if _name(n, f"node {i} ({op}) output") in defined:
                _fail(f"node {i} ({op}) makes {n[:80]!r}, which already exists")
            if n:
                defined.add(n)
        attributes = node.get("attributes", {})
        if not isinstance(attributes, dict):
            _fail(f"node {i} ({op}): malformed attributes")
        decoded = {_name(k, "an attribute name"): decode_attribute(v)
                   for k, v in attributes.items()}
        multi = op in MULTI_OUTPUT
        plan.append(((MULTI_OUTPUT if multi else OPS)[op], list(node["inputs"]),
                     list(node["outputs"]), decoded, multi))
    for n in graph["outputs"]:
        if _name(n, "an output") not in defined:
            _fail(f"output {n[:80]!r} is made by no node")
    total = sum(math.prod(s["shape"]) for s in specs)
    if total > 2**34:
        _fail(f"the initializers hold {total:,} numbers")
    return plan
