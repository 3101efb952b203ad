"""Load mutated model files and train the result a little: every mutant loads and runs or
raises a deepnum error, nothing is built bigger than the file's tensors, and no compiled kernel
is reached with arrays that do not fit it."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum import jit
from deepnum.errors import DeepnumError
from tests.fuzz import cases
from tests.fuzz._bounds import PeakBound
from tests.fuzz.mutate import mutant
from tests.helpers import kernels_on


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    dn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(64, 10))
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    dn.save(model, path)
    return path.read_bytes()


def _train_a_little(model):
    rng = np.random.default_rng(0)
    x = dn.tensor(rng.standard_normal((48, 1, 8, 8)).astype(np.float32))
    y = rng.integers(0, 10, 48)
    opt = dn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    model(x)


# The model is a few KB and its forward pass a few MB: a case that takes more is a mutant that
# asks for memory (found at case 14,006 of 20,000: a padding of 1059, a 15 GB im2col matrix).
# One bound a test run, made at its first case (ru_maxrss only grows: earlier tests are in it).
_bounds: dict = {}


@pytest.mark.parametrize("use_kernels", [False, True], ids=["numpy", "kernels"])
@settings(max_examples=cases(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_mutant_loads_and_runs_or_raises_a_deepnum_error(model_bytes, use_kernels, data,
                                                              tmp_path_factory):
    if use_kernels and not jit.available():
        pytest.skip("Numba is not installed")
    path = tmp_path_factory.mktemp("m") / "m.safetensors"
    path.write_bytes(data.draw(mutant(model_bytes)))
    with kernels_on(use_kernels):
        try:
            model = dn.load(path)
        except DeepnumError:
            return
        try:
            _train_a_little(model)
        except DeepnumError:
            pass
    if use_kernels not in _bounds:
        _bounds[use_kernels] = PeakBound(512 << 20)
    _bounds[use_kernels].check(f"after loading and training {path}")
