import numpy as np
import pytest

from deepnum.data.toy import (
    REGRESSION,
    TOY_DATASETS,
    make_circle,
    make_gauss,
    make_multi_gauss,
    make_plane,
    make_spiral,
    make_xor,
)
from deepnum.errors import DataError
from deepnum.random import get_rng, manual_seed


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_shapes_dtypes_and_range(name):
    x, y = TOY_DATASETS[name](n=301, noise=0.5, seed=3)
    assert x.shape == (301, 2) and x.dtype == np.float32
    assert y.shape == (301,)
    assert np.abs(x).max() <= 6
    if name in REGRESSION:
        assert y.dtype == np.float32
    else:
        assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_deterministic_by_seed_whatever_the_global_stream(name):
    make = TOY_DATASETS[name]
    manual_seed(1)
    a = make(n=100, noise=0.2, seed=7)
    get_rng().random(1000)  # someone else used the global stream
    b = make(n=100, noise=0.2, seed=7)
    c = make(n=100, noise=0.2, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("make", [make_spiral, make_gauss])
@pytest.mark.parametrize("k", [2, 3, 7])
def test_any_number_of_classes(make, k):
    x, y = make(n=10 * k + 1, seed=0, num_classes=k)
    counts = np.bincount(y)
    assert len(counts) == k and counts.max() - counts.min() <= 1


def test_noise_free_labels_follow_the_playground_rules():
    x, y = make_circle(400, seed=0)
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius[y == 1].max() <= 2.5 and radius[y == 0].min() >= 3.5
    x, y = make_xor(400, seed=0)
    assert np.all((x[:, 0] * x[:, 1] >= 0) == (y == 1)) and np.abs(x).min() >= 0.3
    x, y = make_plane(200, seed=0)
    np.testing.assert_allclose(y, x.sum(axis=1) / 10, atol=1e-6)
    x, y = make_multi_gauss(500, seed=0)
    assert -1 <= y.min() < 0 < y.max() <= 1


def test_two_class_gauss_and_spiral_match_the_playground_geometry():
    x, y = make_gauss(2000, seed=0)
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [2, 2], atol=0.1)  # positive class
    np.testing.assert_allclose(x[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    x, y = make_spiral(200, seed=0)
    # Each arm starts at the origin and ends at radius 5 after 1.75 turns.
    assert np.hypot(*x.T).max() < 5


def test_noise_moves_labels_or_points():
    clean = make_circle(500, noise=0.0, seed=1)
    noisy = make_circle(500, noise=0.5, seed=1)
    assert (clean[1] != noisy[1]).any()
    assert make_gauss(500, noise=0.5, seed=0)[0].std() > make_gauss(500, noise=0, seed=0)[0].std()


@pytest.mark.parametrize(
    "call, problem",
    [
        (lambda: make_circle(10, num_classes=3), "exactly 2 classes"),
        (lambda: make_xor(10, num_classes=3), "exactly 2 classes"),
        (lambda: make_spiral(10, num_classes=1), "num_classes"),
        (lambda: make_spiral(10, noise=25), "fraction"),
        (lambda: make_plane(0), "positive integer"),
        (lambda: make_gauss(2.5), "positive integer"),
    ],
)
def test_bad_arguments(call, problem):
    with pytest.raises(DataError, match=problem):
        call()
