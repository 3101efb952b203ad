"""MNIST and Fashion-MNIST: find the official IDX files on disk, or download and verify them.

Both data sets are four IDX files, a train and a test split of images (N, 28, 28) and labels (N,).
A split is looked for, in order, in

1. the ``data_dir`` argument (and its ``mnist/`` or ``fashion-mnist/`` subfolder),
2. ``$DEEPNUM_DATA`` (and the same subfolder),
3. the user cache ``~/.cache/deepnum/<name>`` (``$XDG_CACHE_HOME`` is honoured),
4. for Fashion-MNIST, the Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets``).

A directory holds a split when it has both its images and labels file, gzipped or not. Both data
sets use the same file names, so a file with the exact size of the *other* data set's official
download is skipped (MNIST files are never read as Fashion-MNIST). When nothing is found, the error
lists every place searched and the one command that fixes it.

>>> images, labels = load_mnist("test", normalize=True)
>>> images.shape, images.dtype, labels[:3]   # ((10000, 28, 28), float32, [7 2 1])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepnum.data.download import fetch
from deepnum.data.idx import read_idx
from deepnum.errors import DataError

SPLITS = ("train", "test")


@dataclass(frozen=True)
class IdxFile:
    """One official file: its name without ``.gz``, and the size and MD5 of the ``.gz`` download."""

    name: str
    size: int
    md5: str


@dataclass(frozen=True)
class IdxImageSet:
    """Everything needed to find, download and describe one MNIST-style data set."""

    name: str  # registry name and cache folder, e.g. "fashion-mnist"
    title: str  # for messages, e.g. "Fashion-MNIST"
    files: dict  # split -> (images IdxFile, labels IdxFile)
    mirrors: tuple[str, ...]  # base URLs, tried in order
    system_dirs: tuple[Path, ...]  # read-only installs, searched last
    function: str  # the loader's public name, for the fix-it hint
    class_names: tuple[str, ...]
    install_hint: str | None = None


MNIST = IdxImageSet(
    name="mnist",
    title="MNIST",
    files={
        "train": (
            IdxFile("train-images-idx3-ubyte", 9_912_422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            IdxFile("train-labels-idx1-ubyte", 28_881, "d53e105ee54ea40749a09fcbcd1e9432"),
        ),
        "test": (
            IdxFile("t10k-images-idx3-ubyte", 1_648_877, "9fb629c4189551a2d022fa330f9573f3"),
            IdxFile("t10k-labels-idx1-ubyte", 4_542, "ec29112dd5afa0611ce80d1b7f02629c"),
        ),
    },
    # yann.lecun.com often refuses downloads now; PyTorch's S3 copy holds the same files.
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    system_dirs=(),
    function="load_mnist",
    class_names=tuple(str(digit) for digit in range(10)),
)

# MD5s are those published in the Fashion-MNIST README. The sizes are inferred, not copied: Debian's
# dataset-fashion-mnist 0.0~git20200523 ships the same files re-gzipped without the original-name
# field (a 2020 mtime, no FNAME), so its .gz files are 24 (train) and 23 (t10k) bytes shorter and
# their MD5s differ (train-images cf8536b0..., t10k-labels 0d30e22e...). Adding back the dropped
# name ("train-images-idx3-ubyte" + NUL = 24 bytes) gives 26,421,880 / 29,515 / 4,422,102 / 5,148,
# the sizes torchvision reports when it downloads these files. The decompressed Debian files are
# complete and valid (60,000 and 10,000 images, 6,000 and 1,000 of each class).
FASHION_MNIST = IdxImageSet(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files={
        "train": (
            IdxFile("train-images-idx3-ubyte", 26_421_880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            IdxFile("train-labels-idx1-ubyte", 29_515, "25c81989df183df01b3e8a0aad5dffbe"),
        ),
        "test": (
            IdxFile("t10k-images-idx3-ubyte", 4_422_102, "bef4ecab320f06d8554ea6380940ec79"),
            IdxFile("t10k-labels-idx1-ubyte", 5_148, "bb300cfdad3c16e7a12a480ee83cd310"),
        ),
    },
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
    function="load_fashion_mnist",
    class_names=(
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    install_hint="apt-get install -y dataset-fashion-mnist",
)


def load_mnist(split="train", data_dir=None, download=False, normalize=False):
    """The official MNIST digits: ``(images, labels)``, uint8 (N, 28, 28) and int64 (N,).

    ``normalize=True`` returns float32 images in [0, 1]. ``download=True`` fetches missing files
    into ``data_dir`` (or the user cache) and checks their size and MD5.

    >>> images, labels = load_mnist("test")
    >>> images.shape, labels.shape   # ((10000, 28, 28), (10000,))
    """
    return load_idx_images(MNIST, split, data_dir, download, normalize)


def load_fashion_mnist(split="train", data_dir=None, download=False, normalize=False):
    """Zalando's Fashion-MNIST, the same shapes and options as :func:`load_mnist`.

    >>> images, labels = load_fashion_mnist("test", normalize=True)
    >>> FASHION_MNIST.class_names[labels[0]]   # 'Ankle boot'
    """
    return load_idx_images(FASHION_MNIST, split, data_dir, download, normalize)


def load_idx_images(dataset: IdxImageSet, split, data_dir=None, download=False, normalize=False):
    """Find (or download) one split of ``dataset``, read it and check that it is consistent.

    >>> images, labels = load_idx_images(FASHION_MNIST, "test", normalize=True)
    >>> images.dtype, labels.dtype   # (float32, int64)
    """
    if split not in SPLITS:
        raise DataError(f"{dataset.title}: unknown split {split!r}; use 'train' or 'test'")
    found = find_split(dataset, split, data_dir)
    if found is None and download:
        found = _download_split(dataset, split, data_dir)
    if found is None:
        raise DataError(_not_found_message(dataset, split, data_dir))
    images_path, labels_path = found
    images = read_idx(images_path, expected_shape=(None, 28, 28))
    labels = read_idx(labels_path, expected_shape=(None,))
    if len(images) != len(labels):
        raise DataError(
            f"{dataset.title} {split}: {images_path} has {len(images)} images but "
            f"{labels_path} has {len(labels)} labels"
        )
    if images.dtype != np.uint8 or labels.dtype.kind not in "iu":
        raise DataError(
            f"{dataset.title} {split}: expected uint8 images and integer labels, got "
            f"{images.dtype} ({images_path.name}) and {labels.dtype} ({labels_path.name})"
        )
    num_classes = len(dataset.class_names)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(f"{labels_path}: labels must be 0..{num_classes - 1}, got {labels.max()}")
    labels = labels.astype(np.int64)
    if normalize:
        return images.astype(np.float32) / np.float32(255), labels
    return images, labels


def search_dirs(dataset: IdxImageSet, data_dir=None) -> list[tuple[Path, str]]:
    """Every directory searched, in order, each with a short note of why it is searched."""
    places = []
    for root, why in ((data_dir, "data_dir"), (os.environ.get("DEEPNUM_DATA"), "$DEEPNUM_DATA")):
        if root:
            places += [(Path(root), why), (Path(root) / dataset.name, why)]
    places.append((cache_dir(dataset.name), "user cache"))
    places += [(path, "system install") for path in dataset.system_dirs]
    return places


def find_split(dataset: IdxImageSet, split, data_dir=None) -> tuple[Path, Path] | None:
    """The (images, labels) paths of the first directory holding both, or None.

    >>> find_split(MNIST, "test", data_dir="/work/shared/data/mnist")
    >>> # (.../t10k-images-idx3-ubyte.gz, .../t10k-labels-idx1-ubyte.gz)
    """
    images, labels = dataset.files[split]
    for directory, _ in search_dirs(dataset, data_dir):
        pair = _find_file(directory, images.name), _find_file(directory, labels.name)
        if pair[0] and pair[1] and not any(_foreign(dataset, path) for path in pair):
            return pair
    return None


def cache_dir(name: str) -> Path:
    """Where downloads go: ``~/.cache/deepnum/<name>`` (or under ``$XDG_CACHE_HOME``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deepnum" / name


def _find_file(directory: Path, name: str) -> Path | None:
    """The file ``name`` in ``directory``: gzipped or not, official or Kaggle-style dotted name."""
    dotted = name.replace("-idx", ".idx")  # "train-images.idx3-ubyte", as some mirrors name them
    for candidate in (f"{name}.gz", name, f"{dotted}.gz", dotted):
        path = directory / candidate
        if path.is_file():
            return path
    return None


def _foreign(dataset: IdxImageSet, path: Path) -> str | None:
    """The title of the other data set whose official download has exactly this file's size."""
    size = path.stat().st_size
    for other in (MNIST, FASHION_MNIST):
        sizes = {file.size for pair in other.files.values() for file in pair}
        if other is not dataset and size in sizes:
            return other.title
    return None


def _download_split(dataset: IdxImageSet, split, data_dir) -> tuple[Path, Path]:
    """Fetch the split's missing files into ``data_dir`` (or the cache) and return their paths."""
    target = Path(data_dir) if data_dir else cache_dir(dataset.name)
    paths = []
    for file in dataset.files[split]:
        path = _find_file(target, file.name)
        if path is None:
            urls = [mirror + file.name + ".gz" for mirror in dataset.mirrors]
            path = fetch(urls, target / f"{file.name}.gz", size=file.size, md5=file.md5)
        paths.append(path)
    return paths[0], paths[1]


def _not_found_message(dataset: IdxImageSet, split, data_dir) -> str:
    """Say what is missing, every place searched, what was found instead, and how to fix it."""
    images, labels = dataset.files[split]
    other = "test" if split == "train" else "train"
    present = find_split(dataset, other, data_dir)
    if present is not None:
        head = (
            f"{dataset.title}: the {split} split is missing (the {other} split is present "
            f"in {present[0].parent})."
        )
    else:
        head = f"{dataset.title} not found."
    lines = [f"{head} Looked for {images.name}[.gz] and {labels.name}[.gz] in:"]
    for directory, why in search_dirs(dataset, data_dir):
        lines.append(f"  {directory}  ({why})")
    for directory, _ in search_dirs(dataset, data_dir):
        halves = [_find_file(directory, f.name) for f in (images, labels)]
        if any(halves) and not all(halves):
            have, lack = (halves[0], labels) if halves[0] else (halves[1], images)
            lines.append(f"  note: {directory} has {have.name} but not {lack.name}[.gz]")
        for path in filter(None, halves):
            if other_title := _foreign(dataset, path):
                lines.append(f"  note: skipped {path}: it is {other_title}'s file (by its size)")
    call = f"deepnum.data.{dataset.function}(split={split!r}, download=True)"
    lines.append(f"Fix: {call}  (or add --download to the deepnum command)")
    if dataset.install_hint:
        lines.append(f"  or, on Debian/Ubuntu: {dataset.install_hint}")
    return "\n".join(lines)
