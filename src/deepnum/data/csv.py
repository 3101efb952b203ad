"""Load a numeric table from a CSV file: features as float32, one column as the label.

The label column decides the task. Integer labels are class indices (int64); any other numbers are
regression targets (float32); text labels (``setosa``, ``spam``) become class indices 0..k-1 in
sorted order, and ``return_classes=True`` returns their names. Every problem -- an empty file, a
ragged row, a cell that is not a number, a label column that does not exist -- raises
:class:`DataError` naming the file, the line and the column.

The file may come from anyone, so it is read within bounds: at most ``max_bytes`` (256 MiB by
default) and lines of at most 1 MiB, streamed in slices converted to arrays as they come, so memory
stays within a small multiple of the file's size whatever it holds; at most ``max_classes``
classes (10,000: a label of 30,000,000 is refused, not turned into 30 million class names); and
every value a finite number within +-1e18 (beyond that a squared error overflows float32).

>>> x, y = load_csv("iris.csv", label_column="species")
>>> x, y, names = load_csv("iris.csv", label_column=-1, return_classes=True)
"""

from __future__ import annotations

import csv  # the standard library's module: absolute imports never find this file
import os
from pathlib import Path

import numpy as np

from deepnum.errors import DataError

MAX_BYTES = 256 * 2**20  # default bound on a file's size
MAX_CLASSES = 10_000  # default bound on the number of classes a label column may imply
MAX_LINE_BYTES = 2**20  # one physical line; bounds the cells of one row
MAX_ABS_VALUE = 1e18  # beyond this, (y - y_hat)^2 overflows float32
_SLICE_BYTES = 256 * 2**10  # rows are converted to arrays every this many bytes of text


