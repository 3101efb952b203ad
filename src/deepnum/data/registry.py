"""Data sets by name, for the ``deepnum`` command, the Playground and scripts.

:data:`DATASETS` is a plain dict from name to a function returning :class:`DataSplits`: train and
test arrays ready for a model, plus what a model builder needs to know (input shape, number of
classes, task). Images come as float32 (N, C, H, W) in [0, 1] so convolutional models take them
directly and MLPs flatten them; labels are int64 class indices, regression targets float32.

>>> data = load_dataset("digits")
>>> data.x_train.shape, data.num_classes   # ((1438, 1, 8, 8), 10)
"""

from __future__ import annotations

import importlib.util
import inspect
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepnum.data import mnist
from deepnum.data.csv import MAX_BYTES, MAX_CLASSES, load_csv
from deepnum.data.digits import load_digits
from deepnum.data.split import train_val_split
from deepnum.data.toy import REGRESSION, TOY_DATASETS
from deepnum.errors import DataError


@dataclass(repr=False)
class DataSplits:
    """A data set split into train and test parts, with the facts a model builder needs.

    >>> data = load_dataset("spiral", num_classes=3)
    >>> data.input_shape, data.num_classes, data.task   # ((2,), 3, 'classification')
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int  # 0 for regression
    input_shape: tuple[int, ...]  # one sample's shape, e.g. (1, 28, 28)
    task: str  # "classification" or "regression"
    class_names: list[str] | None = field(default=None)
    name: str = ""

    @property
    def num_outputs(self) -> int:
        """Output units a model needs: one per class, or one regression target."""
        return self.num_classes if self.task == "classification" else 1

    def __repr__(self) -> str:
        return (
            f"DataSplits({self.name!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
            f"input_shape={self.input_shape}, task={self.task!r}, num_classes={self.num_classes})"
        )


def _splits(name, x_train, y_train, x_test, y_test, class_names=None) -> DataSplits:
    """Build :class:`DataSplits`, deriving the task from whether there are class names."""
    regression = class_names is None
    return DataSplits(
        x_train,
        y_train,
        x_test,
        y_test,
        num_classes=0 if regression else len(class_names),
        input_shape=tuple(x_train.shape[1:]),
        task="regression" if regression else "classification",
        class_names=None if regression else list(class_names),
        name=name,
    )


def _images(x: np.ndarray) -> np.ndarray:
    """(N, H, W) images as float32 (N, 1, H, W) in [0, 1]."""
    x = x if x.dtype == np.float32 else x.astype(np.float32) / 255
    return x[:, None, :, :]


def _digits(data_dir=None, download=False, seed=0, test_fraction=0.2):
    """scikit-learn's 1,797 real 8x8 digits, offline; a fixed stratified 80/20 split."""
    x_train, y_train, x_test, y_test = load_digits(test_fraction=test_fraction, seed=seed)
    names = [str(digit) for digit in range(10)]
    return _splits("digits", _images(x_train), y_train, _images(x_test), y_test, names)


def _idx_images(dataset: mnist.IdxImageSet):
    def load(data_dir=None, download=False, seed=0):
        x_train, y_train = mnist.load_idx_images(dataset, "train", data_dir, download, True)
        x_test, y_test = mnist.load_idx_images(dataset, "test", data_dir, download, True)
        return _splits(
            dataset.name, _images(x_train), y_train, _images(x_test), y_test, dataset.class_names
        )

    load.__doc__ = f"{dataset.title}: the official 60,000 training and 10,000 test images."
    return load


def _mnist_test(data_dir=None, download=False, seed=0, test_fraction=0.2):
    """The 10,000 official MNIST test digits alone, split (seeded, stratified) 80/20."""
    images, labels = mnist.load_mnist("test", data_dir, download, normalize=True)
    x_train, y_train, x_test, y_test = train_val_split(images, labels, test_fraction, seed)
    return _splits(
        "mnist-test", _images(x_train), y_train, _images(x_test), y_test, mnist.MNIST.class_names
    )


def _toy(name: str):
    make = TOY_DATASETS[name]

    def load(data_dir=None, download=False, seed=0, test_fraction=0.5, **options):
        # test_fraction 0.5 is the Playground's default "ratio of training to test data".
        x, y = make(seed=seed, **options)
        names = None if name in REGRESSION else [str(c) for c in range(int(y.max()) + 1)]
        return _splits(name, *train_val_split(x, y, test_fraction, seed), names)

    load.__doc__ = f"{name}: {make.__doc__.splitlines()[0]} (TensorFlow Playground)"
    load.options = tuple(inspect.signature(make).parameters)  # what **options may hold
    return load


