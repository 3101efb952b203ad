"""Load a numeric table from a CSV file: features as float32, one column as the label.

The label column decides the task. Integer labels are class indices (int64); any other numbers are
regression targets (float32); text labels (``setosa``, ``spam``) become class indices 0..k-1 in
sorted order, and ``return_classes=True`` returns their names. Every problem -- an empty file, a
ragged row, a cell that is not a number, a label column that does not exist -- raises
:class:`DataError` naming the file, the line and the column.

>>> x, y = load_csv("iris.csv", label_column="species")
>>> x, y, names = load_csv("iris.csv", label_column=-1, return_classes=True)
"""

from __future__ import annotations

import csv  # the standard library's module: absolute imports never find this file
import os
from pathlib import Path

import numpy as np

from deepnum.errors import DataError


def load_csv(
    path: str | os.PathLike,
    label_column: int | str = -1,
    header: bool | None = None,
    delimiter: str = ",",
    return_classes: bool = False,
):
    """Read ``path`` into ``(x, y)``, or ``(x, y, class_names)`` when ``return_classes``.

    ``label_column`` is a position (negative counts from the end) or, with a header, a name.
    ``header=None`` detects a header: the first row is one when one of its feature cells is not a
    number. ``class_names`` is a list of strings for classification and None for regression.

    >>> x, y = load_csv("data.csv")            # the last column is the label
    >>> x.dtype, y.dtype                       # (float32, int64) for integer labels
    """
    path = Path(path)
    rows, lines = _read_rows(path, delimiter)
    width = len(rows[0])
    for row, line in zip(rows, lines):
        if len(row) != width:
            raise DataError(
                f"{path}, line {line}: {len(row)} fields, expected {width} (as on line {lines[0]})"
            )
    names = [cell.strip() for cell in rows[0]]
    label = _label_index(path, label_column, width, names if header is not False else None)
    if header is None:
        header = any(not _is_number(c) for i, c in enumerate(rows[0]) if i != label)
    if header:
        rows, lines = rows[1:], lines[1:]
    if not rows:
        raise DataError(f"{path}: has a header but no data rows")
    if isinstance(label_column, str) and not header:
        raise DataError(f"{path}: label_column={label_column!r} is a name, but there is no header")
    if width < 2:
        raise DataError(f"{path}: needs at least one feature column besides the label column")

    features = [i for i in range(width) if i != label]
    column_names = names if header else [f"column {i + 1}" for i in range(width)]
    x = _parse_features(path, rows, lines, features, column_names)
    y, classes = _parse_labels(path, [row[label].strip() for row in rows], lines)
    return (x, y, classes) if return_classes else (x, y)


def _read_rows(path: Path, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows and the line number each starts on."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, delimiter=delimiter, skipinitialspace=True)
            rows, lines, start = [], [], 1
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(start)
                start = reader.line_num + 1
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a UTF-8 text file ({error.reason})") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{path}: cannot read as CSV: {error}") from error
    if not rows:
        raise DataError(f"{path}: the file is empty")
    return rows, lines


def _label_index(path: Path, label_column, width: int, names: list[str] | None) -> int:
    """The position of the label column, from an index or a header name."""
    if isinstance(label_column, str):
        if names is None or label_column not in names:
            shown = ", ".join(names) if names else "no header"
            raise DataError(f"{path}: no label column named {label_column!r} ({shown})")
        return names.index(label_column)
    if not -width <= label_column < width:
        raise DataError(
            f"{path}: label_column={label_column} is missing: the rows have {width} columns"
        )
    return label_column % width


def _parse_features(path, rows, lines, columns, names) -> np.ndarray:
    """Features as float32; on failure, find and report the first bad cell."""
    cells = [[row[i] for i in columns] for row in rows]
    try:
        # NumPy parses the whole table at C speed; the loop below only runs to explain an error.
        x = np.array(cells, dtype=np.float32)
    except ValueError:
        x = None
    if x is not None and np.isfinite(x).all():
        return x
    for row, line in zip(cells, lines):
        for cell, column in zip(row, columns):
            if not _is_number(cell) or not np.isfinite(float(cell)):
                what = "an empty cell" if not cell.strip() else f"{cell.strip()!r}"
                raise DataError(
                    f"{path}, line {line}, column {column + 1} ({names[column]}): "
                    f"{what} is not a finite number"
                )
    raise DataError(f"{path}: the features cannot be read as float32 numbers")


def _parse_labels(path, labels: list[str], lines) -> tuple[np.ndarray, list[str] | None]:
    """Labels and class names: int64 classes, float32 targets, or text mapped to 0..k-1."""
    for label, line in zip(labels, lines):
        if not label:
            raise DataError(f"{path}, line {line}: the label is empty")
    if all(_is_int(label) for label in labels):
        values = np.array([int(label) for label in labels], dtype=np.int64)
        if values.min() >= 0:  # already class indices: label 3 stays class 3
            return values, [str(c) for c in range(values.max() + 1)]
        classes, y = np.unique(values, return_inverse=True)  # e.g. -1/+1 become 0/1
        return y.astype(np.int64), [str(c) for c in classes]
    if all(_is_number(label) for label in labels):
        y = np.array(labels, dtype=np.float32)
        if not np.isfinite(y).all():
            line = lines[int(np.flatnonzero(~np.isfinite(y))[0])]
            raise DataError(f"{path}, line {line}: the label is not a finite number")
        return y, None
    classes, y = np.unique(np.array(labels), return_inverse=True)
    return y.astype(np.int64), [str(c) for c in classes]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True
