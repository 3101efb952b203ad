import math
import os

import numpy as np
import pytest

import deepnum as dn
from deepnum.errors import ModelFileError
from deepnum.train import load_checkpoint, save_checkpoint


def _state(rng):
    return {"model": {"0.weight": rng.standard_normal((3, 2)).astype(np.float32)},
            "optimizer": {"state": {0: {"momentum_buffer": np.ones(3), "step": 4}},
                          "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]},
            "rng": dn.random.get_state(), "history": {"loss": [0.5, math.nan, math.inf]},
            "epoch": 2, "nothing": None}


def test_round_trip_keeps_arrays_int_keys_big_ints_and_non_finite_floats(tmp_path, rng):
    state = _state(rng)
    save_checkpoint(tmp_path / "c.safetensors", state)
    back = load_checkpoint(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(back["model"]["0.weight"], state["model"]["0.weight"])
    assert back["model"]["0.weight"].dtype == np.float32
    assert list(back["optimizer"]["state"]) == [0]  # int key survives JSON
    np.testing.assert_array_equal(back["optimizer"]["state"][0]["momentum_buffer"], np.ones(3))
    assert back["rng"] == state["rng"]  # 128-bit integers intact
    assert back["history"]["loss"][0] == 0.5 and math.isnan(back["history"]["loss"][1])
    assert back["history"]["loss"][2] == math.inf
    assert back["optimizer"]["param_groups"][0]["betas"] == [0.9, 0.999]
    assert back["epoch"] == 2 and back["nothing"] is None


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, rng, monkeypatch):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _state(rng))
    good = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"epoch": 3})
    assert path.read_bytes() == good  # the good checkpoint is still in place
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]


@pytest.mark.parametrize("damage", ["truncate", "flip_weight", "flip_header", "empty", "garbage"])
def test_damaged_checkpoint_raises_model_file_error_naming_the_file(tmp_path, rng, damage):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _state(rng))
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) - 7]
    elif damage == "flip_weight":
        raw[-3] ^= 0xFF
    elif damage == "flip_header":
        raw[20] ^= 0xFF
    elif damage == "empty":
        raw = b""
    else:
        raw = b"\x89PNG\r\n\x1a\n" + bytes(100)
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match=str(path.name)):
        load_checkpoint(path)


def test_a_model_file_is_not_a_checkpoint(tmp_path):
    dn.save(dn.nn.Linear(2, 1), tmp_path / "m.safetensors")
    with pytest.raises(ModelFileError, match="deepnum.model file; expected a deepnum.checkpoint"):
        load_checkpoint(tmp_path / "m.safetensors")
    with pytest.raises(ModelFileError, match="no such file"):
        load_checkpoint(tmp_path / "missing.safetensors")


def _reseal_with_half_length_float64_momentum(path):
    """The memory-safety issue's file: one momentum buffer stored as float64 with half the
    element count (the same bytes), and the checksum recomputed."""
    from tests.fuzz.mutate import reseal, split

    tensors, meta = split(path.read_bytes())
    name = next(k for k in tensors if "momentum_buffer" in k and len(tensors[k]["shape"]) > 1)
    entry = tensors[name]
    entry["dtype"], entry["shape"] = "F64", [len(entry["data"]) // 8]
    path.write_bytes(reseal(tensors, meta))
    return name


def test_a_resealed_half_length_momentum_buffer_is_refused_and_the_process_lives_on(
        tmp_path, kernels):
    import deepnum.nn as nn
    from deepnum.train import Trainer

    rng = np.random.default_rng(0)
    data = (rng.standard_normal((96, 20)).astype(np.float32), rng.integers(0, 3, 96))

    def trainer():
        dn.manual_seed(0)
        return Trainer(nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3)),
                       optimizer="sgd", lr=0.05, momentum=0.9)

    path = tmp_path / "c.safetensors"
    trainer().fit(data, epochs=1, batch_size=48, verbose=0, checkpoint=path)
    _reseal_with_half_length_float64_momentum(path)
    victim = trainer()
    weights = {k: v.clone() for k, v in victim.model.state_dict().items()}
    with pytest.raises(ModelFileError, match=r"c.safetensors: .*momentum_buffer of parameter 0 "
                                             r"has shape \(640,\), but the parameter has shape "
                                             r"\(64, 20\)"):
        victim.fit(data, epochs=3, batch_size=48, verbose=0, checkpoint=path, resume=True)
    for key, value in victim.model.state_dict().items():  # left as it was
        np.testing.assert_array_equal(value, weights[key])
    assert victim.optimizer.state == {} and victim.epoch == 0
    for _ in range(5):  # the heap is intact: training and allocating go on
        trainer().fit(data, epochs=2, batch_size=48, verbose=0)


def test_the_cli_refuses_the_resealed_checkpoint_with_exit_code_2(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "run"
    command = [sys.executable, "-m", "deepnum.cli", "train", "--dataset", "xor", "--hidden", "16",
               "--epochs", "2", "--batch-size", "48", "--out", str(out), "--verbose", "0"]
    subprocess.run(command, check=True, capture_output=True)
    _reseal_with_half_length_float64_momentum(out / "checkpoint.safetensors")
    result = subprocess.run(command[:-6] + ["--epochs", "4", "--out", str(out), "--resume",
                                            "--verbose", "0"], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "momentum_buffer" in result.stderr, result.stderr
