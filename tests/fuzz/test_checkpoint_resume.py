"""Resume from mutated checkpoints: every mutant resumes or raises a deepnum error; none may
crash the process, escape as another exception, or reach a compiled kernel with arrays that do
not fit it (the heap corruption of the memory-safety issue)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepnum as dn
import deepnum.nn as nn
from deepnum import jit
from deepnum.errors import DeepnumError
from deepnum.train import Trainer
from tests.fuzz import cases
from tests.fuzz.mutate import mutant
from tests.helpers import kernels_on

BATCH = 48  # the compiled conv and pool kernels run from batch 48


def _model():
    dn.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 10))


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((2 * BATCH, 1, 8, 8)).astype(np.float32),
            rng.integers(0, 10, 2 * BATCH))


def _trainer(optimizer):
    return Trainer(_model(), optimizer=optimizer, lr=0.01, momentum=0.9)


def _fit(trainer, path, epochs, resume):
    return trainer.fit(_data(), epochs=epochs, batch_size=BATCH, verbose=0, seed=0,
                       checkpoint=path, resume=resume)


@pytest.fixture(scope="module", params=["sgd", "adam"])
def checkpoint_bytes(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "c.safetensors"
    _fit(_trainer(request.param), path, 1, False)
    return request.param, path.read_bytes()


@pytest.mark.parametrize("use_kernels", [False, True], ids=["numpy", "kernels"])
@settings(max_examples=cases(40), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_mutant_resumes_or_raises_a_deepnum_error(checkpoint_bytes, use_kernels, data,
                                                        tmp_path_factory):
    if use_kernels and not jit.available():
        pytest.skip("Numba is not installed")
    optimizer, raw = checkpoint_bytes
    path = tmp_path_factory.mktemp("m") / "c.safetensors"
    path.write_bytes(data.draw(mutant(raw)))
    with kernels_on(use_kernels):
        try:
            _fit(_trainer(optimizer), path, 2, True)
        except DeepnumError:
            pass
