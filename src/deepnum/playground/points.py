"""The Playground's data: a toy set from deepnum.data.toy, or an uploaded CSV of 2-D points.

An upload is first held to the Playground's bounds (at most :data:`MAX_UPLOAD_BYTES`, exactly two
feature columns, at most :data:`MAX_SAMPLES` rows, :data:`MAX_CLASSES` classes and targets within
:data:`MAX_TARGET`), checked on the raw text before anything is built, and then read by deepnum's
own CSV reader (:func:`deepnum.data.load_csv`, the same messages as the ``deepnum`` command).
Uploaded points are mapped into the page's square [-6, 6]^2 by an offset and a scale that the
model's Features layer applies too.

>>> points = make_points(validate_settings({"dataset": "spiral", "num_classes": 3}))
>>> points.task, points.num_classes             # ('classification', 3)
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepnum.data import load_csv
from deepnum.data.csv import _is_int, _is_number  # the CSV reader's own tests of a cell
from deepnum.errors import DataError
from deepnum.playground.settings import MAX_CLASSES, MAX_SAMPLES, REGRESSION_SETS, TOY_SETS

MAX_UPLOAD_BYTES = 1 << 20  # 1 MiB: 2000 rows of three numbers need far less
MAX_TARGET = 1e6  # largest |regression target| taken; the page draws targets from -1 to 1
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
    make = TOY_SETS[name]
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
        raise DataError(f"{shown}: the file is {size_text(len(content))}; the Playground takes "
                        f"files up to {size_text(MAX_UPLOAD_BYTES)}")
    _check_bounds(content, shown)
    # load_csv reads a path; a private temporary copy gives uploads exactly its checks and messages.
    with tempfile.TemporaryDirectory(prefix="deepnum-playground-") as folder:
        path = Path(folder) / shown
        path.write_bytes(content)
        try:
            x, y, classes = load_csv(path, label_column=-1, return_classes=True)
        except DataError as error:
            raise DataError(_tidy(str(error).replace(str(path), shown))) from None
    if x.shape[1] != 2:
        raise DataError(f"{shown}: needs exactly 2 feature columns (x1, x2) and a label column; "
                        f"found {_count(x.shape[1], 'feature column')}")
    if len(x) < 4:
        raise DataError(f"{shown}: {_count(len(x), 'row')}; at least 4 are needed to train "
                        f"and test")
    offset, scale = _fit_square(x)
    if classes is None:
        return Points(x, y, "regression", 1, None, offset, scale, source=shown)
    if len(classes) < 2:
        raise DataError(f"{shown}: every label is {classes[0]}, so there is only 1 class; "
                        f"the Playground needs 2 to {MAX_CLASSES}")
    return Points(x, y, "classification", len(classes), classes, offset, scale, source=shown)


def _check_bounds(content: bytes, shown: str) -> None:
    """Refuse, before deepnum's CSV reader builds anything, what the Playground cannot take:
    more than MAX_SAMPLES rows, other than 3 columns, more than MAX_CLASSES classes (a label of
    30000000 would otherwise become 30 million class names) and targets beyond MAX_TARGET (1e30
    overflows the loss). The rules for what a label means are load_csv's: whole numbers >= 0 are
    class indices, other whole numbers and text are class names, other numbers are targets."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{shown}: not a UTF-8 text file") from None
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    try:
        rows = [(reader.line_num, row) for row in _limited(reader, shown)]
    except csv.Error as error:
        raise DataError(f"{shown}: cannot read as CSV: {error}") from None
    if not rows:
        raise DataError(f"{shown}: the file is empty")
    if len(rows[0][1]) != 3:
        raise DataError(f"{shown}: needs exactly 2 feature columns (x1, x2) and a label column; "
                        f"line {rows[0][0]} has {_count(len(rows[0][1]), 'column')}")
    if any(not _is_number(cell) for cell in rows[0][1][:-1]):
        rows = rows[1:]  # a header, by load_csv's rule: a feature cell that is not a number
    labels = [(line, row[-1].strip()) for line, row in rows if row]
    if all(_is_int(label) for _, label in labels):
        values = {int(label) for _, label in labels}
        if labels and min(values) >= 0 and max(values) >= MAX_CLASSES:
            line, label = next((n, v) for n, v in labels if int(v) >= MAX_CLASSES)
            raise DataError(f"{shown}, line {line}: label {label} is a class number, and the "
                            f"Playground takes at most {MAX_CLASSES} classes (labels 0 to "
                            f"{MAX_CLASSES - 1})")
    elif all(_is_number(label) for _, label in labels):
        for line, label in labels:
            if not abs(float(label)) <= MAX_TARGET:  # also catches nan and inf
                raise DataError(f"{shown}, line {line}: the target {label} is too large; the "
                                f"Playground takes targets from -{MAX_TARGET:,.0f} to "
                                f"{MAX_TARGET:,.0f} (it draws -1 to 1)")
        return
    else:
        values = {label for _, label in labels}
    if len(values) > MAX_CLASSES:
        raise DataError(f"{shown}: {len(values)} different labels; the Playground takes at most "
                        f"{MAX_CLASSES} classes")


def _limited(reader, shown: str):
    """The non-blank rows, refusing the file as soon as it has more than MAX_SAMPLES of data."""
    count = 0
    for row in reader:
        if any(cell.strip() for cell in row):
            count += 1
            if count > MAX_SAMPLES + 1:  # + 1: a header row
                raise DataError(f"{shown}: more than {MAX_SAMPLES} rows; the Playground takes "
                                f"at most {MAX_SAMPLES}")
            yield row


def _tidy(message: str) -> str:
    """deepnum's CSV messages name a column twice when the file has no header
    ("column 2 (column 2)"); once is enough."""
    return re.sub(r"column (\d+) \(column \1\)", r"column \1", message)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def size_text(n: int) -> str:
    """A byte count as people read it: 1 MiB, 300 KiB, 12 bytes."""
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return _count(n, "byte")


@dataclass
class Split:
    """The points cut into training and test sets (every network of a session trains on it)."""

    points: Points
    train_index: np.ndarray
    test_index: np.ndarray

    def __post_init__(self):
        p = self.points
        self.x_train, self.y_train = p.x[self.train_index], p.y[self.train_index]
        self.x_test, self.y_test = p.x[self.test_index], p.y[self.test_index]


def split(points: Points, train_ratio: float, seed: int) -> Split:
    return Split(points, *split_indices(len(points.x), train_ratio, seed))


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
