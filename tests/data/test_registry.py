import numpy as np
import pytest

from deepnum.data.registry import DATASETS, DataSplits, available_datasets, load_dataset
from deepnum.data.toy import TOY_DATASETS
from deepnum.errors import DataError


def test_registry_names():
    assert {"digits", "mnist", "fashion-mnist", "mnist-test"} | set(TOY_DATASETS) == set(DATASETS)


def test_digits_as_images():
    pytest.importorskip("sklearn")
    data = load_dataset("digits")
    assert isinstance(data, DataSplits)
    assert data.x_train.shape == (1438, 1, 8, 8) and data.x_train.dtype == np.float32
    assert data.input_shape == (1, 8, 8) and data.num_classes == 10 and data.num_outputs == 10
    assert data.task == "classification" and data.class_names[3] == "3"
    assert "digits" in repr(data) and len(repr(data)) < 200  # no arrays printed


def test_mnist_test_is_a_seeded_80_20_split(mnist_dir):
    data = load_dataset("mnist-test", data_dir=mnist_dir)
    assert data.x_train.shape == (8000, 1, 28, 28) and data.x_test.shape == (2000, 1, 28, 28)
    assert data.x_train.dtype == np.float32 and 0 <= data.x_train.min() < data.x_train.max() <= 1
    assert data.y_train.dtype == np.int64 and data.num_classes == 10
    again = load_dataset("mnist-test", data_dir=mnist_dir)
    np.testing.assert_array_equal(data.y_test, again.y_test)


def test_mnist_without_the_train_split_says_so(mnist_dir):
    with pytest.raises(DataError, match="train split is missing"):
        load_dataset("mnist", data_dir=mnist_dir)


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_toy_sets(name):
    data = load_dataset(name, seed=1, n=200)
    assert data.input_shape == (2,) and len(data.x_train) + len(data.x_test) == 200
    if data.task == "regression":
        assert data.num_classes == 0 and data.num_outputs == 1 and data.y_train.dtype == np.float32
    else:
        assert data.num_classes == 2 and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_test, load_dataset(name, seed=1, n=200).x_test)


def test_toy_options_are_forwarded_and_checked():
    assert load_dataset("spiral", num_classes=4, noise=0.1).num_classes == 4
    with pytest.raises(DataError, match="no option num_classes.*n, noise"):
        load_dataset("plane", num_classes=3)


def test_csv(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"{i},{i % 3},{['a', 'b'][i % 2]}" for i in range(20)]
    path.write_text("x1,x2,kind\n" + "\n".join(rows) + "\n")
    data = load_dataset(f"csv:{path}", test_fraction=0.25)
    assert data.input_shape == (2,) and data.class_names == ["a", "b"]
    assert len(data.x_test) == 6 and data.name == f"csv:{path}"  # 3 of each class, stratified
    with pytest.raises(DataError, match="no option bogus"):
        load_dataset(f"csv:{path}", bogus=1)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(DataError, match="unknown data set 'mnsit'.*digits.*spiral.*csv:PATH"):
        load_dataset("mnsit")


def test_available_datasets(mnist_dir):
    rows = {row.name: row for row in available_datasets(data_dir=mnist_dir)}
    assert rows["mnist-test"].available and str(mnist_dir) in rows["mnist-test"].where
    assert not rows["mnist"].available and "missing the train split" in rows["mnist"].where
    assert rows["spiral"].available and rows["csv:PATH"].available
    name, available, where = rows["digits"]  # rows unpack as plain tuples
    assert name == "digits"
    # The MNIST files in data_dir are never counted as Fashion-MNIST.
    assert str(mnist_dir) not in rows["fashion-mnist"].where
