import json
from collections import OrderedDict

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
from deepnum import file_format, serialization
from deepnum.errors import ModelFileError
from deepnum.models import build


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)
        assert sa[key].dtype == sb[key].dtype


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2),
                           nn.Linear(32, 10)), (1, 8, 8)),
    (lambda: nn.Sequential(OrderedDict(body=nn.Sequential(nn.Linear(4, 3), nn.Tanh()),
                                       head=nn.Linear(3, 2, bias=False))), (4,)),
    (lambda: build("perceptron", input_shape=(1, 8, 8), num_classes=10), (1, 8, 8)),
    (lambda: build("mlp", input_shape=(5,), num_classes=3, hidden=(7,), activation="tanh"), (5,)),
    (lambda: nn.Sequential(nn.Linear(3, 2)).double(), (3,)),
])
def test_round_trip_rebuilds_the_model_without_user_code(tmp_path, make, shape):
    model = make()
    path = dn.save(model, tmp_path / "model.safetensors", metadata={"dataset": "digits"})
    loaded, info = dn.load(path, return_metadata=True)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    _same_weights(model, loaded)
    assert info == {"dataset": "digits"}
    x = dn.randn(2, *shape).astype(next(model.parameters()).dtype)
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(model(x).data, loaded(x).data)


def test_load_leaves_the_random_stream_alone(tmp_path):
    dn.save(nn.Linear(4, 4), tmp_path / "m.safetensors")
    before = dn.random.get_state()
    dn.load(tmp_path / "m.safetensors")
    assert dn.random.get_state() == before


def test_load_into_an_existing_model(tmp_path):
    model = nn.Linear(3, 2)
    dn.save(model, tmp_path / "m.safetensors")
    other = nn.Linear(3, 2)
    assert dn.load(tmp_path / "m.safetensors", model=other) is other
    _same_weights(model, other)
    with pytest.raises(ModelFileError, match="do not fit the model"):
        dn.load(tmp_path / "m.safetensors", model=nn.Linear(3, 3, bias=False))


def test_user_classes_cannot_be_saved_as_architecture(tmp_path):
    class Mine(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    with pytest.raises(ModelFileError, match="only deepnum's own layers"):
        dn.save(Mine(), tmp_path / "m.safetensors")
    serialization.save_state_dict(Mine().state_dict(), tmp_path / "w.safetensors")
    assert set(serialization.load_state_dict(tmp_path / "w.safetensors")) == {"fc.weight",
                                                                              "fc.bias"}


def test_a_model_changed_after_construction_is_refused():
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(dn.zeros(3, 2))
    with pytest.raises(ModelFileError, match="changed after construction"):
        dn.save(nn.Sequential(layer), "/nonexistent/never-written.safetensors")


def test_an_edited_container_is_written_as_it_is_now(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2))
    model.append(nn.Linear(2, 1))
    model.insert(1, nn.Tanh())
    twin = dn.load(dn.save(model, tmp_path / "m.safetensors"))
    assert repr(twin) == repr(model)


def _tampered(tmp_path, architecture):
    path = tmp_path / "evil.safetensors"
    serialization.write_file(path, {"weight": np.zeros((2, 2), np.float32)},
                             {"architecture": architecture, "user": {}},
                             serialization.MODEL_KIND)
    return path


@pytest.mark.parametrize("architecture, message", [
    ({"class": "Popen", "args": [{"list": ["touch", "/tmp/deepnum-pwned"]}], "kwargs": {}},
     "class 'Popen'"),
    ({"class": "system", "args": ["touch /tmp/deepnum-pwned"], "kwargs": {}}, "class 'system'"),
    ({"class": "Linear", "args": [10**9, 10**9], "kwargs": {}},
     "beyond the size of all the file.s weights"),
    ({"class": "Linear", "args": [{"eval": "1+1"}, 2], "kwargs": {}}, "unknown architecture"),
    ({"class": "Linear", "args": [2], "kwargs": {"bogus": 1}}, "cannot be rebuilt"),
    ("not a dict", "malformed module"),
])
def test_tampered_architecture_is_refused_and_nothing_runs(tmp_path, architecture, message):
    with pytest.raises(ModelFileError, match=message):
        dn.load(_tampered(tmp_path, architecture))
    import os

    assert not os.path.exists("/tmp/deepnum-pwned")


@pytest.mark.parametrize("damage", ["truncate", "flip_weight", "header_length", "not_safetensors",
                                    "other_safetensors", "pickle", "zip"])
def test_bad_files_give_model_file_error_naming_the_file(tmp_path, damage):
    path = tmp_path / "model.safetensors"
    dn.save(nn.Linear(8, 4), path)
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(bytes(raw[:len(raw) // 2]))
    elif damage == "flip_weight":
        raw[-5] ^= 0x40
        path.write_bytes(bytes(raw))
    elif damage == "header_length":
        raw[:8] = (10**12).to_bytes(8, "little")
        path.write_bytes(bytes(raw))
    elif damage == "not_safetensors":
        path.write_text("just some text, not a model")
    elif damage == "other_safetensors":
        from safetensors.numpy import save_file

        save_file({"w": np.zeros(3, np.float32)}, str(path))
    elif damage == "pickle":
        path.write_bytes(b"\x80\x02}q\x00.")  # what torch.save wrote before zip files
    else:
        path.write_bytes(b"PK\x03\x04" + bytes(60))  # torch.save's zip file
    with pytest.raises(ModelFileError, match="model.safetensors"):
        dn.load(path)
    if damage in ("pickle", "zip"):
        with pytest.raises(ModelFileError, match="a PyTorch .pickle. file; deepnum never "
                                                 "unpickles"):
            dn.load(path)


def test_a_checkpoint_loads_with_dn_load_and_a_model_file_is_not_a_checkpoint(tmp_path):
    from deepnum.train import load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path / "c.safetensors", {"epoch": 1, "w": np.ones(2)})
    state = dn.load(tmp_path / "c.safetensors")
    assert state["epoch"] == 1 and state["w"].tolist() == [1.0, 1.0]
    dn.save(nn.Linear(2, 2), tmp_path / "m.safetensors")
    with pytest.raises(ModelFileError, match="expected a deepnum.checkpoint file"):
        load_checkpoint(tmp_path / "m.safetensors")


def test_architecture_json_is_readable(tmp_path):
    path = dn.save(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), tmp_path / "m.safetensors")
    size = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8:8 + size])["__metadata__"]
    architecture = json.loads(header["json"])["architecture"]
    assert architecture["class"] == "Sequential"
    assert architecture["args"][0] == {"module": {"class": "Linear", "args": [2, 3],
                                                  "kwargs": {}}}


