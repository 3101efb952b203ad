"""deepnum.jit: optional compiled kernels, turned on and off at run time."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepnum import jit


@jit.kernel("x[n] out[n]", parallel=True)
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


# ---------------------------------------------------------------- the guard in front of kernels
def _f(*shape, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


def _kernel_calls():
    """(kernel, arguments that fit it, what to break) for every compiled kernel in deepnum."""
    from deepnum.fast import conv_kernels, pool
    from deepnum.fast import optim as updates

    s = np.float32(0.5)
    one_d = (_f(8), _f(8), _f(8))
    pool_geometry = (2, 2, 2, 2, 0, 0, 1, 1)
    yield (updates._sgd_momentum_kernel, one_d + (s, s, s, s, False, False, False), 2, _f(4))
    yield (updates._adam_kernel, (_f(8),) * 5 + (s,) * 9 + (False,) * 4, 4, _f(7))
    yield (conv_kernels.bias_relu, (_f(3, 10), _f(3), True, True, s), 1, _f(2))
    yield (conv_kernels.relu_grad, (_f(3, 10), _f(3, 10), _f(3, 10), s, s), 2, _f(3, 9))
    yield (conv_kernels.col2im, (_f(2, 3, 3, 4, 4, 5), _f(2, 6, 6, 5), 1, 1, 1, 1, 0, 0), 1,
           _f(2, 6, 6, 4))
    yield (conv_kernels.im2col_block,
           (_f(2, 6, 6, 5), _f(360), _f(18, 7), 0, 1, 1, 1, 1, 0, 0, 3, 3, 4, 4), 2, _f(17, 7))
    yield (conv_kernels.im2col_block,  # columns past the end of the matrix
           (_f(2, 6, 6, 5), _f(360), _f(18, 7), 73, 1, 1, 1, 1, 0, 0, 3, 3, 4, 4), 3, 74)
    yield (conv_kernels.im2col_block,  # a flat view shorter than the image
           (_f(2, 6, 6, 5), _f(360), _f(18, 7), 0, 1, 1, 1, 1, 0, 0, 3, 3, 4, 4), 1, _f(359))
    yield (conv_kernels.col2im, (_f(2, 3, 3, 4, 4, 5), _f(2, 6, 6, 5), 1, 1, 1, 1, 0, 0), 2, 0)
    pooled = (_f(4, 3, 3, 5), np.zeros((4, 3, 3, 5), np.uint8))
    yield (pool._max_pool_kernel, (_f(4, 6, 6, 5),) + pooled + pool_geometry +
           (_f(4), False, False), 11, _f(3))
    for route in (pool._max_pool_route_kernel, pool._max_pool_scatter_kernel):
        args = (_f(4, 3, 3, 5), pooled[1], _f(4, 6, 6, 5)) + pool_geometry + \
            (_f(4, 3, 3, 5), False, s, s)
        yield route, args, 1, np.zeros((4, 3, 2, 5), np.uint8)
        yield route, args, 2, _f(3, 6, 6, 5)


KERNEL_CALLS = list(_kernel_calls())


@pytest.mark.parametrize("kernel, args, position, bad", KERNEL_CALLS,
                         ids=[f"{k.__name__}-{p}" for k, _, p, _ in KERNEL_CALLS])
def test_every_kernel_refuses_arrays_that_do_not_fit_before_running(kernel, args, position,
                                                                    bad):
    kernel.contract.check(args)  # the fitting call passes the guard
    broken = args[:position] + (bad,) + args[position + 1:]
    with pytest.raises(jit.KernelArgumentError, match=kernel.__name__):
        kernel(*broken)


def test_the_guard_refuses_wrong_dtypes_layouts_and_non_arrays():
    x = np.arange(8, dtype=np.float64)
    for bad, why in ((x.astype(np.int64), "float32 or float64"), (x[::2].copy()[:4], "'n' axis"),
                     (np.arange(16.0)[::2], "C-contiguous"), ([0.0] * 8, "1-D array"),
                     (x.reshape(2, 4), "1-D array")):
        with pytest.raises(jit.KernelArgumentError, match=why):
            _double_into(x, bad)


def test_a_contract_must_name_the_kernels_parameters():
    with pytest.raises(TypeError, match="contract names 'y'"):
        jit.kernel("y[n]")(lambda x: None)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data())
def test_the_fast_guard_refuses_exactly_what_the_contract_walk_refuses(data):
    """check() (flat lists made once) and check_slowly() (the contract read as written) agree on
    every call: random shapes, dtypes, layouts and scalars for every kernel's arguments."""
    kernel, args, _, _ = data.draw(st.sampled_from(KERNEL_CALLS))
    args = list(args)
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray) and data.draw(st.booleans()):
            shape = tuple(data.draw(st.integers(0, 4)) if data.draw(st.booleans()) else s
                          for s in a.shape[:data.draw(st.integers(a.ndim - 1, a.ndim))])
            dtype = data.draw(st.sampled_from([a.dtype, np.float64, np.int64, np.uint8]))
            args[i] = np.zeros(shape, dtype)
            if args[i].ndim and data.draw(st.booleans()):
                args[i] = np.zeros(shape[:-1] + (2 * shape[-1],), dtype)[..., ::2]
        elif isinstance(a, (int, np.integer)) and not isinstance(a, bool) and data.draw(
                st.booleans()):
            args[i] = data.draw(st.integers(-2, 80))
    outcomes = []
    for check in (kernel.contract.check, kernel.contract.check_slowly):
        try:
            check(tuple(args))
            outcomes.append(None)
        except jit.KernelArgumentError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1]
