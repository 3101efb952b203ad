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


# ----------------------------------------------------------------------------- bounds (issue 15)
@pytest.mark.parametrize("label", ["1e30", "-1e30", "1000000000000000000000000000000", "inf"])
def test_a_huge_or_infinite_label_is_a_data_error(tmp_path, label):
    path = write(tmp_path, f"1,2,0.5\n3,4,{label}\n")
    with pytest.raises(DataError, match=r"line 2: the label .* (beyond|not a finite)"):
        load_csv(path)


def test_a_label_of_30_million_is_refused_by_the_class_bound(tmp_path):
    path = write(tmp_path, "1,2,0\n3,4,30000000\n")
    with pytest.raises(DataError, match="label 30000000 on line 2 .* limit of 10,000 classes"):
        load_csv(path)
    with pytest.raises(DataError, match="limit of 5 classes"):
        load_csv(write(tmp_path, "1,2,0\n3,4,5\n"), max_classes=5)
    # the same numbers written as floats are regression targets, and fine
    _, y, classes = load_csv(write(tmp_path, "1,2,0\n3,4,30000000.0\n"), return_classes=True)
    assert classes is None and y.tolist() == [0, 30000000]
    # and a regression column whose first values look like large integers
    _, y = load_csv(write(tmp_path, "1,2,30000000\n3,4,0.5\n"))
    assert y.dtype == np.float32


def test_too_many_distinct_text_labels_are_refused(tmp_path):
    text = "".join(f"{i},name{i}\n" for i in range(12))
    with pytest.raises(DataError, match="more than 10 distinct labels.*limit of 10 classes"):
        load_csv(write(tmp_path, text), max_classes=10)
    # numeric labels that vary a lot are regression targets, not classes
    text = "".join(f"{i},{i}.5\n" for i in range(30))
    _, y, classes = load_csv(write(tmp_path, text), max_classes=10, return_classes=True)
    assert classes is None and len(y) == 30


def test_a_huge_feature_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"line 2, column 1 .*'1e30' is not a finite number "
                                        r"within \+-1e\+18"):
        load_csv(write(tmp_path, "1,2,0\n1e30,4,1\n"))


def test_the_file_size_and_line_length_are_bounded(tmp_path):
    path = write(tmp_path, "1,2,0\n" * 100)
    with pytest.raises(DataError, match="600 bytes, more than the limit of 100"):
        load_csv(path, max_bytes=100)
    wide = write(tmp_path, ",".join(["1"] * 600_000) + "\n")
    with pytest.raises(DataError, match="a line longer than 1,048,576 characters"):
        load_csv(wide)


def test_many_rows_are_read_in_slices_with_the_right_line_numbers(tmp_path):
    rows = [f"{i},{i * 2},{i % 3}" for i in range(40_000)]
    rows[31_000] = "1,x,0"
    with pytest.raises(DataError, match="line 31001, column 2"):
        load_csv(write(tmp_path, "\n".join(rows) + "\n"))
    rows[31_000] = "1,2,0"
    x, y = load_csv(write(tmp_path, "\n".join(rows) + "\n"))
    assert x.shape == (40_000, 2) and x[39_999].tolist() == [39_999, 79_998]
    assert y[:4].tolist() == [0, 1, 2, 0]
