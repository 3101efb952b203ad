"""The Playground's data: a toy set from deepnum.data.toy, or an uploaded CSV of 2-D points.

An upload is checked by deepnum's own CSV reader (:func:`deepnum.data.load_csv`, the same messages
as the ``deepnum`` command), then by the Playground's limits: exactly two feature columns, at most
:data:`MAX_SAMPLES` rows and :data:`MAX_CLASSES` classes. Uploaded points are mapped into the page's
square [-6, 6]^2 by an offset and a scale that the model's Features layer applies too.

>>> points = make_points(validate_settings({"dataset": "spiral", "num_classes": 3}))
>>> points.task, points.num_classes             # ('classification', 3)
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepnum.data import load_csv, toy
from deepnum.errors import DataError
from deepnum.playground.settings import MAX_CLASSES, MAX_SAMPLES, REGRESSION_SETS

MAX_UPLOAD_BYTES = 1 << 20  # 1 MiB: 2000 rows of three numbers need far less
_HALF_WIDTH = 5.0  # uploaded points fill [-5, 5], leaving a margin inside the square


@dataclass
class Points:
    """All points of a data set, before the train/test split.

    ``x`` is float32 (n, 2) in the file's own units; ``offset`` and ``scale`` map it into the page's
    square. ``y`` is int64 class indices or float32 targets.
    """

    x: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    num_classes: int  # 1 for regression: the number of network outputs
    class_names: list[str] | None = None
    offset: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)
    source: str = ""
    columns: list[str] = field(default_factory=list)

    def on_square(self) -> np.ndarray:
        """The points as drawn: mapped into [-6, 6]^2."""
        return (self.x - np.float32(self.offset)) * np.float32(self.scale)


def make_points(settings: dict) -> Points:
    """Generate the chosen toy data set."""
    name = settings["dataset"]
    make = toy.TOY_DATASETS[name]
    n, noise, seed = settings["num_samples"], settings["noise"], settings["seed"]
    if name in REGRESSION_SETS:
        x, y = make(n, noise=noise, seed=seed)
        return Points(x, y, "regression", 1, source=name)
    x, y = make(n, noise=noise, seed=seed, num_classes=settings["num_classes"])
    k = settings["num_classes"]
    return Points(x, y, "classification", k, [str(c) for c in range(k)], source=name)


def parse_csv_upload(content: bytes, filename: str = "upload.csv") -> Points:
    """Read an uploaded CSV (the last column is the label) into Points, or raise DataError."""
    shown = _safe_name(filename)
    if len(content) > MAX_UPLOAD_BYTES:
        raise DataError(f"{shown}: the file is {len(content)} bytes; the limit is "
                        f"{MAX_UPLOAD_BYTES} bytes (1 MiB)")
    # load_csv reads a path; a private temporary copy gives uploads exactly its checks and messages.
    with tempfile.TemporaryDirectory(prefix="deepnum-playground-") as folder:
        path = Path(folder) / shown
        path.write_bytes(content)
        try:
            x, y, classes = load_csv(path, label_column=-1, return_classes=True)
        except DataError as error:
            raise DataError(str(error).replace(str(path), shown)) from None
    if x.shape[1] != 2:
        raise DataError(f"{shown}: needs exactly 2 feature columns (x1, x2) and a label column; "
                        f"found {x.shape[1]} feature columns")
    if len(x) > MAX_SAMPLES:
        raise DataError(f"{shown}: {len(x)} rows; the Playground takes at most {MAX_SAMPLES}")
    if len(x) < 4:
        raise DataError(f"{shown}: {len(x)} rows; at least 4 are needed to train and test")
    offset, scale = _fit_square(x)
    if classes is None:
        return Points(x, y, "regression", 1, None, offset, scale, source=shown)
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise DataError(f"{shown}: {len(classes)} classes; the Playground takes 2 to "
                        f"{MAX_CLASSES}")
    return Points(x, y, "classification", len(classes), classes, offset, scale, source=shown)


def split_indices(n: int, train_ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle 0..n-1 with ``seed`` and cut into training and test indices, neither empty."""
    order = np.random.Generator(np.random.PCG64(seed)).permutation(n)
    cut = min(max(int(round(train_ratio * n)), 1), n - 1)
    return order[:cut], order[cut:]


def _fit_square(x: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """Offset (the box's centre) and one common scale so the points fill [-5, 5]."""
    low, high = x.min(axis=0), x.max(axis=0)
    centre = (low + high) / 2
    half = float(max((high - low).max() / 2, 1e-12))
    s = _HALF_WIDTH / half
    return (float(centre[0]), float(centre[1])), (s, s)


def _safe_name(filename: str) -> str:
    """The upload's base name with only harmless characters (it is shown, and used as a name)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename or "upload.csv").name)[:80]
    return name if name.strip("._") else "upload.csv"
