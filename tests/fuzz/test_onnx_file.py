"""Load mutated ONNX files and run what loads: every mutant is imported and run, or refused with
a deepnum error; none allocates without bound or runs anything.

Raw mutants flip, insert and delete bytes (the protobuf parser and the checks behind it must
cope); structured mutants change one field of a parsed, valid file and write it back as a
well-formed protobuf (a tensor's shape or bytes, an attribute, an op type, a node's input, the
graph's input shape, the metadata), which reaches the checks behind the parser."""

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepnum as dn
import deepnum.nn as nn
from deepnum.errors import DeepnumError
from tests.fuzz import cases
from tests.fuzz.mutate import raw_mutant

ODD_INTS = [0, 1, -1, 2, 3, 7, 255, 2**31, 2**40, 2**62, -2**62, 10**6]
OPS = ["Relu", "Conv", "MaxPool", "Gemm", "Reshape", "Concat", "Gather", "Slice", "LSTM",
       "Expand", "ConstantOfShape", "Pad", "Split", "Transpose", "BatchNormalization", "Foo"]


@pytest.fixture(scope="module")
def onnx_bytes(tmp_path_factory):
    dn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(48, 5), nn.LogSoftmax(dim=1))
    path = dn.onnx.export(model, dn.randn(2, 1, 8, 8), tmp_path_factory.mktemp("o") / "m.onnx")
    return path.read_bytes()


@st.composite
def structured_mutant(draw, raw: bytes) -> bytes:
    proto = onnx.ModelProto()
    proto.ParseFromString(raw)
    g = proto.graph
    how = draw(st.sampled_from(["dims", "raw_data", "data_type", "op_type", "input",
                                "attribute", "drop_attribute", "drop_node", "graph_input",
                                "metadata", "opset", "elem_type"]))
    if how in ("dims", "raw_data", "data_type") and g.initializer:
        t = g.initializer[draw(st.integers(0, len(g.initializer) - 1))]
        if how == "dims":
            t.dims[:] = draw(st.lists(st.sampled_from(ODD_INTS), max_size=4))
        elif how == "raw_data":
            t.raw_data = t.raw_data[:draw(st.integers(0, len(t.raw_data)))]
        else:
            t.data_type = draw(st.sampled_from([0, 1, 2, 7, 8, 9, 10, 11, 16, 99]))
    elif how in ("op_type", "input", "attribute", "drop_attribute", "drop_node"):
        node = g.node[draw(st.integers(0, len(g.node) - 1))]
        if how == "op_type":
            node.op_type = draw(st.sampled_from(OPS))
        elif how == "input" and node.input:
            node.input[draw(st.integers(0, len(node.input) - 1))] = draw(st.sampled_from(
                ["", "nope", "input", "output", g.node[0].output[0]]))
        elif how == "attribute" and node.attribute:
            a = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
            if a.type == a.INTS:
                a.ints[:] = draw(st.lists(st.sampled_from(ODD_INTS), max_size=5))
            elif a.type == a.INT:
                a.i = draw(st.sampled_from(ODD_INTS))
            elif a.type == a.FLOAT:
                a.f = draw(st.sampled_from([0.0, -1.0, 1e30, float("nan"), float("inf")]))
        elif how == "drop_attribute" and node.attribute:
            del node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
        elif how == "drop_node":
            del g.node[draw(st.integers(0, len(g.node) - 1))]
    elif how == "graph_input":
        dims = g.input[0].type.tensor_type.shape.dim
        dims[draw(st.integers(0, len(dims) - 1))].dim_value = draw(st.sampled_from(ODD_INTS[:7]))
    elif how == "elem_type":
        g.input[0].type.tensor_type.elem_type = draw(st.sampled_from([0, 7, 8, 9, 11, 16]))
    elif how == "metadata":
        for p in proto.metadata_props:
            if p.key == "deepnum.parameters":
                p.value = draw(st.sampled_from(['[', '{"a": 1}', '[1, 2]', '["nope"]',
                                                "[" * 100 + "]" * 100, '"x"']))
    else:
        proto.opset_import[0].version = draw(st.sampled_from([1, 9, 12, 13, 21, 99]))
    return proto.SerializeToString()


def _input_for(graph):
    if not graph.graph["inputs"]:  # a graph of constants only: it runs without an input
        return ()
    spec = graph.graph["inputs"][0]
    shape = [2 if s is None else s for s in (spec["shape"] or [2, 1, 8, 8])]
    if np.prod(shape) > 10**6:
        return None
    return (dn.tensor(np.random.default_rng(0).standard_normal(shape).astype(spec["dtype"])),)


@settings(max_examples=cases(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_mutant_loads_and_runs_or_raises_a_deepnum_error(onnx_bytes, data,
                                                              tmp_path_factory):
    mutant = data.draw(st.one_of(raw_mutant(onnx_bytes), structured_mutant(onnx_bytes),
                                 structured_mutant(onnx_bytes)))
    path = tmp_path_factory.mktemp("m") / "m.onnx"
    path.write_bytes(mutant)
    try:
        graph = dn.onnx.load(path)
    except DeepnumError:
        return
    x = _input_for(graph)
    if x is None:
        return
    try:
        out = graph(*x)
        for t in out if isinstance(out, tuple) else (out,):
            if t.requires_grad and t.dtype.is_floating_point:
                t.sum().backward()
    except DeepnumError:
        pass