def _csv(path, seed=0, test_fraction=0.2, label_column=-1, header=None, delimiter=",",
         max_bytes=MAX_BYTES, max_classes=MAX_CLASSES):
    """A CSV file: numeric features, one label column; split (seeded) 80/20."""
    x, y, names = load_csv(path, label_column, header, delimiter, return_classes=True,
                           max_bytes=max_bytes, max_classes=max_classes)
    return _splits(f"csv:{path}", *train_val_split(x, y, test_fraction, seed), names)


DATASETS = {
    "digits": _digits,
    "mnist": _idx_images(mnist.MNIST),
    "fashion-mnist": _idx_images(mnist.FASHION_MNIST),
    "mnist-test": _mnist_test,
    **{name: _toy(name) for name in TOY_DATASETS},
}


def load_dataset(name: str, data_dir=None, download=False, seed=0, **options) -> DataSplits:
    """Load the data set called ``name`` (see :data:`DATASETS`, or ``csv:PATH``).

    ``options`` go to the data set, e.g. ``n``, ``noise``, ``num_classes`` for the toy sets,
    ``label_column`` for CSV files, ``test_fraction`` for those split here.

    >>> data = load_dataset("mnist-test", data_dir="/work/shared/data/mnist")
    >>> len(data.x_train), len(data.x_test)   # (8000, 2000)
    """
    if name.startswith("csv:"):
        _check_options(name, _csv, options, skip=("path", "seed"))
        return _csv(name[len("csv:"):], seed=seed, **options)
    if name not in DATASETS:
        known = ", ".join([*DATASETS, "csv:PATH"])
        raise DataError(f"unknown data set {name!r}; known: {known}")
    load = DATASETS[name]
    _check_options(name, load, options, skip=("data_dir", "download", "seed"))
    return load(data_dir=data_dir, download=download, seed=seed, **options)


DatasetInfo = namedtuple("DatasetInfo", "name available where")


def available_datasets(data_dir=None) -> list[DatasetInfo]:
    """One row per data set: is it usable right now without a download, and where is it from.

    >>> for name, available, where in available_datasets():
    ...     print(f"{name:14} {'yes' if available else 'no ':3} {where}")
    """
    rows = []
    for name in DATASETS:
        if name in TOY_DATASETS:
            rows.append(DatasetInfo(name, True, "generated (TensorFlow Playground)"))
        elif name == "digits":
            has_sklearn = importlib.util.find_spec("sklearn") is not None
            where = "bundled with scikit-learn" if has_sklearn else "pip install scikit-learn"
            rows.append(DatasetInfo(name, has_sklearn, where))
        elif name == "mnist-test":
            test = mnist.find_split(mnist.MNIST, "test", data_dir)
            rows.append(_idx_row(name, {"test": test}, "mnist"))
        else:
            dataset = mnist.MNIST if name == "mnist" else mnist.FASHION_MNIST
            found = {split: mnist.find_split(dataset, split, data_dir) for split in mnist.SPLITS}
            rows.append(_idx_row(name, found, name))
    rows.append(DatasetInfo("csv:PATH", True, "any CSV file of numbers, label in one column"))
    return rows


def _idx_row(name: str, found: dict, download_name: str) -> DatasetInfo:
    """Availability of IDX splits: where each present split is, or how to get the missing ones."""
    present = {split: Path(paths[0]).parent for split, paths in found.items() if paths}
    places = sorted(set(present.values()))
    where = ", ".join(str(p) for p in places) if places else ""
    if len(present) == len(found):
        return DatasetInfo(name, True, where)
    missing = [split for split in found if split not in present]
    splits = "train and test splits" if len(missing) == 2 else f"{missing[0]} split"
    hint = f"missing the {splits}; get with --download"
    if download_name == "fashion-mnist":
        hint += " or apt-get install -y dataset-fashion-mnist"
    return DatasetInfo(name, False, f"{hint}; present in {where}" if where else hint)


def _check_options(name, function, options, skip) -> None:
    """Reject options the data set does not take, listing the ones it does."""
    accepted = [p for p in inspect.signature(function).parameters if p not in (*skip, "options")]
    accepted += list(getattr(function, "options", ()))
    accepted = [p for p in accepted if p not in skip]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DataError(
            f"data set {name!r} takes no option {', '.join(unknown)}; "
            f"its options: {', '.join(accepted) or 'none'}"
        )
