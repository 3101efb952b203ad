import gzip
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepnum.data.idx import IDX_DTYPES, read_idx, write_idx
from deepnum.errors import DataError, DeepnumError

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def test_reads_the_real_mnist_test_files(mnist_dir):
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz", expected_shape=(None, 28, 28))
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", expected_ndim=1)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    # The published class counts of the MNIST test set, and its first labels.
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert images.max() == 255 and images.min() == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip_every_dtype(tmp_path, dtype, name):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert (tmp_path / name).read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\0\0")


def test_every_spec_dtype_code_is_covered():
    assert sorted(IDX_DTYPES) == [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(0, 4), min_size=1, max_size=4),
    dtype=st.sampled_from(DTYPES),
    gz=st.booleans(),
)
def test_round_trip_property(tmp_path_factory, shape, dtype, gz):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path_factory.mktemp("idx") / ("x.gz" if gz else "x")
    write_idx(path, array)
    np.testing.assert_array_equal(read_idx(path), array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.int16)
    write_idx(tmp_path / "x.gz", array)
    (tmp_path / "x.gz").rename(tmp_path / "misnamed-idx1-ubyte")  # gzip data, no .gz suffix
    np.testing.assert_array_equal(read_idx(tmp_path / "misnamed-idx1-ubyte"), array)
    write_idx(tmp_path / "raw", array)
    (tmp_path / "raw").rename(tmp_path / "raw.gz")  # raw data, .gz suffix
    np.testing.assert_array_equal(read_idx(tmp_path / "raw.gz"), array)


def _raw(tmp_path, data: bytes, name="bad-idx3-ubyte"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


HEADER_2x3 = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")


@pytest.mark.parametrize(
    "data, problem",
    [
        (HEADER_2x3 + bytes(5), "truncated"),
        (HEADER_2x3 + bytes(7), "oversized"),
        (b"\x01\x00\x08\x01" + bytes(8), "magic"),
        (b"<htm", "magic"),  # an HTML error page saved under the right name
        (bytes([0, 0, 0x0A, 1]) + bytes(8), "dtype code 0x0A"),
        (bytes([0, 0, 0x08, 3]) + (2).to_bytes(4, "big"), "dimension"),
        (bytes([0, 0, 0x08, 0]), "0 dimensions"),
        (b"\0\0", "too short"),
        (b"", "too short"),
    ],
)
def test_corrupt_files_raise_data_error_naming_the_file(tmp_path, data, problem):
    path = _raw(tmp_path, data)
    with pytest.raises(DataError, match=problem) as info:
        read_idx(path)
    assert path.name in str(info.value)
    assert isinstance(info.value, DeepnumError)


def test_gzipped_truncated_file_is_reported(tmp_path):
    path = _raw(tmp_path, gzip.compress(HEADER_2x3 + bytes(3)), "t.gz")
    with pytest.raises(DataError, match="truncated.*shape \\(2, 3\\)"):
        read_idx(path)


@pytest.mark.parametrize("cut", [10, -10])
def test_corrupt_gzip_is_reported(tmp_path, cut):
    good = gzip.compress(HEADER_2x3 + bytes(6))
    path = _raw(tmp_path, good[:cut], "c.gz")  # cut short, or missing its CRC trailer
    with pytest.raises(DataError, match="corrupt gzip") as info:
        read_idx(path)
    assert "c.gz" in str(info.value)


def test_gzip_with_a_flipped_byte_is_reported(tmp_path):
    data = bytearray(gzip.compress(HEADER_2x3 + bytes(range(6))))
    data[12] ^= 0xFF
    with pytest.raises(DataError, match="corrupt gzip"):
        read_idx(_raw(tmp_path, bytes(data), "f.gz"))


def test_declared_sizes_that_overflow_int64_are_refused(tmp_path):
    huge = (2**32 - 1).to_bytes(4, "big")
    path = _raw(tmp_path, bytes([0, 0, 0x0E, 3]) + huge * 3 + bytes(8))
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nope.gz")


def test_expected_shape_catches_a_mislabelled_file(tmp_path, mnist_dir):
    with pytest.raises(DataError, match="mislabelled") as info:
        read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", expected_shape=(None, 28, 28))
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value) and "(N, 28, 28)" in str(info.value)
    write_idx(tmp_path / "small", np.zeros((3, 8, 8), np.uint8))
    with pytest.raises(DataError, match="shape \\(3, 8, 8\\)"):
        read_idx(tmp_path / "small", expected_shape=(None, 28, 28))
    with pytest.raises(DataError, match="1-D"):
        read_idx(tmp_path / "small", expected_ndim=1)


