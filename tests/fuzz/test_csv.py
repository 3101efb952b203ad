"""Mutated CSV files: each loads as a well-formed table or raises a DataError naming the file,
never another exception; memory stays within a small multiple of the file's size, and no case
hangs."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepnum.data.csv import MAX_ABS_VALUE, load_csv
from deepnum.errors import DataError
from tests.fuzz import cases
from tests.fuzz._bounds import log_case, time_limit, traced_peak
from tests.fuzz.mutate import csv_mutant, raw_mutant

SEEDS = [
    b"x1,x2,label\n0.5,1.5,0\n-1,2,1\n3,4e-1,2\n0,0,1\n",  # header, integer classes
    b"sepal,petal,species\n1,2,setosa\n3,4,virginica\n5,6,setosa\n",  # text classes
    b"1.5,2,0.25\n3,4,-1.5\n5,6,7.75\n",  # regression, no header
    b"1,-1\n2,1\n3,-1\n4,1\n",  # -1/+1 labels
]
MAX_CLASSES = 100  # small, so that "too many classes" is reachable


def _check_table(x, y, classes):
    assert x.dtype == np.float32 and x.ndim == 2 and len(x) == len(y) > 0
    assert np.isfinite(x).all() and (np.abs(x) <= MAX_ABS_VALUE).all()
    if classes is None:
        assert y.dtype == np.float32 and np.isfinite(y).all()
    else:
        assert y.dtype == np.int64 and 0 < len(classes) <= MAX_CLASSES
        assert 0 <= y.min() and y.max() < len(classes)
        assert all(isinstance(c, str) for c in classes)


@settings(max_examples=cases(80), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data(), seed=st.sampled_from(SEEDS), structured=st.booleans(),
       header=st.sampled_from([None, True, False]), label=st.sampled_from([-1, 0, "label"]))
def test_every_mutant_csv_loads_or_raises_a_data_error(tmp_path_factory, data, seed, structured,
                                                       header, label):
    raw = data.draw(csv_mutant(seed) if structured else raw_mutant(seed))
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    path.write_bytes(raw)
    peak = []
    # a hang is a case past 30 s plus a minute a megabyte (tracemalloc slows parsing ~6x, and
    # the long runs share a busy machine)
    seconds = 30 + 60 * len(raw) / 2**20
    with time_limit(seconds, (len(raw), raw[:300], header, label)), traced_peak(peak):
        try:
            table = load_csv(path, label_column=label, header=header, return_classes=True,
                             max_classes=MAX_CLASSES)
        except DataError as error:
            assert str(path) in str(error)
            table = None
    log_case(test="csv", size=len(raw), peak=peak[0], loaded=table is not None)
    if table is not None:
        _check_table(*table)
    # the rows stream through in 256 KiB slices: their Python strings are a constant, the
    # arrays (4-byte features, 12 bytes of label per row) a small multiple of the file
    assert peak[0] <= 12 * len(raw) + (16 << 20), (peak[0], len(raw))
