"""ONNX files into deepnum: PyTorch's exports give onnxruntime's outputs; deepnum's own round
trip gives the model's outputs, trains on, and saves as a deepnum model file."""

import subprocess
import sys
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum.errors import ModelFileError
from deepnum.models import build
from deepnum.onnx import OnnxGraph
from tests.onnx.helpers import random_input, run_onnxruntime

T = torch.nn


class TorchCNN(T.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn = T.Conv2d(1, 4, 3, padding=1), T.BatchNorm2d(4)
        self.c2, self.pool = T.Conv2d(4, 4, 3, padding=1), T.MaxPool2d(2, ceil_mode=True)
        self.gap, self.fc = T.AdaptiveAvgPool2d(1), T.Linear(8, 3)

    def forward(self, x):
        y = torch.relu(self.bn(self.c1(x)))
        y = y + self.c2(y)
        y = torch.cat([self.pool(y), self.pool(-y)], 1)
        return torch.log_softmax(self.fc(self.gap(y).view(y.size(0), -1)), dim=1)


class TorchRecurrent(T.Module):
    def __init__(self, cls):
        super().__init__()
        self.rnn, self.fc = cls(5, 6, num_layers=2, batch_first=True, bidirectional=True), \
            T.Linear(12, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


TORCH_MODELS = {
    "mlp": lambda: (T.Sequential(T.Linear(6, 8), T.Tanh(), T.Dropout(0.2), T.Linear(8, 3),
                                 T.Softmax(dim=1)), (3, 6)),
    "cnn": lambda: (TorchCNN(), (2, 1, 9, 9)),
    "lstm": lambda: (TorchRecurrent(T.LSTM), (2, 7, 5)),
    "gru": lambda: (TorchRecurrent(T.GRU), (2, 7, 5)),
    "rnn": lambda: (TorchRecurrent(T.RNN), (2, 7, 5)),
    "conv1d-activations": lambda: (T.Sequential(
        T.Conv1d(2, 3, 3, padding=1), T.ELU(), T.AvgPool1d(2), T.Flatten(), T.LeakyReLU(0.2),
        T.Linear(12, 2), T.SELU(), T.Softplus(), T.Sigmoid()), (2, 2, 8)),
}


@pytest.mark.parametrize("name", sorted(TORCH_MODELS))
def test_pytorch_exports_run_in_deepnum_as_in_onnxruntime(name, tmp_path):
    torch.manual_seed(0)
    model, shape = TORCH_MODELS[name]()
    model.eval()
    path = tmp_path / "t.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(*shape),), str(path), dynamo=False,
                          opset_version=17, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    graph = dn.onnx.load(path)
    assert isinstance(graph, OnnxGraph)
    for n in (1, 4):
        x = random_input((n, *shape[1:]), seed=n)
        expected = run_onnxruntime(path, x)[0]
        np.testing.assert_allclose(graph(dn.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)


def _round_trip(model, shape, tmp_path):
    model.eval()
    path = dn.onnx.export(model, dn.randn(*shape), tmp_path / "m.onnx")
    graph = dn.onnx.load(path)
    x = dn.tensor(random_input((5, *shape[1:]), seed=3))
    with dn.no_grad():
        np.testing.assert_allclose(graph(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    assert dict(graph.state_dict()).keys() >= dict(model.named_parameters()).keys()
    return graph


def _trains(graph, shape, classes):
    rng = np.random.default_rng(0)
    x = dn.tensor(rng.standard_normal((32, *shape[1:])).astype(np.float32))
    y = rng.integers(0, classes, 32)
    optimizer = dn.optim.Adam(graph.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = F.cross_entropy(graph(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize("name, shape", [("lenet5", (2, 1, 28, 28)),
                                         ("lstm-rows", (2, 1, 28, 28))])
def test_deepnum_round_trip_gives_the_same_outputs_and_trains_on(name, shape, tmp_path):
    model = build(name) if name == "lenet5" else build(name, hidden_size=16)
    graph = _round_trip(model, shape, tmp_path)
    _trains(graph, shape, 10)


def test_an_imported_graph_saves_and_loads_as_a_deepnum_model_file(tmp_path):
    model = build("lenet5")
    graph = _round_trip(model, (2, 1, 28, 28), tmp_path)
    dn.save(graph, tmp_path / "g.safetensors")
    again = dn.load(tmp_path / "g.safetensors")
    assert isinstance(again, OnnxGraph)
    x = dn.tensor(random_input((3, 1, 28, 28)))
    with dn.no_grad():
        np.testing.assert_array_equal(again(x).numpy(), graph(x).numpy())
    assert [k for k, _ in again.named_parameters()] == [k for k, _ in graph.named_parameters()]
    # a fresh process reads it back without deepnum.onnx having been imported first
    code = ("import deepnum as dn, sys\n"
            f"m = dn.load({str(tmp_path / 'g.safetensors')!r})\n"
            "print(type(m).__name__, 'onnx' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["OnnxGraph", "False"], out.stderr


def _model_with(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_unsupported_operators_are_listed_together(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    nodes = [helper.make_node("Hardmax", ["x"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Mish", ["b"], ["y"])]
    path = tmp_path / "u.onnx"
    onnx.save(_model_with(nodes, [x], [y]), str(path))
    with pytest.raises(ModelFileError, match="operators deepnum does not have: Hardmax, Mish"):
        dn.onnx.load(path)


def test_old_opsets_external_data_and_lying_tensors_are_refused(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    relu = [helper.make_node("Relu", ["x"], ["y"])]
    onnx.save(_model_with(relu, [x], [y], opset=9), str(tmp_path / "old.onnx"))
    with pytest.raises(ModelFileError, match="opset 9"):
        dn.onnx.load(tmp_path / "old.onnx")
    lying = helper.make_tensor("w", TensorProto.FLOAT, [4], b"\0" * 16, raw=True)
    lying.dims[:] = [1000, 1000]  # the shape of a million numbers over 16 bytes
    add = [helper.make_node("Add", ["x", "w"], ["y"])]
    onnx.save(_model_with(add, [x], [y], [lying]), str(tmp_path / "lie.onnx"))
    with pytest.raises(ModelFileError, match="should hold 1,000,000 values"):
        dn.onnx.load(tmp_path / "lie.onnx")
    external = helper.make_tensor("w", TensorProto.FLOAT, [2], b"\0" * 8, raw=True)
    external.data_location = TensorProto.EXTERNAL
    external.external_data.add(key="location", value="/etc/passwd")
    (tmp_path / "ext.onnx").write_bytes(_model_with(add, [x], [y], [external])
                                        .SerializeToString())
    with pytest.raises(ModelFileError, match="external file"):
        dn.onnx.load(tmp_path / "ext.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\xff" * 64)
    with pytest.raises(ModelFileError, match="junk.onnx"):
        dn.onnx.load(tmp_path / "junk.onnx")


def test_wrong_inputs_get_one_clear_error(tmp_path):
    path = dn.onnx.export(nn.Linear(3, 2), dn.randn(4, 3), tmp_path / "l.onnx")
    graph = dn.onnx.load(path)
    with pytest.raises(dn.ShapeError, match=r"input 'input' must have shape \('N', 3\)"):
        graph(dn.randn(4, 5))
    with pytest.raises(dn.ShapeError, match="takes 1 inputs"):
        graph(dn.randn(4, 3), dn.randn(4, 3))


def test_import_deepnum_does_not_import_onnx_or_onnxruntime():
    code = ("import sys, deepnum, deepnum.nn, deepnum.cli\n"
            "import deepnum.onnx, deepnum.onnx.graph, deepnum.torch_checkpoint\n"
            "print([m for m in ('onnx', 'onnxruntime', 'torch') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "[]", out.stderr