def test_write_rejects_what_idx_cannot_store(tmp_path):
    with pytest.raises(DataError, match="int64"):
        write_idx(tmp_path / "x", np.arange(3))
    with pytest.raises(DataError, match="0-D"):
        write_idx(tmp_path / "x", np.uint8(3))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_big_endian_input_is_written_correctly(tmp_path):
    array = np.arange(5, dtype=">i4")
    write_idx(tmp_path / "be", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "be"), [0, 1, 2, 3, 4])


# ----------------------------------------------------------------------------- bounds (issue 15)
def _gzip_of_zeros(path, header: bytes, zeros: int) -> None:
    """A gzip file of ``header`` then ``zeros`` zero bytes, written without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip wrapper
    with open(path, "wb") as out:
        out.write(compressor.compress(header))
        block = bytes(1 << 20)
        for _ in range(zeros >> 20):
            out.write(compressor.compress(block))
        out.write(compressor.compress(bytes(zeros & ((1 << 20) - 1))))
        out.write(compressor.flush())


def test_a_gzip_bomb_is_refused_while_inflating(tmp_path):
    """A 100 KB gzip whose header declares 6 bytes but which inflates to 100 MB: reading stops
    at the 7th byte, having allocated (and inflated) next to nothing."""
    path = tmp_path / "bomb-idx3-ubyte.gz"
    _gzip_of_zeros(path, HEADER_2x3, 100 << 20)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="oversized.*more data follow"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak


def test_a_header_declaring_more_than_the_gzip_can_hold_is_refused_before_allocating(tmp_path):
    # 4 GiB declared in a file of a few hundred bytes: deflate cannot inflate that much from it
    header = bytes([0, 0, 0x08, 3]) + (2**16).to_bytes(4, "big") * 2 + (2**0).to_bytes(4, "big")
    path = tmp_path / "big-idx3-ubyte.gz"
    _gzip_of_zeros(path, header, 1 << 16)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"declares shape \(65536, 65536, 1\), 4,294,967,296"
                                            r" data bytes: more than what this gzip"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


def test_max_bytes_bounds_raw_and_gzip_files(tmp_path):
    array = np.zeros((10, 10), np.uint8)
    for name in ("a.idx", "a.idx.gz"):
        write_idx(tmp_path / name, array)
        with pytest.raises(DataError, match="100 data bytes: more than .*max_bytes.* \\(99\\)"):
            read_idx(tmp_path / name, max_bytes=99)
        assert read_idx(tmp_path / name, max_bytes=100).shape == (10, 10)


def test_a_multi_member_gzip_is_read_whole(tmp_path):
    data = HEADER_2x3 + bytes(range(6))
    path = _raw(tmp_path, gzip.compress(data[:7]) + gzip.compress(data[7:]), "m.gz")
    assert read_idx(path).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_a_directory_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        read_idx(tmp_path)


def test_more_dimensions_than_numpy_has_are_a_data_error(tmp_path):
    """Found by the long fuzz run: 255 dimensions, one of them 0 (so no data), gzipped."""
    header = bytes([0, 0, 0x08, 255]) + bytes(4) + (1).to_bytes(4, "big") * 254
    for name, data in (("d", header), ("d.gz", gzip.compress(header))):
        with pytest.raises(DataError, match="declares 255 dimensions; deepnum reads at most 32"):
            read_idx(_raw(tmp_path, data, name))


def test_an_empty_shape_whose_other_sizes_overflow_is_a_data_error(tmp_path):
    """Found by the long fuzz run: (0, 2**32 - 1, 2**32 - 1) holds no data, yet NumPy refuses
    the shape ("array is too big")."""
    header = bytes([0, 0, 0x0E, 3]) + bytes(4) + (2**32 - 1).to_bytes(4, "big") * 2
    for name, data in (("e", header), ("e.gz", gzip.compress(header))):
        with pytest.raises(DataError, match="which NumPy cannot hold"):
            read_idx(_raw(tmp_path, data, name))
    assert read_idx(_raw(tmp_path, bytes([0, 0, 0x08, 2]) + bytes(4) + (5).to_bytes(4, "big"),
                         "ok")).shape == (0, 5)
