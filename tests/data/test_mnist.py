import gzip
import io
import urllib.error
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from deepnum.data import download, mnist
from deepnum.data.idx import write_idx
from deepnum.data.mnist import FASHION_MNIST, MNIST, load_fashion_mnist, load_mnist
from deepnum.errors import DataError

TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def _link_test_split(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in TEST_FILES:
        (target / name).symlink_to(source / name)
    return target


def test_loads_the_real_test_split(mnist_dir):
    images, labels = load_mnist("test", data_dir=mnist_dir)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels[:3].tolist() == [7, 2, 1]
    x, _ = load_mnist("test", data_dir=mnist_dir, normalize=True)
    assert x.dtype == np.float32 and x.min() == 0 and x.max() == 1
    np.testing.assert_allclose(x * 255, images, atol=1e-4)


def test_deepnum_data_env_and_its_subfolder(mnist_dir, tmp_path, monkeypatch):
    _link_test_split(mnist_dir, tmp_path / "mnist")
    monkeypatch.setenv("DEEPNUM_DATA", str(tmp_path))
    assert load_mnist("test")[0].shape == (10000, 28, 28)


def test_user_cache_is_searched(mnist_dir, isolated_home):
    _link_test_split(mnist_dir, isolated_home / ".cache" / "deepnum" / "mnist")
    assert len(load_mnist("test")[1]) == 10000


def test_ungzipped_files_are_accepted(mnist_dir, tmp_path):
    for name in TEST_FILES:
        raw = gzip.decompress((mnist_dir / name).read_bytes())
        (tmp_path / name.removesuffix(".gz")).write_bytes(raw)
    assert load_mnist("test", data_dir=tmp_path)[0].shape == (10000, 28, 28)


def test_nothing_found_lists_every_place_and_the_fix(tmp_path, monkeypatch, isolated_home):
    monkeypatch.setenv("DEEPNUM_DATA", str(tmp_path / "env"))
    with pytest.raises(DataError) as info:
        load_mnist("train", data_dir=tmp_path / "given")
    message = str(info.value)
    for place in ("given", "given/mnist", "env", "env/mnist", ".cache/deepnum/mnist"):
        assert f"{tmp_path if 'cache' not in place else isolated_home}/{place}" in message
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "load_mnist(split='train', download=True)" in message and "--download" in message


def test_fashion_mnist_message_also_names_the_debian_package(tmp_path):
    dataset = replace(FASHION_MNIST, system_dirs=(tmp_path / "nd",))  # as if not installed
    with pytest.raises(DataError) as info:
        mnist.load_idx_images(dataset, "test", data_dir=tmp_path)
    message = str(info.value)
    assert "Fashion-MNIST not found" in message and f"{tmp_path}/nd" in message
    assert "apt-get install -y dataset-fashion-mnist" in message
    assert "load_fashion_mnist(split='test', download=True)" in message


def test_one_missing_split_is_reported_as_such(mnist_dir):
    with pytest.raises(DataError, match="the train split is missing") as info:
        load_mnist("train", data_dir=mnist_dir)
    assert f"the test split is present in {mnist_dir}" in str(info.value)


def test_half_a_split_is_pointed_out(mnist_dir, tmp_path):
    (tmp_path / TEST_FILES[0]).symlink_to(mnist_dir / TEST_FILES[0])
    with pytest.raises(DataError, match="has t10k-images-idx3-ubyte.gz but not t10k-labels"):
        load_mnist("test", data_dir=tmp_path)


def test_swapped_files_are_caught(mnist_dir, tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").symlink_to(mnist_dir / TEST_FILES[1])
    (tmp_path / "t10k-labels-idx1-ubyte.gz").symlink_to(mnist_dir / TEST_FILES[0])
    with pytest.raises(DataError, match="mislabelled"):
        load_mnist("test", data_dir=tmp_path)


def test_images_and_labels_must_agree(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="5 images but .* 4 labels"):
        load_mnist("test", data_dir=tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(5, 10, np.uint8))
    with pytest.raises(DataError, match="0..9"):
        load_mnist("test", data_dir=tmp_path)


def test_unknown_split():
    with pytest.raises(DataError, match="unknown split 'validation'"):
        load_mnist("validation")


def test_mnist_files_are_never_read_as_fashion_mnist(mnist_dir, tmp_path):
    dataset = replace(FASHION_MNIST, system_dirs=())
    with pytest.raises(DataError, match="skipped .* it is MNIST's file"):
        mnist.load_idx_images(dataset, "test", data_dir=mnist_dir)


# --- Fashion-MNIST from the Debian package (skipped where it is not installed) ---------------


@pytest.fixture
def debian():
    if not (DEBIAN / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("dataset-fashion-mnist is not installed")
    return DEBIAN


def test_fashion_mnist_from_the_debian_package(debian):
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10  # Fashion-MNIST is balanced
    assert FASHION_MNIST.class_names[labels[0]] == "Ankle boot"


def test_debian_files_are_the_official_ones_minus_the_gzip_name(debian):
    # What the comment in mnist.py claims: Debian dropped the FNAME field from each gzip header.
    for images, labels in FASHION_MNIST.files.values():
        for file in (images, labels):
            data = (debian / f"{file.name}.gz").read_bytes()
            assert data[3] & 0x08 == 0  # no FNAME flag
            assert len(data) + len(file.name) + 1 == file.size


# --- download, against local files only -------------------------------------------------------


class FakeServer:
    """Stands in for urllib's urlopen: serves files from a folder, records every URL asked for."""

    def __init__(self, folder, broken_hosts=(), tamper=None):
        self.folder, self.broken_hosts, self.tamper, self.urls = folder, broken_hosts, tamper, []

    def __call__(self, url, timeout=None):
        self.urls.append(url)
        name = url.rsplit("/", 1)[1]
        if any(host in url for host in self.broken_hosts) or not (self.folder / name).is_file():
            raise urllib.error.URLError("connection refused")
        data = (self.folder / name).read_bytes()
        return io.BytesIO(self.tamper(data) if self.tamper else data)


def test_download_fetches_verifies_and_loads(mnist_dir, isolated_home, monkeypatch):
    server = FakeServer(mnist_dir)
    monkeypatch.setattr(download, "urlopen", server)
    images, labels = load_mnist("test", download=True)
    assert images.shape == (10000, 28, 28)
    cache = isolated_home / ".cache" / "deepnum" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(TEST_FILES)  # no temp files left
    assert server.urls[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/" + TEST_FILES[0]
    server.urls.clear()
    load_mnist("test", download=True)  # already there: nothing is fetched again
    assert server.urls == []


def test_download_falls_back_to_the_second_mirror(mnist_dir, tmp_path, monkeypatch):
    server = FakeServer(mnist_dir, broken_hosts=("ossci-datasets",))
    monkeypatch.setattr(download, "urlopen", server)
    load_mnist("test", data_dir=tmp_path, download=True)  # downloads into data_dir
    assert (tmp_path / TEST_FILES[1]).is_file()
    assert "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz" in server.urls


def test_tampered_download_is_rejected_and_leaves_nothing(mnist_dir, tmp_path, monkeypatch):
    flip_one_byte = lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:]  # noqa: E731
    monkeypatch.setattr(download, "urlopen", FakeServer(mnist_dir, tamper=flip_one_byte))
    with pytest.raises(DataError, match="MD5") as info:
        load_mnist("test", data_dir=tmp_path, download=True)
    assert "ossci-datasets" in str(info.value) and "yann.lecun.com" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "tamper, problem", [(lambda d: d[:-1], "got 1648876 bytes"), (lambda d: d + b"x", "more than")]
)
def test_wrong_size_leaves_nothing(mnist_dir, tmp_path, monkeypatch, tamper, problem):
    monkeypatch.setattr(download, "urlopen", FakeServer(mnist_dir, tamper=tamper))
    with pytest.raises(DataError, match=problem):
        load_mnist("test", data_dir=tmp_path / "dl", download=True)
    assert list((tmp_path / "dl").iterdir()) == []


def test_failed_download_names_every_url(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "urlopen", FakeServer(tmp_path / "empty"))
    with pytest.raises(DataError, match="could not download train-images-idx3-ubyte.gz") as info:
        load_mnist("train", data_dir=tmp_path / "dest", download=True)
    assert str(info.value).count("connection refused") == 2


def test_fetch_checks_md5_directly(mnist_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "urlopen", FakeServer(mnist_dir))
    dest = tmp_path / TEST_FILES[1]
    with pytest.raises(DataError, match="does not match"):
        download.fetch(["x/" + TEST_FILES[1]], dest, size=MNIST.files["test"][1].size, md5="0" * 32)
    assert list(tmp_path.iterdir()) == []
    download.fetch(["x/" + TEST_FILES[1]], dest, *_size_md5(MNIST.files["test"][1]))
    assert dest.read_bytes() == (mnist_dir / TEST_FILES[1]).read_bytes()


def _size_md5(file):
    return file.size, file.md5
