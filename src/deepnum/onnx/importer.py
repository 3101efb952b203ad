"""ONNX file -> :class:`~deepnum.onnx.graph.OnnxGraph`, read like every other file deepnum takes
from outside: bounded in size, every tensor's element count checked against the bytes that
hold it before it is read, no external data files followed, nothing executed.

Initializers become parameters (trained) or buffers: a file deepnum wrote says which in its
metadata; for others, floating-point initializers are parameters except BatchNorm's running
statistics, and integer ones and Constant nodes' values are buffers.

>>> graph = dn.onnx.load("model.onnx")
>>> graph(x)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from deepnum.errors import ModelFileError
from deepnum.onnx.graph import ONNX_DTYPES, OnnxGraph
from deepnum.schema import parse

MIN_OPSET = 13
MAX_BYTES = 2**31  # protobuf's own limit for one message
_BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def load(path, max_bytes: int = MAX_BYTES) -> OnnxGraph:
    """The model in the ONNX file at ``path`` as a deepnum Module (an :class:`OnnxGraph`)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ModelFileError(f"{path}: {size:,} bytes, more than the limit of {max_bytes:,}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a directory, not an ONNX file") from None
    return from_bytes(data, path)


def from_bytes(data: bytes, source="<bytes>") -> OnnxGraph:
    onnx = _require_onnx()
    from google.protobuf.message import DecodeError

    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError, RecursionError) as error:
        raise ModelFileError(f"{source}: not an ONNX file ({str(error)[:100]})") from None
    return from_proto(proto, source, len(data))


def from_proto(proto, source="<model>", limit: int | None = None) -> OnnxGraph:
    """An OnnxGraph for an ``onnx.ModelProto`` (weights included)."""
    limit = proto.ByteSize() if limit is None else limit
    try:
        try:
            description, arrays = describe(proto, limit)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                UnicodeDecodeError, OverflowError) as error:
            raise ModelFileError(f"malformed ONNX graph ({type(error).__name__}: "
                                 f"{str(error)[:100]})") from None
        graph = OnnxGraph(description)
    except ModelFileError as error:
        message = str(error)
        raise ModelFileError(message if message.startswith(str(source))
                             else f"{source}: {message}") from None
    own = dict(graph.named_state())
    for name, array in arrays.items():
        own[name].array[...] = array
    return graph


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ModelFileError("reading ONNX files needs the onnx package: "
                             "pip install 'deepnum[onnx]'") from None
    return onnx


def describe(proto, limit: int) -> tuple[dict, dict]:
    """(the JSON-able description OnnxGraph takes, initializer name -> array)."""
    from onnx import helper

    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None or opset < MIN_OPSET:
        raise ModelFileError(f"opset {opset}: deepnum imports ONNX opset {MIN_OPSET} and later "
                             f"(convert the file with onnx.version_converter)")
    g = proto.graph
    if len(g.node) > 200_000 or len(g.initializer) > 100_000:
        raise ModelFileError(f"{len(g.node):,} nodes and {len(g.initializer):,} initializers: "
                             f"more than deepnum reads")
    roles = _declared_roles(proto)
    arrays, specs = {}, []
    for t in g.initializer:
        arrays[t.name] = _tensor(t, limit)
    nodes, foreign = [], set()
    for node in g.node:
        if node.domain not in ("", "ai.onnx"):
            foreign.add(f"{node.domain}::{node.op_type}")
            continue
        if node.op_type == "Constant":  # a value known when the file is read: a buffer
            arrays[node.output[0]] = _constant(node, limit)
            roles.setdefault(node.output[0], "buffer")
            continue
        attributes = {}
        for a in node.attribute:
            if a.type in (a.GRAPH, a.GRAPHS, a.SPARSE_TENSOR, a.SPARSE_TENSORS, a.TYPE_PROTO,
                          a.TYPE_PROTOS):
                foreign.add(f"{node.op_type} (with a {a.name} subgraph or type)")
                continue
            attributes[a.name] = _json_attribute(helper, a, limit)
        nodes.append({"op": node.op_type, "inputs": list(node.input),
                      "outputs": list(node.output), "attributes": attributes})
    if foreign:
        raise ModelFileError(f"the graph needs operators deepnum does not have: "
                             f"{', '.join(sorted(foreign))}")
    for name, array in arrays.items():
        dtype = array.dtype.name
        if dtype not in ONNX_DTYPES.values():
            raise ModelFileError(f"initializer {name[:80]!r} has dtype {dtype}, which deepnum "
                                 f"does not hold")
        role = roles.get(name) or ("parameter" if array.dtype.kind == "f" and not
                                   name.endswith(_BUFFER_SUFFIXES) else "buffer")
        if array.dtype.kind != "f":
            role = "buffer"
        specs.append({"name": name, "dtype": dtype, "shape": list(array.shape), "role": role})
    known = set(arrays)
    inputs = [_input(v) for v in g.input if v.name not in known]
    description = {"inputs": inputs, "outputs": [o.name for o in g.output], "nodes": nodes,
                   "initializers": specs, "opset": int(opset)}
    return description, arrays


