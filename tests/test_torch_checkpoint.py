"""PyTorch checkpoints read without PyTorch: the state dicts torch writes load into deepnum's twin
models and give PyTorch's outputs; pickles that ask for anything but tensors are refused."""

import io
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from deepnum.errors import ModelFileError
from deepnum.models.lenet import LeNet5
from deepnum.torch_checkpoint import load_torch_state_dict, read


def torch_lenet():
    """PyTorch's twin of deepnum's LeNet5 (the same state-dict names)."""
    net = torch.nn.Module()
    net.features = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
    net.classifier = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84),
        torch.nn.ReLU(), torch.nn.Linear(84, 10))
    net.forward = lambda x: net.classifier(net.features(x))
    return net


class TorchRows(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(7, 12, num_layers=2, batch_first=True)
        self.fc = torch.nn.Linear(12, 3)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


def _pairs():
    mlp_t = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.BatchNorm1d(16),
                                torch.nn.Linear(16, 4))
    mlp_d = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.BatchNorm1d(16), nn.Linear(16, 4))
    lstm_d = dn.models.build("lstm-rows", input_size=7, hidden_size=12, num_layers=2,
                             num_classes=3)
    return {"mlp": (mlp_t, mlp_d, (5, 6)), "lenet5": (torch_lenet(), LeNet5(), (3, 1, 28, 28)),
            "lstm": (TorchRows(), lstm_d, (4, 9, 7))}


@pytest.mark.parametrize("name", ["mlp", "lenet5", "lstm"])
def test_torch_state_dicts_load_into_the_deepnum_twin_and_give_torch_outputs(name, tmp_path):
    torch.manual_seed(0)
    theirs, ours, shape = _pairs()[name]
    if name == "mlp":  # non-trivial running statistics
        theirs.train()
        theirs(torch.randn(32, 6) * 3 + 1)
    theirs.eval()
    path = tmp_path / f"{name}.pt"
    torch.save(theirs.state_dict(), path)
    state = load_torch_state_dict(path)
    assert list(state) == list(theirs.state_dict())
    ours.load_state_dict(state)
    ours.eval()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(dn.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_views_dtypes_and_nested_checkpoints(tmp_path):
    w = torch.randn(4, 5)
    saved = {"model": OrderedDict(w=w, column=w[:, 2], t=w.t(), half=w.half(),
                                  bf=w.bfloat16(), step=torch.tensor(7), mask=w > 0,
                                  ids=torch.arange(6, dtype=torch.int32).reshape(2, 3),
                                  empty=torch.zeros(0, 3)),
             "epoch": 3, "name": "run", "lrs": [0.1, 0.01], "blob": b"\x00\xff"}
    torch.save(saved, tmp_path / "c.pt")
    everything = read(tmp_path / "c.pt")
    assert everything["epoch"] == 3 and everything["lrs"] == [0.1, 0.01]
    assert everything["blob"] == b"\x00\xff"
    state = load_torch_state_dict(tmp_path / "c.pt", key="model")
    for k, v in saved["model"].items():
        expected = v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy()
        assert state[k].dtype == expected.dtype and state[k].shape == expected.shape, k
        np.testing.assert_array_equal(state[k], expected)
    with pytest.raises(ModelFileError, match="not a state dict"):
        load_torch_state_dict(tmp_path / "c.pt")


def test_the_reader_never_imports_torch(tmp_path):
    torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / "l.pt")
    code = ("import sys, deepnum as dn\n"
            f"state = dn.load_torch_state_dict({str(tmp_path / 'l.pt')!r})\n"
            "assert state['weight'].shape == (2, 3)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


class _Evil:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        import os

        return os.system, (self.command,)


def _pt_with_pickle(path, payload: bytes, name="archive"):
    """A torch.save-shaped zip whose data.pkl is ``payload``."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/data.pkl", payload)
        z.writestr(f"{name}/byteorder", "little")
        z.writestr(f"{name}/version", "3\n")


def test_a_pickle_that_calls_os_system_is_refused_and_never_runs(tmp_path):
    canary = tmp_path / "canary"
    payload = pickle.dumps(OrderedDict(w=_Evil(f"touch {canary}")), protocol=2)
    path = tmp_path / "evil.pt"
    _pt_with_pickle(path, payload)
    with pytest.raises(ModelFileError, match=r"'(posix|os|nt)\.system'") as error:
        load_torch_state_dict(path)
    assert str(path) in str(error.value)
    assert not canary.exists()


@pytest.mark.parametrize("global_name", ["builtins eval", "builtins getattr",
                                         "numpy.core.multiarray _reconstruct",
                                         "torch._utils _rebuild_device_tensor_from_numpy",
                                         "subprocess Popen"])
def test_every_other_global_is_refused_by_name(tmp_path, global_name):
    module, name = global_name.split()
    payload = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b")R."
    _pt_with_pickle(tmp_path / "g.pt", payload)
    with pytest.raises(ModelFileError, match=f"'{module}.{name}'"):
        read(tmp_path / "g.pt")


def test_views_outside_their_storage_and_lying_sizes_are_refused(tmp_path):
    torch.save({"w": torch.randn(6)}, tmp_path / "ok.pt")
    data = zipfile.ZipFile(tmp_path / "ok.pt")
    pkl_name = next(n for n in data.namelist() if n.endswith("data.pkl"))
    pkl = data.read(pkl_name)
    for old, new, match in ((b"K\x06\x85", b"K\x09\x85", "reaches past"),  # size 6 -> 9
                            (b"K\x06t", b"K\x07t", "should hold")):          # numel 6 -> 7
        assert old in pkl, (old, pkl)
        out = tmp_path / "bad.pt"
        with zipfile.ZipFile(out, "w") as z:
            for info in data.infolist():
                body = data.read(info.filename)
                z.writestr(info.filename, pkl.replace(old, new, 1) if info.filename == pkl_name
                           else body)
        with pytest.raises(ModelFileError, match=match):
            read(out)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "legacy.pt").write_bytes(b"\x80\x02" + b"\x00" * 30)
    with pytest.raises(ModelFileError, match="legacy"):
        read(tmp_path / "legacy.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ModelFileError, match="not a PyTorch checkpoint"):
        read(tmp_path / "text.pt")
    with pytest.raises(ModelFileError, match="no such file"):
        read(tmp_path / "missing.pt")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("x/other.txt", "hi")
    (tmp_path / "zip.pt").write_bytes(buffer.getvalue())
    with pytest.raises(ModelFileError, match="no data.pkl"):
        read(tmp_path / "zip.pt")
