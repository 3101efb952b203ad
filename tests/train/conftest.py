import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """These tests multiply small matrices: extra BLAS threads only wait (and on a busy CI machine
    slow them down many times over)."""
    from deepnum.train.run import set_threads

    set_threads(1)
    yield