def load_csv(
    path: str | os.PathLike,
    label_column: int | str = -1,
    header: bool | None = None,
    delimiter: str = ",",
    return_classes: bool = False,
    *,
    max_bytes: int = MAX_BYTES,
    max_classes: int = MAX_CLASSES,
):
    """Read ``path`` into ``(x, y)``, or ``(x, y, class_names)`` when ``return_classes``.

    ``label_column`` is a position (negative counts from the end) or, with a header, a name.
    ``header=None`` detects a header: the first row is one when one of its feature cells is not a
    number. ``class_names`` is a list of strings for classification and None for regression.
    Files beyond ``max_bytes`` and label columns implying more than ``max_classes`` classes are
    refused with a :class:`DataError` naming the bound.

    >>> x, y = load_csv("data.csv")            # the last column is the label
    >>> x.dtype, y.dtype                       # (float32, int64) for integer labels
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            size = os.fstat(file.fileno()).st_size
            if size > max_bytes:
                raise DataError(f"{path}: {size:,} bytes, more than the limit of {max_bytes:,} "
                                f"(load_csv's max_bytes)")
            table = _Table(path, label_column, header, max_classes)
            reader = csv.reader(_bounded_lines(path, file, max_bytes), delimiter=delimiter,
                                skipinitialspace=True)
            start = 1
            for row in reader:
                if any(cell.strip() for cell in row):
                    table.add(row, start)
                start = reader.line_num + 1
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a UTF-8 text file ({error.reason})") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{path}: cannot read as CSV: {error}") from None
    x, y, classes = table.finish()
    return (x, y, classes) if return_classes else (x, y)


def _bounded_lines(path: Path, file, max_bytes: int):
    """The file's lines, refusing a line beyond MAX_LINE_BYTES or a total beyond ``max_bytes``
    (the size was checked already; this also holds for a pipe or a file that grows)."""
    total = 0
    while True:
        line = file.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES:
            raise DataError(f"{path}: a line longer than {MAX_LINE_BYTES:,} characters; not a "
                            f"table deepnum reads")
        total += len(line)
        if total > max_bytes:
            raise DataError(f"{path}: more than the limit of {max_bytes:,} bytes "
                            f"(load_csv's max_bytes)")
        yield line


class _Table:
    """Rows as they stream in: the first decides the width and the header; then every slice of
    rows is converted to float32 features and per-row label values, keeping no Python strings
    beyond a slice (except the distinct label texts, at most ``max_classes`` of them)."""

    def __init__(self, path: Path, label_column, header, max_classes: int):
        self.path, self.label_column, self.header = path, label_column, header
        self.max_classes = int(max_classes)
        self.width = None
        self.first_line = None
        self.rows, self.lines, self.pending = [], [], 0
        self.features: list[np.ndarray] = []
        self.values: list[np.ndarray] = []  # label as a number (NaN where it is not one)
        self.ids: list[np.ndarray] = []  # label as an index into self.texts
        self.texts: dict[str, int] | None = {}  # distinct label texts; None once too many
        self.all_int, self.all_number = True, True
        self.big_label = None  # the first integer label >= max_classes: (label, line)
        self.count = 0

    def add(self, row: list[str], line: int) -> None:
        if self.width is None:
            self._first_row(row, line)
            if self.header:
                return
        if len(row) != self.width:
            raise DataError(f"{self.path}, line {line}: {len(row)} fields, expected "
                            f"{self.width} (as on line {self.first_line})")
        self.rows.append(row)
        self.lines.append(line)
        self.pending += sum(len(cell) for cell in row) + len(row)
        if self.pending >= _SLICE_BYTES:
            self._convert()

    def _first_row(self, row: list[str], line: int) -> None:
        self.width, self.first_line = len(row), line
        self.names = [cell.strip() for cell in row]
        self.label = _label_index(self.path, self.label_column, self.width,
                                  self.names if self.header is not False else None)
        if self.header is None:
            self.header = any(not _is_number(c) for i, c in enumerate(row) if i != self.label)
        if isinstance(self.label_column, str) and not self.header:
            raise DataError(f"{self.path}: label_column={self.label_column!r} is a name, but "
                            f"there is no header")
        if self.width < 2:
            raise DataError(f"{self.path}: needs at least one feature column besides the label "
                            f"column")
        self.columns = [i for i in range(self.width) if i != self.label]
        self.column_names = (self.names if self.header
                             else [f"column {i + 1}" for i in range(self.width)])

    def _convert(self) -> None:
        """Turn the pending rows into arrays (explaining the first bad cell, if any)."""
        if not self.rows:
            return
        cells = [[row[i] for i in self.columns] for row in self.rows]
        try:
            x = np.array(cells, dtype=np.float64)
        except ValueError:
            x = None
        if x is None or not (np.abs(x) <= MAX_ABS_VALUE).all():
            self._explain_features(cells)
        self.features.append(x.astype(np.float32))
        values = np.empty(len(self.rows))
        ids = np.empty(len(self.rows), dtype=np.int32)
        for i, (row, line) in enumerate(zip(self.rows, self.lines)):
            values[i], ids[i] = self._label(row[self.label].strip(), line)
        self.values.append(values)
        self.ids.append(ids)
        self.count += len(self.rows)
        self.rows, self.lines, self.pending = [], [], 0

    def _label(self, text: str, line: int) -> tuple[float, int]:
        """The label's numeric value (NaN for text) and its text's index (-1 once the distinct
        texts have passed max_classes: then the column can only be regression targets)."""
        if not text:
            raise DataError(f"{self.path}, line {line}: the label is empty")
        value = float("nan")
        if _is_int(text):
            number = int(text)
            if abs(number) > MAX_ABS_VALUE:
                self._too_large(text, line)
            if number >= self.max_classes and self.big_label is None:
                self.big_label = (number, line)  # too many classes, unless floats follow
            value = float(number)
        elif _is_number(text):
            value = float(text)
            if not np.isfinite(value):
                raise DataError(f"{self.path}, line {line}: the label {text!r} is not a finite "
                                f"number")
            if abs(value) > MAX_ABS_VALUE:
                self._too_large(text, line)
            self.all_int = False
        else:
            self.all_int = self.all_number = False
            if self.texts is None:
                self._too_many_classes(f"{self.max_classes + 1:,} or more distinct labels")
        index = -1
        if self.texts is not None:
            index = self.texts.setdefault(text, len(self.texts))
            if len(self.texts) > self.max_classes:
                if not self.all_number:
                    self._too_many_classes(f"more than {self.max_classes:,} distinct labels "
                                           f"(line {line})")
                self.texts = None  # numeric labels: only regression targets can be that varied
        return value, index

    def _too_large(self, text: str, line: int):
        raise DataError(f"{self.path}, line {line}: the label {text[:40]!r} is beyond "
                        f"+-{MAX_ABS_VALUE:g}; as a target its squared error overflows float32 "
                        f"(rescale the column)")

    def _too_many_classes(self, what: str):
        raise DataError(f"{self.path}: {what}, more than the limit of {self.max_classes:,} "
                        f"classes (load_csv's max_classes); if the column is a regression "
                        f"target, write its values with a decimal point (e.g. 3.0)")

    def _explain_features(self, cells) -> None:
        for row, line in zip(cells, self.lines):
            for cell, column in zip(row, self.columns):
                if _is_number(cell) and abs(float(cell)) <= MAX_ABS_VALUE:
                    continue
                what = "an empty cell" if not cell.strip() else f"{cell.strip()[:40]!r}"
                beyond = "" if not _is_number(cell) or not np.isfinite(float(cell)) \
                    else f" within +-{MAX_ABS_VALUE:g}"
                raise DataError(f"{self.path}, line {line}, column {column + 1} "
                                f"({self.column_names[column][:40]}): {what} is not a finite "
                                f"number{beyond}")
        raise DataError(f"{self.path}: the features cannot be read as float32 numbers")

    def finish(self) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
        if self.width is None:
            raise DataError(f"{self.path}: the file is empty")
        self._convert()
        if not self.count:
            raise DataError(f"{self.path}: has a header but no data rows")
        x = np.concatenate(self.features)
        self.features = []
        values = np.concatenate(self.values)
        self.values = []
        if self.all_int:
            return self._classes_from_integers(x, values.astype(np.int64))
        if self.all_number:
            return x, values.astype(np.float32), None
        # text labels: classes are the distinct texts in sorted order
        names = sorted(self.texts)
        rank = np.empty(len(names), dtype=np.int64)
        rank[[self.texts[name] for name in names]] = np.arange(len(names))
        return x, rank[np.concatenate(self.ids)], names

    def _classes_from_integers(self, x, y):
        if self.big_label is not None and y.min() >= 0:
            number, line = self.big_label
            self._too_many_classes(f"label {number} on line {line} would be class number "
                                   f"{number + 1:,}")
        if y.min() >= 0:  # already class indices: label 3 stays class 3
            return x, y, [str(c) for c in range(int(y.max()) + 1)]
        classes, y = np.unique(y, return_inverse=True)  # e.g. -1/+1 become 0/1
        if len(classes) > self.max_classes:
            self._too_many_classes(f"{len(classes):,} distinct integer labels")
        return x, y.astype(np.int64).reshape(-1), [str(c) for c in classes]


def _label_index(path: Path, label_column, width: int, names: list[str] | None) -> int:
    """The position of the label column, from an index or a header name."""
    if isinstance(label_column, str):
        if names is None or label_column not in names:
            shown = ", ".join(names)[:200] if names else "no header"
            raise DataError(f"{path}: no label column named {label_column!r} ({shown})")
        return names.index(label_column)
    if not -width <= label_column < width:
        raise DataError(
            f"{path}: label_column={label_column} is missing: the rows have {width} columns"
        )
    return label_column % width


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_int(text: str) -> bool:
    # int() of a 5,000-digit string is refused by Python (ValueError), and is slow before that:
    # nothing that long is a label we take, so it counts as text.
    if len(text) > 40:
        return False
    try:
        int(text)
    except ValueError:
        return False
    return True
