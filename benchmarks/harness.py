"""Timing, memory and machine facts shared by every benchmark case.

A case hands :func:`interleave` a few *contenders* (name -> callable that runs the workload once;
the builders do all set-up before handing it over, so set-up is never timed). The contenders run
round-robin, one after the other, for warm-up + repeats rounds, so that a burst of load from
other processes on a shared machine hits all of them alike; the table shows the median round.
"""

from __future__ import annotations

import gc
import importlib.metadata
import json
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (what `uptime` prints)."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux/macOS
        return (float("nan"),) * 3


def set_threads(num_threads: int) -> dict:
    """Give NumPy's BLAS, deepnum's compiled kernels and PyTorch the same number of threads;
    report what each ended up with (and whether deepnum's kernels are on)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from deepnum import jit

    threadpool_limits(num_threads)  # kept for the whole process: no context manager
    jit.set_num_threads(num_threads)  # deepnum's compiled kernels (Numba): the same, capped
    info = {"requested": num_threads,
            "numpy_blas": [(p["internal_api"], p["num_threads"]) for p in threadpool_info()],
            "deepnum_jit": jit_facts()}
    try:
        import torch

        torch.set_num_threads(num_threads)
        info["torch"] = torch.get_num_threads()
        info["torch_interop"] = torch.get_num_interop_threads()
    except ImportError:  # pragma: no cover - torch is a test dependency
        info["torch"] = None
    return info


def jit_facts() -> dict:
    """Whether deepnum's compiled kernels are on, their thread count and Numba's threading layer
    (known once a parallel kernel has run; before that, the configured choice)."""
    from deepnum import jit

    if not jit.available():
        return {"enabled": False, "numba": None}
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        layer = f"not started (config {numba.config.THREADING_LAYER})"
    return {"enabled": jit.enabled(), "threads": numba.get_num_threads(), "threading_layer": layer}


def machine_facts() -> dict:
    facts = {"python": platform.python_version(), "numpy": np.__version__,
             "cpu_count": os.cpu_count(), "machine": platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            facts["cpu"] = next((ln.split(":", 1)[1].strip() for ln in f
                                 if ln.startswith("model name")), "?")
    except OSError:  # pragma: no cover
        pass
    for package in ("torch", "scikit-learn", "threadpoolctl", "numba"):
        try:  # the installed version, without paying for an import
            facts[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            facts[package] = None
    return facts


# Seconds of rest before each timed contender. A BLAS's or an OpenMP/TBB pool's workers spin for
# a while after their last task (NumPy's OpenBLAS up to ~0.1 s), taking a core from whatever runs
# next in the process: measured on a 2-core AMD EPYC at 2 threads, PyTorch's 300 batch-32 MLP
# steps took 0.65 s right after deepnum's and 0.47 s once OpenBLAS spun only briefly. After the
# rest each contender starts as it would alone; its own pools' spinning during its run is its own.
COOL_DOWN_S = 0.3


def interleave(contenders: dict[str, Callable[[], object]], repeats: int, warmup: int = 1,
               calls: int = 1) -> dict[str, dict]:
    """Run the contenders round-robin (each round: every contender ``calls`` times in a row,
    after ``COOL_DOWN_S`` of rest).

    Returns per contender the timed rounds' wall-clock seconds per call, their median and minimum,
    the median process CPU seconds per call (all threads; steadier than wall time when other
    programs load the machine, but it also counts BLAS threads spinning while they wait for work),
    and the median 1-minute load average over the rounds.
    """
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    loads = []
    gc.collect()
    gc.freeze()  # the libraries' and models' objects: never scanned again, so collect() is quick
    for round_index in range(warmup + repeats):
        # alternate the order so neither side always runs right after the other's garbage
        names = list(contenders) if round_index % 2 == 0 else list(reversed(contenders))
        for name in names:
            fn = contenders[name]
            gc.collect()  # no collection of an earlier round's garbage inside the timing
            if COOL_DOWN_S:
                time.sleep(COOL_DOWN_S)  # the previous contender's thread pools go idle
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(calls):
                fn()
            t1, c1 = time.perf_counter(), time.process_time()
            if round_index >= warmup:
                wall[name].append((t1 - t0) / calls)
                cpu[name].append((c1 - c0) / calls)
        loads.append(load_average()[0])
    gc.unfreeze()
    return {name: {"median_s": statistics.median(ts), "min_s": min(ts),
                   "cpu_median_s": statistics.median(cpu[name]), "samples_s": ts,
                   "load_avg_1min": statistics.median(loads)}
            for name, ts in wall.items()}


def timed_loop(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call of ``fn`` over ``calls`` back-to-back calls (for latencies)."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


# ---------------------------------------------------------------------------- memory
def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # Linux: reset VmHWM (the peak RSS) to the current RSS
        return True
    except OSError:  # pragma: no cover
        return False


def peak_memory(fn: Callable[[], object], use_tracemalloc: bool) -> dict:
    """Peak memory of one call of ``fn``.

    ``tracemalloc_peak_mib``: the peak of Python + NumPy allocations traced by tracemalloc (NumPy
    reports its array buffers to it; PyTorch does not, so it is only taken for NumPy code).
    ``rss_peak_delta_mib``: the peak resident set size during the call minus the RSS before it
    (Linux VmHWM, reset through /proc/self/clear_refs): taken for every contender, it also counts
    library workspaces, but under-counts memory that the allocator reuses from earlier frees.
    """
    out = {}
    if _reset_peak_rss():
        before = _status_kib("VmRSS")
    else:  # pragma: no cover
        before = None
    if use_tracemalloc:
        tracemalloc.start()
        tracemalloc.reset_peak()
    try:
        fn()
    finally:
        if use_tracemalloc:
            out["tracemalloc_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
            tracemalloc.stop()
    if before is not None:
        out["rss_peak_delta_mib"] = round((_status_kib("VmHWM") - before) / 1024, 2)
    return out


# ---------------------------------------------------------------------------- matmul peak
def matmul_peak_gflops(size: int = 1024, calls: int = 10, rounds: int = 5) -> dict:
    """The machine's float32 matrix-multiply rate through NumPy's BLAS: 2 n^3 flops per n x n
    product, best and median of ``rounds`` timings (best = the least disturbed by other load)."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    rates = []
    for _ in range(rounds):
        seconds = timed_loop(lambda: np.matmul(a, b, out=out), calls)
        rates.append(2 * size**3 / seconds / 1e9)
    return {"size": size, "best_gflops": round(max(rates), 1),
            "median_gflops": round(statistics.median(rates), 1), "load_avg_1min": load_average()[0]}


def write_results(result: dict, path: str | None, prefix: str, started) -> str:
    """Write a run's results as JSON to ``path``, or to benchmarks/results/PREFIX-DATE.json."""
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                f"{prefix}-{started:%Y%m%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1, default=str)
    print(f"\nresults written to {path}")
    return path
