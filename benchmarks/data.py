"""Benchmark inputs: Fashion-MNIST from the system's data package, or random data of its shapes.

Read here directly (a few lines of IDX parsing) so the benchmark measures the engine, not the
data package, and runs the same whether or not deepnum.data changes.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
TRAIN_SIZE = 60_000


def _read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def fashion_mnist(num_samples: int = TRAIN_SIZE, seed: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                        str]:
    """(images float32 (N, 1, 28, 28) in [0, 1], labels int64 (N,), source description)."""
    images_path = os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz")
    labels_path = os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz")
    if os.path.exists(images_path) and os.path.exists(labels_path):
        images = _read_idx(images_path)[:num_samples]
        labels = _read_idx(labels_path)[:num_samples]
        x = (images.astype(np.float32) / np.float32(255)).reshape(-1, 1, 28, 28)
        return x, labels.astype(np.int64), f"Fashion-MNIST train ({FASHION_DIR})"
    rng = np.random.default_rng(seed)
    x = rng.random((num_samples, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, num_samples, dtype=np.int64)
    return x, y, "random data of Fashion-MNIST's shapes (the data files are absent)"
