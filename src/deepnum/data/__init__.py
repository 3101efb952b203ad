"""Data: file formats, real and toy data sets, datasets, loaders, splits and scaling.

>>> from deepnum.data import load_dataset, DataLoader, TensorDataset
>>> data = load_dataset("digits"); loader = DataLoader(TensorDataset(data.x_train, data.y_train))
"""

from deepnum.data.csv import load_csv
from deepnum.data.dataset import Dataset, Subset, TensorDataset
from deepnum.data.digits import load_digits
from deepnum.data.idx import read_idx, write_idx
from deepnum.data.loader import DataLoader
from deepnum.data.mnist import FASHION_MNIST, MNIST, load_fashion_mnist, load_mnist
from deepnum.data.registry import (
    DATASETS,
    DatasetInfo,
    DataSplits,
    available_datasets,
    load_dataset,
)
from deepnum.data.split import random_split, train_val_split
from deepnum.data.toy import (
    TOY_DATASETS,
    make_circle,
    make_gauss,
    make_multi_gauss,
    make_plane,
    make_spiral,
    make_xor,
)
from deepnum.data.transforms import MinMaxScale, Standardize

__all__ = [
    "DATASETS",
    "FASHION_MNIST",
    "MNIST",
    "TOY_DATASETS",
    "DataLoader",
    "DataSplits",
    "Dataset",
    "DatasetInfo",
    "MinMaxScale",
    "Standardize",
    "Subset",
    "TensorDataset",
    "available_datasets",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "make_circle",
    "make_gauss",
    "make_multi_gauss",
    "make_plane",
    "make_spiral",
    "make_xor",
    "random_split",
    "read_idx",
    "train_val_split",
    "write_idx",
]
