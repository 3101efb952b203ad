"""dn.save / dn.load of what programs torch.save: state dicts, optimizer and scheduler states,
and dicts of those with plain values; compared with torch.save/torch.load on the same objects,
without pickle. Objects deepnum cannot store are refused naming them."""

import io
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum.errors import ModelFileError


def _plain(value):
    """Structure, types and values of a loaded object, for either library."""
    if isinstance(value, (dn.Tensor, torch.Tensor)):
        array = value.numpy() if isinstance(value, dn.Tensor) else value.detach().numpy()
        kind = "parameter" if isinstance(value, (nn.Parameter, torch.nn.Parameter)) else "tensor"
        return (kind, array.dtype.name, array.shape, array.tolist(), value.requires_grad)
    if isinstance(value, dict):
        return (type(value).__name__, [(_plain(k), _plain(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_plain(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return (type(value).__name__, value)


def _round_trip(obj, tmp_path, name="x.pt"):
    path = tmp_path / name
    assert dn.save(obj, path) == path
    return dn.load(path)


def _model_and_optimizer(lib):
    dn.manual_seed(0)
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    if lib is dn:
        return ours, dn.optim.Adam(ours.parameters(), lr=0.01, amsgrad=True)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return theirs, torch.optim.Adam(theirs.parameters(), lr=0.01, amsgrad=True)


def test_a_checkpoint_dict_round_trips_like_torchs(tmp_path):
    def checkpoint(lib):
        model, _ = _model_and_optimizer(lib)  # the same weights in both libraries
        return {"epoch": 7, "loss": 0.25, "best": float("inf"), "note": "warm start",
                "model": model.state_dict(), "config": {"layers": [3, 4, 2], "act": "tanh",
                                                        "dropout": None, "flags": (True, 1)}}

    ours = _round_trip(checkpoint(dn), tmp_path)
    torch.save(checkpoint(torch), tmp_path / "t.pt")
    theirs = torch.load(tmp_path / "t.pt")
    assert _plain(ours) == _plain(theirs)


def test_an_optimizer_state_round_trips_and_training_resumes_bit_for_bit(tmp_path):
    def steps(model, opt, n):
        for i in range(n):
            x = dn.tensor(np.random.default_rng(i).standard_normal((8, 3)).astype(np.float32))
            opt.zero_grad()
            F.mse_loss(model(x), dn.zeros(8, 2)).backward()
            opt.step()

    model, opt = _model_and_optimizer(dn)
    sched = dn.optim.lr_scheduler.StepLR(opt, step_size=2)
    steps(model, opt, 3)
    dn.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    steps(model, opt, 4)

    state = dn.load(tmp_path / "ckpt.pt", map_location="cpu", weights_only=True)
    assert isinstance(state["optimizer"]["state"], dict) and 0 in state["optimizer"]["state"]
    assert state["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)  # a tuple again
    twin, opt2 = _model_and_optimizer(dn)
    sched2 = dn.optim.lr_scheduler.StepLR(opt2, step_size=2)
    twin.load_state_dict(state["model"])
    opt2.load_state_dict(state["optimizer"])
    sched2.load_state_dict(state["scheduler"])
    steps(twin, opt2, 4)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_torchs_optimizer_state_structure_is_kept(tmp_path):
    model, opt = _model_and_optimizer(dn)
    ref_model, ref = _model_and_optimizer(torch)
    for m, o, t in ((model, opt, dn.tensor), (ref_model, ref, torch.tensor)):
        (m(t(np.ones((2, 3), np.float32))) ** 2).sum().backward()
        o.step()
    ours = _round_trip(opt.state_dict(), tmp_path)
    torch.save(ref.state_dict(), tmp_path / "t.pt")
    theirs = torch.load(tmp_path / "t.pt")
    assert list(ours) == list(theirs) == ["state", "param_groups"]
    assert list(ours["state"]) == list(theirs["state"])
    assert set(ours["state"][0]) == set(theirs["state"][0])
    assert ours["param_groups"][0]["params"] == theirs["param_groups"][0]["params"]


@pytest.mark.parametrize("value", [
    OrderedDict(b=1, a=2), {3: "int keys", (1, "a"): "tuple keys", None: 0, 2.5: True},
    [1, [2, [3, {"x": (4, 5)}]]], (), {"__private": 1}, -0.0, float("-inf"), 2**70,
    complex(1, -2), dn.float64, dn.Size([2, 3]), "héllo", np.float32(1.5), np.int64(-3),
    np.arange(6).reshape(2, 3), np.zeros((0, 4)), np.array(5.0), np.array([True, False])],
    ids=str)
def test_plain_values_round_trip_with_their_types(tmp_path, value):
    loaded = _round_trip({"value": value}, tmp_path)["value"]
    assert type(loaded) is type(value)
    if isinstance(value, np.ndarray):
        assert loaded.dtype == value.dtype and loaded.shape == value.shape
        np.testing.assert_array_equal(loaded, value)
    else:
        assert loaded == value or (isinstance(value, float) and math.isnan(value))
    if isinstance(value, dict):
        assert list(loaded) == list(value)


def test_tensors_keep_dtype_parameter_and_requires_grad_and_sharing(tmp_path):
    weight = nn.Parameter(dn.randn(2, 3))
    frozen = nn.Parameter(dn.ones(2), requires_grad=False)
    leaf = dn.tensor([1.0, 2.0], dtype=dn.float64, requires_grad=True)
    ints = dn.tensor([1, 2, 3], dtype=dn.int32)
    loaded = _round_trip({"w": weight, "again": weight, "frozen": frozen, "leaf": leaf,
                          "ints": ints, "bools": dn.tensor([True])}, tmp_path)
    assert isinstance(loaded["w"], nn.Parameter) and loaded["w"].requires_grad
    assert loaded["again"] is loaded["w"]  # one tensor saved twice is one tensor loaded
    assert not loaded["frozen"].requires_grad and isinstance(loaded["frozen"], nn.Parameter)
    assert loaded["leaf"].requires_grad and loaded["leaf"].dtype == dn.float64
    assert loaded["ints"].dtype == dn.int32 and loaded["bools"].dtype == dn.bool
    shared = nn.Linear(3, 3)
    tied = nn.Sequential(shared, nn.ReLU(), shared)
    state = _round_trip(tied.state_dict(), tmp_path, "tied.pt")
    assert type(state) is OrderedDict and list(state) == list(tied.state_dict())
    state["0.weight"].array[0, 0] = 9.0  # the two names share one array, as in torch
    assert state["2.weight"].numpy()[0, 0] == 9.0
    loaded["w"].array[0, 0] = 1.0  # loaded tensors are writable
    with pytest.raises(TypeError, match="records gradients; save tensor.detach"):
        dn.save({"y": weight * 2}, tmp_path / "bad.pt")


def test_file_objects_metadata_and_the_options_torch_takes(tmp_path):
    buffer = io.BytesIO()
    assert dn.save({"a": dn.ones(3)}, buffer, pickle_protocol=4) is buffer
    buffer.seek(0)
    assert dn.load(buffer, weights_only=False)["a"].tolist() == [1.0, 1.0, 1.0]
    dn.save([1, 2], tmp_path / "m.pt", metadata={"run": "a"})
    value, info = dn.load(tmp_path / "m.pt", return_metadata=True)
    assert value == [1, 2] and info == {"run": "a"}
    for where in ("cpu", dn.device("cpu"), torch.device("cpu"), {"cuda:0": "cpu"},
                  lambda storage, location: storage):
        assert dn.load(tmp_path / "m.pt", map_location=where) == [1, 2]
    with pytest.raises(RuntimeError, match="CPU only; cannot put a loaded tensor on cuda"):
        dn.load(tmp_path / "m.pt", map_location="cuda")
    model = nn.Linear(2, 2)  # model files and weights files keep loading
    dn.save(model, tmp_path / "model.safetensors")
    assert isinstance(dn.load(tmp_path / "model.safetensors"), nn.Linear)
    dn.serialization.save_state_dict(model.state_dict(), tmp_path / "w.safetensors")
    weights = dn.load(tmp_path / "w.safetensors")
    assert list(weights) == ["weight", "bias"] and isinstance(weights["bias"], dn.Tensor)


class Custom:
    pass


@pytest.mark.parametrize("obj, message", [
    ({"model": nn.Linear(2, 2)}, r"deepnum.nn.linear.Linear \(at /model\).*model.state_dict"),
    ([dn.optim.SGD([nn.Parameter(dn.zeros(1))], lr=0.1)], r"SGD \(at /0\).*optimizer.state_dict"),
    ({"f": lambda x: x}, "function .at /f. without pickle"),
    ({"s": {1, 2}}, r"builtins.set \(at /s\)"),
    ({"c": Custom()}, "test_object_file.Custom"), ({"b": b"raw"}, "builtins.bytes"),
    ({"z": dn.tensor([1 + 2j])}, "cannot store the complex64 array at /z"),
    ({frozenset(): 1}, "a dict key of type frozenset"),
], ids=["module", "optimizer", "function", "set", "custom", "bytes", "complex", "key"])
def test_what_needs_pickle_is_refused_naming_it(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        dn.save(obj, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def _object_file(tmp_path, meta_edit=None, arrays_edit=None):
    from deepnum import file_format, object_file

    arrays, meta = object_file.encode({"w": dn.ones(2), "n": np.arange(3)})
    if meta_edit:
        meta_edit(meta)
    if arrays_edit:
        arrays_edit(arrays)
    path = tmp_path / "o.pt"
    file_format.write_file(path, arrays, meta, object_file.OBJECT_KIND)
    return path


@pytest.mark.parametrize("meta_edit, arrays_edit, message", [
    (lambda m: m["object"].update(w={"__tensor__": 5}), None, "refers to tensor 5"),
    (lambda m: m["tensors"][0].update(array="9:nope"), None, "refers to an array '9:nope'"),
    (None, lambda a: a.update({"7:extra": np.zeros(1)}), "arrays the saved object does not"),
    (lambda m: m["object"].update(w={"__eval__": "1"}), None, "saved object: field object"),
    (lambda m: m.update(extra=1), None, "saved object: field"),
    (lambda m: m["object"].update(k={"__dict__": [[[1], 2]], "ordered": False}), None,
     "field object"),
    (lambda m: m["object"].update(k={"__scalar__": next(iter(m["tensors"]))["array"]}), None,
     "a saved scalar has shape"),
])
def test_a_tampered_object_file_is_refused(tmp_path, meta_edit, arrays_edit, message):
    with pytest.raises(ModelFileError, match=message):
        dn.load(_object_file(tmp_path, meta_edit, arrays_edit))
