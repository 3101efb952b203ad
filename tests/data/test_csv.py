import numpy as np
import pytest

from deepnum.data.csv import load_csv
from deepnum.errors import DataError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_integer_labels_are_classes_with_auto_header(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3.5,4,2\n\n5,6e-1,1\n")
    x, y, classes = load_csv(path, return_classes=True)
    assert x.dtype == np.float32 and x.shape == (3, 2)
    np.testing.assert_allclose(x, [[1, 2], [3.5, 4], [5, 0.6]])
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]
    assert classes == ["0", "1", "2"]


def test_no_header_detected(tmp_path):
    x, y = load_csv(write(tmp_path, "1,2,0\n3,4,1\n"))
    assert x.shape == (2, 2) and y.tolist() == [0, 1]


def test_float_labels_are_regression(tmp_path):
    x, y, classes = load_csv(write(tmp_path, "1,2,0.5\n3,4,1\n"), return_classes=True)
    assert y.dtype == np.float32 and classes is None


def test_string_labels_become_sorted_class_indices(tmp_path):
    text = 'sepal,petal,species\n1,2,"virginica"\n3,4,setosa\n5,6,virginica\n'
    x, y, classes = load_csv(write(tmp_path, text), label_column="species", return_classes=True)
    assert classes == ["setosa", "virginica"] and y.tolist() == [1, 0, 1]


def test_negative_integer_labels_are_remapped(tmp_path):
    _, y, classes = load_csv(write(tmp_path, "1,-1\n2,1\n3,-1\n"), return_classes=True)
    assert y.tolist() == [0, 1, 0] and classes == ["-1", "1"]


def test_label_column_position_and_delimiter(tmp_path):
    x, y = load_csv(write(tmp_path, "0;1.5;2\n1;2.5;3\n"), label_column=0, delimiter=";")
    assert y.tolist() == [0, 1] and x.tolist() == [[1.5, 2], [2.5, 3]]


def test_explicit_header_false_reads_a_numeric_first_row(tmp_path):
    x, _ = load_csv(write(tmp_path, "10,20,1\n3,4,0\n"), header=False)
    assert len(x) == 2
    x, _ = load_csv(write(tmp_path, "10,20,1\n3,4,0\n"), header=True)
    assert len(x) == 1


@pytest.mark.parametrize(
    "text, kwargs, problem",
    [
        ("", {}, "empty"),
        ("\n  \n", {}, "empty"),
        ("a,b,c\n", {}, "no data rows"),
        ("1,2,0\n3,4\n", {}, "line 2: 2 fields, expected 3"),
        ("a,b,y\n1,2,0\n\n3,x,1\n", {}, "line 4, column 2 \\(b\\): 'x' is not a finite number"),
        ("1,2,0\n3,,1\n", {}, "line 2, column 2 \\(column 2\\): an empty cell"),
        ("1,2,0\n3,nan,1\n", {}, "line 2, column 2.*'nan'"),
        ("1,2,0\n3,4,\n", {}, "line 2: the label is empty"),
        ("1,2,0\n", {"label_column": 5}, "label_column=5 is missing"),
        ("a,b\n1,2\n", {"label_column": "y"}, "no label column named 'y'"),
        ("1,2\n3,4\n", {"label_column": "y"}, "no label column named 'y'"),
        ("1\n2\n", {}, "at least one feature"),
    ],
)
def test_errors_name_the_file_line_and_problem(tmp_path, text, kwargs, problem):
    path = write(tmp_path, text, "bad.csv")
    with pytest.raises(DataError, match=problem) as info:
        load_csv(path, **kwargs)
    assert "bad.csv" in str(info.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_csv(tmp_path / "nope.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="UTF-8"):
        load_csv(tmp_path / "bin.csv")
