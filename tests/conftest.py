import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import deepnum as dn

# pytest -n 2 runs one worker per core: BLAS threads beyond that only fight each other (a small
# training step measured 75 ms with default threads under contention, 5.6 ms with one).
threadpool_limits(1)


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state, so failures reproduce."""
    dn.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 - third-party code may still use the legacy global
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