def _declared_roles(proto) -> dict:
    """name -> role from the metadata a deepnum export writes (bounded JSON)."""
    props = {p.key: p.value for p in proto.metadata_props}
    roles = {}
    for key, role in (("deepnum.parameters", "parameter"), ("deepnum.buffers", "buffer")):
        if key in props:
            names = parse(props[key], f"metadata {key}", ModelFileError, 16 * 2**20, 2)
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ModelFileError(f"metadata {key} is not a list of names")
            roles.update({n: role for n in names})
    return roles


def _input(value) -> dict:
    t = value.type
    if not t.HasField("tensor_type"):
        raise ModelFileError(f"input {value.name[:80]!r} is not a tensor")
    dtype = ONNX_DTYPES.get(t.tensor_type.elem_type)
    if dtype is None:
        raise ModelFileError(f"input {value.name[:80]!r} has element type "
                             f"{t.tensor_type.elem_type}, which deepnum does not hold")
    shape = None
    if t.tensor_type.HasField("shape"):
        shape = [d.dim_value if d.HasField("dim_value") else None
                 for d in t.tensor_type.shape.dim]
    return {"name": value.name, "dtype": dtype, "shape": shape}


def _tensor(t, limit: int) -> np.ndarray:
    """A TensorProto's values, after checking its size against the bytes that carry it."""
    from onnx import numpy_helper

    if t.data_location == t.EXTERNAL or t.external_data:
        raise ModelFileError(f"tensor {t.name[:80]!r} keeps its data in an external file, "
                             f"which deepnum does not follow")
    if t.data_type not in ONNX_DTYPES:
        raise ModelFileError(f"tensor {t.name[:80]!r} has element type {t.data_type}, which "
                             f"deepnum does not hold")
    if len(t.dims) > 32 or any(d < 0 for d in t.dims):
        raise ModelFileError(f"tensor {t.name[:80]!r} has a malformed shape")
    count = math.prod(t.dims)
    held = len(t.raw_data) // np.dtype(ONNX_DTYPES[t.data_type]).itemsize if t.raw_data else \
        max(len(t.float_data), len(t.int32_data), len(t.int64_data), len(t.double_data),
            len(t.uint64_data))
    if count > limit or count != held:
        raise ModelFileError(f"tensor {t.name[:80]!r} of shape {list(t.dims)[:8]} should hold "
                             f"{count:,} values, its data holds {held:,}")
    try:
        return np.array(numpy_helper.to_array(t), copy=True)
    except (ValueError, TypeError) as error:
        raise ModelFileError(f"tensor {t.name[:80]!r} is malformed ({error})") from None


def _constant(node, limit: int) -> np.ndarray:
    for a in node.attribute:
        if a.name == "value" and a.type == a.TENSOR:
            return _tensor(a.t, limit)
        if a.name == "value_float":
            return np.asarray(a.f, np.float32)
        if a.name == "value_floats":
            return np.asarray(list(a.floats), np.float32)
        if a.name == "value_int":
            return np.asarray(a.i, np.int64)
        if a.name == "value_ints":
            return np.asarray(list(a.ints), np.int64)
    raise ModelFileError(f"Constant node {node.output[0][:80]!r} has no value deepnum reads")


def _json_attribute(helper, attribute, limit: int):
    if attribute.type == attribute.TENSOR:
        array = _tensor(attribute.t, limit)
        if array.size > 4096:
            raise ModelFileError(f"attribute {attribute.name!r} holds a tensor of "
                                 f"{array.size:,} values")
        return {"tensor": {"dtype": array.dtype.name, "shape": list(array.shape),
                           "values": array.reshape(-1).tolist()}}
    value = helper.get_attribute_value(attribute)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        if len(value) > 4096:
            raise ModelFileError(f"attribute {attribute.name!r} is a list of {len(value):,}")
        return [_plain(v) for v in value]
    return _plain(value)


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": str(value)}
    if isinstance(value, (int, float, str)):
        return value
    raise ModelFileError(f"an attribute of type {type(value).__name__} deepnum does not read")
