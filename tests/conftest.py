import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import deepnum as dn
from deepnum import jit
from tests.helpers import kernels_on

# pytest -n 2 runs one worker per core: BLAS threads beyond that only fight each other (a small
# training step measured 75 ms with default threads under contention, 5.6 ms with one).
threadpool_limits(1)
jit.set_num_threads(1)  # the same for the compiled kernels' pool (results do not depend on it)


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state, so failures reproduce."""
    dn.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 - third-party code may still use the legacy global
    torch = sys.modules.get("torch")  # PyTorch twins built with torch's own init need it too
    if torch is not None:
        torch.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(params=["reference", "numpy", "jit"])
def kernels(request):
    """Run the test on the reference ops (speed wing off), on the speed wing's NumPy path, and
    with its compiled kernels (Numba)."""
    if request.param == "jit" and not jit.available():
        pytest.skip("Numba is not installed")
    with kernels_on({"reference": "reference", "numpy": False, "jit": True}[request.param]):
        yield request.param


def pytest_addoption(parser):
    parser.addoption("--fuzz-cases", type=int, default=None,
                     help="examples per fuzz test (tests/fuzz); CI runs a few dozen, "
                          "`--fuzz-cases 20000` is the long run")


def pytest_configure(config):
    # The fuzz tests read this through tests.fuzz.CASES (hypothesis settings are fixed when a
    # test module is imported, after this hook has run).
    import tests.fuzz as fuzz

    fuzz.CASES = config.getoption("--fuzz-cases")
