"""Shared fixtures: every data test runs with an empty, private home and no data environment."""

from pathlib import Path

import pytest

MNIST_DIR = Path("/work/shared/data/mnist")  # the official MNIST test files, read-only


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Point HOME at an empty folder so no test reads or writes the user's real cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DEEPNUM_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return home


@pytest.fixture
def mnist_dir():
    """The directory with the real MNIST test split (skips when this machine lacks it)."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the MNIST test files are not in {MNIST_DIR}")
    return MNIST_DIR
