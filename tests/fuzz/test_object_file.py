"""Load mutated object files (what dn.save writes for a checkpoint dict: a state dict, an
optimizer's state, plain values): every mutant loads or raises a deepnum error, never another
exception or a crash; what loads can be saved again and fed to load_state_dict, which accepts it
or raises a deepnum error, and the optimizer then still steps."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum.errors import DeepnumError
from tests.fuzz import cases
from tests.fuzz.mutate import mutant


def _training():
    dn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 2))
    opt = dn.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    return model, opt


def _step(model, opt):
    x = dn.tensor(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32))
    opt.zero_grad()
    F.cross_entropy(model(x), dn.tensor([0, 1, 0, 1, 1, 0])).backward()
    opt.step()


@pytest.fixture(scope="module")
def object_bytes(tmp_path_factory):
    model, opt = _training()
    _step(model, opt)
    path = tmp_path_factory.mktemp("object") / "ckpt.pt"
    dn.save({"epoch": 3, "loss": 0.5, "best": float("inf"), "tags": ("a", 1),
             "model": model.state_dict(), "optimizer": opt.state_dict(),
             "history": {1: [0.9, 0.7], 2: [0.6]}}, path)
    return path.read_bytes()


@settings(max_examples=cases(80), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_mutant_loads_or_raises_a_deepnum_error(object_bytes, data, tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "ckpt.pt"
    path.write_bytes(data.draw(mutant(object_bytes)))
    try:
        state = dn.load(path)
    except DeepnumError:
        return
    dn.save(state, path)  # what loads is plain data and tensors: it saves again
    model, opt = _training()
    if not isinstance(state, dict):
        return
    try:
        model.load_state_dict(state.get("model"))
    except (DeepnumError, TypeError):  # TypeError: not a dict, as torch's
        pass
    try:
        opt.load_state_dict(state.get("optimizer"))
    except ValueError:  # the optimizer's checks (a mutated buffer, group, count)
        pass
    _step(model, opt)  # whatever was accepted, training goes on
