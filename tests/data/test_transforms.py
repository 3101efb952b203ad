import numpy as np
import pytest

from deepnum.data.transforms import MinMaxScale, Standardize
from deepnum.errors import DataError


def test_standardize_and_its_inverse():
    x = np.array([[1, 10, 5], [3, 20, 5], [5, 30, 5]], dtype=np.float32)
    scaler = Standardize().fit(x)
    z = scaler.transform(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(z.std(axis=0), [1, 1, 0], atol=1e-6)  # the constant column -> 0
    assert np.isfinite(z).all()
    np.testing.assert_allclose(scaler.inverse_transform(z), x, rtol=1e-6)
    assert scaler.mean.shape == (1, 3) and scaler.std[0, 2] == 1


def test_min_max_scale_to_a_range_without_dividing_by_zero():
    x = np.array([[0, 2, 7], [10, 4, 7]], dtype=np.float64)
    scaler = MinMaxScale(feature_range=(-1, 1))
    y = scaler.fit_transform(x)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, [[-1, -1, -1], [1, 1, -1]])
    np.testing.assert_allclose(scaler.inverse_transform(y), x)


def test_per_channel_statistics_for_images():
    scales = np.array([1, 10, 100], dtype=np.float32)[:, None, None]
    x = np.random.default_rng(0).random((8, 3, 4, 4)).astype(np.float32) * scales + scales
    scaler = Standardize(axis=(0, 2, 3)).fit(x)
    assert scaler.mean.shape == (1, 3, 1, 1)
    z = scaler.transform(x)
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-5)


def test_uint8_input_becomes_float32_and_state_round_trips():
    x = np.array([[0], [255]], dtype=np.uint8)
    scaler = MinMaxScale().fit(x)
    assert scaler.transform(x).dtype == np.float32
    other = MinMaxScale()
    other.load_state_dict(scaler.state_dict())
    np.testing.assert_allclose(other.transform(x), [[0], [1]])


def test_errors():
    with pytest.raises(DataError, match="fit"):
        Standardize().transform(np.ones(3))
    with pytest.raises(DataError, match="low < high"):
        MinMaxScale(feature_range=(1, 1))
    with pytest.raises(DataError, match="empty"):
        Standardize().fit(np.zeros((0, 2)))
