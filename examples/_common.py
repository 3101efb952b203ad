"""Shared plumbing for the example scripts: arguments, the MNIST test digits, saving, plotting.

Each example is a script (``python examples/x.py --fast --out runs/x``) and a module with
``main(argv) -> dict`` (the numbers it printed), so tests and the ``deepnum`` command can run it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import deepnum as dn

MNIST_DIRS = [os.environ.get("DEEPNUM_MNIST_DIR", ""), "/work/shared/data/mnist",
              str(Path.home() / ".cache" / "deepnum" / "mnist")]


def parser(description: str, default_out: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--fast", action="store_true", help="a tiny run (seconds) for tests and demos")
    p.add_argument("--out", default=default_out, help="folder for plots, model and results")
    p.add_argument("--seed", type=int, default=0)
    return p


def setup(args) -> Path:
    """Seed every generator the example uses and create the output folder."""
    dn.manual_seed(args.seed)   # the examples draw everything else from their own Generator
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def load_mnist_test(data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 real MNIST test digits: images (N, 28, 28) float32 in [0, 1], labels int64."""
    from deepnum.data import read_idx

    for folder in ([data_dir] if data_dir else []) + MNIST_DIRS:
        images = Path(folder or "-") / "t10k-images-idx3-ubyte.gz"
        if folder and images.exists():
            x = read_idx(images, expected_shape=(None, 28, 28)).astype(np.float32) / 255.0
            y = read_idx(images.with_name("t10k-labels-idx1-ubyte.gz")).astype(np.int64)
            return x, y
    raise dn.DataError("MNIST test digits not found; looked in "
                       f"{[d for d in MNIST_DIRS if d]}; set DEEPNUM_MNIST_DIR")


def split_80_20(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle of range(n): the first 80% train, the last 20% held out."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(0.8 * n)
    return order[:cut], order[cut:]


def adam(params, lr: float, betas=(0.9, 0.999)):
    """deepnum's Adam with the given step size."""
    return dn.optim.Adam(params, lr=lr, betas=betas)


def save_model(model, path: Path, metadata: dict | None = None) -> Path:
    """The model file (weights + architecture, safetensors) via ``dn.save``."""
    return dn.save(model, path, metadata=metadata)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_results(out: Path, results: dict) -> dict:
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results


class Timer:
    """Wall-clock and CPU seconds since creation (the CPU time does not depend on other load)."""

    def __init__(self):
        self.start, self.cpu_start = time.perf_counter(), time.process_time()

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self.start, 1)

    @property
    def cpu_seconds(self) -> float:
        return round(time.process_time() - self.cpu_start, 1)
