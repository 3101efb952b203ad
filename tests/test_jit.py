"""deepnum.jit: optional compiled kernels, turned on and off at run time."""

import numpy as np
import pytest

from deepnum import jit


@jit.kernel(parallel=True)
def _double_into(x, out):
    for i in jit.prange(x.shape[0]):
        out[i] = 2 * x[i]


@pytest.fixture
def restore_jit():
    before = jit.enabled()
    yield
    jit.enable(before)


def test_enable_and_disable(restore_jit):
    jit.enable(False)
    assert not jit.enabled()
    if jit.available():
        jit.enable(True)
        assert jit.enabled()
    else:
        with pytest.raises(RuntimeError, match="needs Numba"):
            jit.enable(True)


def test_kernel_compiles_on_first_call_and_keeps_its_docstring():
    pytest.importorskip("numba")
    assert _double_into.__name__ == "_double_into"
    x = np.arange(1000, dtype=np.float32)
    out = np.empty_like(x)
    _double_into(x, out)
    np.testing.assert_array_equal(out, 2 * x)
    assert _double_into.compiled is not None


def test_parallel_kernel_gives_the_same_result_on_any_number_of_threads():
    numba = pytest.importorskip("numba")
    x = np.random.default_rng(0).standard_normal(10_001)
    results = []
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        jit.set_num_threads(threads)
        out = np.empty_like(x)
        _double_into(x, out)
        results.append(out)
    jit.set_num_threads(1)
    np.testing.assert_array_equal(*results)


def test_more_threads_than_cores_are_capped():
    numba = pytest.importorskip("numba")
    jit.set_num_threads(10_000)
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    jit.set_num_threads(1)


def test_environment_variable_turns_the_kernels_off(monkeypatch, restore_jit):
    monkeypatch.setenv("DEEPNUM_JIT", "0")
    monkeypatch.setitem(jit._state, "enabled", None)  # decide again, as a new process would
    assert not jit.enabled()


def test_threading_layer_is_never_openmp():
    numba = pytest.importorskip("numba")
    x = np.ones(10)
    _double_into(x, np.empty_like(x))  # starts the pool
    assert numba.threading_layer() in ("tbb", "workqueue")


def test_parallel_kernels_can_be_launched_from_several_threads():
    pytest.importorskip("numba")
    import threading

    x = np.arange(50_000, dtype=np.float64)
    failures = []

    def work():
        out = np.empty_like(x)
        for _ in range(50):
            _double_into(x, out)
            if not np.array_equal(out, 2 * x):
                failures.append(out)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