def test_a_model_with_batchnorm_round_trips_its_0d_buffer(tmp_path):
    # num_batches_tracked is a 0-d buffer: it must come back 0-d, not as shape (1,)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    model(dn.randn(4, 1, 6, 6))
    dn.save(model, tmp_path / "bn.safetensors")
    twin = dn.load(tmp_path / "bn.safetensors")
    for key, value in model.state_dict().items():
        assert twin.state_dict()[key].shape == value.shape
        np.testing.assert_array_equal(twin.state_dict()[key], value)


def _header_only_file(tmp_path, architecture):
    """A few hundred bytes declaring ``architecture`` but holding one tiny tensor."""
    return _tampered(tmp_path, architecture)


@pytest.mark.parametrize("architecture", [
    {"class": "Sequential", "args": [{"module": {"class": "Linear", "args": [4096, 4096],
                                                 "kwargs": {}}}] * 24, "kwargs": {}},
    {"class": "Conv2d", "args": [4096, 4096, 64], "kwargs": {}},
], ids=["24-linear-4096", "conv-4096-64"])
def test_a_tiny_file_cannot_make_deepnum_build_a_big_model(tmp_path, architecture):
    import tracemalloc

    path = _header_only_file(tmp_path, architecture)
    tracemalloc.start()
    with pytest.raises(ModelFileError, match="more weights than the file's 4 numbers"):
        dn.load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MiB allocated while refusing a tiny file"


def test_nesting_deeper_than_the_limit_and_unknown_dtypes_are_model_file_errors(tmp_path):
    from tests.fuzz.mutate import reseal, split

    good = tmp_path / "good.safetensors"
    dn.save(nn.Linear(2, 2), good)
    tensors, meta = split(good.read_bytes())
    deep = dict(meta, json='{"architecture": ' + "[" * 20000 + "]" * 20000 + "}")
    (tmp_path / "deep.safetensors").write_bytes(reseal(tensors, deep))
    with pytest.raises(ModelFileError, match="deep.safetensors: JSON nested deeper than 64"):
        dn.load(tmp_path / "deep.safetensors")
    tensors["weight"]["dtype"] = "BF16"
    tensors["weight"]["shape"] = [8]
    (tmp_path / "bf16.safetensors").write_bytes(reseal(tensors, meta))
    with pytest.raises(ModelFileError, match="'weight' has dtype 'BF16', which deepnum does not"):
        dn.load(tmp_path / "bf16.safetensors")


def test_a_tampered_padding_is_refused_before_it_costs_gigabytes(tmp_path):
    """Found by the 20,000-case model-file fuzz: a resealed Conv2d(1, 4, 3) with padding 1059
    loaded, and a forward pass on 48 images of 8 x 8 then asked for a 15 GB im2col matrix (the
    fuzzing process was killed for memory). The padding now has to fit its kernel's reach."""
    from tests.fuzz.mutate import reseal, split

    good = tmp_path / "good.safetensors"
    dn.save(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2, padding=1)), good)
    tensors, meta = split(good.read_bytes())
    text = meta["json"].replace('"padding": 1', '"padding": 1059', 1)
    assert text != meta["json"]
    (tmp_path / "pad.safetensors").write_bytes(reseal(tensors, dict(meta, json=text)))
    with pytest.raises(ModelFileError, match=r"pad.safetensors: layer '0' \(Conv2d\) pads by "
                                             r"\(1059, 1059\), more than its kernel reaches"):
        dn.load(tmp_path / "pad.safetensors")
    # what real models pad by still loads: the zoo's stems, a 1x1 convolution padded by 1
    for model in [build("resnet18", num_classes=10), build("googlenet", num_classes=10),
                  nn.Conv2d(3, 2, 1, padding=1), nn.Conv2d(1, 1, 3, padding=64)]:
        dn.save(model, tmp_path / "real.safetensors")
        dn.load(tmp_path / "real.safetensors")


def test_files_of_format_version_1_still_load(tmp_path):
    model = nn.Linear(3, 2)
    arrays = {k: np.asarray(v) for k, v in model.state_dict().items()}
    text = json.dumps({"architecture": serialization.architecture_of(model), "user": {}})
    header = {"format": serialization.MODEL_KIND, "version": "1",
              "sha256": file_format._digest(arrays), "json": text}
    from safetensors.numpy import save as to_bytes

    (tmp_path / "v1.safetensors").write_bytes(to_bytes(arrays, metadata=header))
    loaded = dn.load(tmp_path / "v1.safetensors")
    np.testing.assert_array_equal(loaded.weight.numpy(), model.weight.numpy())
