"""Mutated MNIST files, raw and gzipped: loading gives consistent arrays or a DataError naming
the file, never another exception; memory stays within what the file can hold (its size raw,
what deflate can inflate from it gzipped), and no case hangs -- a gzip bomb included."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepnum.data.idx import read_idx
from deepnum.data.mnist import MNIST, load_mnist
from deepnum.errors import DataError
from tests.fuzz import cases
from tests.fuzz._bounds import log_case, time_limit, traced_peak
from tests.fuzz.mutate import gzip_mutant, idx_bytes, idx_mutant, raw_mutant

rng = np.random.default_rng(0)
IMAGES = idx_bytes(rng.integers(0, 256, (3, 28, 28)).astype(np.uint8))
LABELS = idx_bytes(np.array([7, 2, 1], np.uint8))
FLOATS = idx_bytes(rng.standard_normal((4, 5)).astype(np.float32), code=0x0D)
SEEDS = {"images": IMAGES, "labels": LABELS, "floats": FLOATS}


def _mutant(data, raw: bytes) -> tuple[bytes, bool]:
    """(file bytes, gzipped?)"""
    raw = data.draw(st.one_of(idx_mutant(raw), raw_mutant(raw), st.just(raw)))
    if data.draw(st.booleans()):
        return data.draw(gzip_mutant(raw)), True
    return raw, False


def _bound(size: int, gzipped: bool) -> int:
    """What one read may allocate: the inflated bound for gzip (deflate's 1032:1), the file's
    size raw; plus the 1 MiB inflation chunk and a little."""
    return (1032 * size if gzipped else 2 * size) + (4 << 20)


@settings(max_examples=cases(120), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data(), kind=st.sampled_from(sorted(SEEDS)))
def test_every_mutant_idx_file_reads_or_raises_a_data_error(tmp_path_factory, data, kind):
    raw, gzipped = _mutant(data, SEEDS[kind])
    path = tmp_path_factory.mktemp("idx") / ("x.gz" if gzipped else "x")
    path.write_bytes(raw)
    expected = data.draw(st.sampled_from([None, (None, 28, 28), (None,)]))
    peak = []
    with time_limit(20, (len(raw), raw[:100])), traced_peak(peak):
        try:
            array = read_idx(path, expected_shape=expected)
        except DataError as error:
            assert str(path) in str(error)
            array = None
    log_case(test="idx", size=len(raw), gzipped=gzipped, peak=peak[0], loaded=array is not None)
    if array is not None:
        assert array.dtype.isnative and array.nbytes <= _bound(len(raw), gzipped)
        if expected is not None:
            assert array.ndim == len(expected)
    assert peak[0] <= _bound(len(raw), gzipped), (peak[0], len(raw), gzipped)


@settings(max_examples=cases(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data(), which=st.sampled_from(["images", "labels"]))
def test_every_mutant_mnist_split_loads_or_raises_a_data_error(tmp_path_factory, data, which):
    """One of the two files of MNIST's test split mutated, the other intact."""
    folder = tmp_path_factory.mktemp("mnist")
    images_file, labels_file = MNIST.files["test"]
    raw, gzipped = _mutant(data, SEEDS[which])
    for name, content in ((images_file.name, IMAGES), (labels_file.name, LABELS)):
        if name == (images_file if which == "images" else labels_file).name:
            content = raw
            name += ".gz" if gzipped else ""
        (folder / name).write_bytes(content)
    with time_limit(20, (len(raw), raw[:100])):
        try:
            images, labels = load_mnist("test", data_dir=folder, normalize=True)
        except DataError:
            log_case(test="mnist", size=len(raw), gzipped=gzipped, loaded=False)
            return
    log_case(test="mnist", size=len(raw), gzipped=gzipped, loaded=True)
    assert images.shape[1:] == (28, 28) and images.dtype == np.float32
    assert len(images) == len(labels) and labels.dtype == np.int64
    assert 0 <= images.min() and images.max() <= 1
    assert labels.size == 0 or (0 <= labels.min() and labels.max() <= 9)
