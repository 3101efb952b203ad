"""Bounds on what one fuzz case may cost: peak memory, and time (a case past its time limit is a
hang, reported as a failure of that case).

ru_maxrss only grows, so checking it after every case bounds every case's peak: if one case
had taken more, the check right after it would fail. C allocations (Pillow's pixels, zlib's
buffers, NumPy's arrays) count too, which tracemalloc would miss.
"""

import json
import os
import resource
import signal
import tracemalloc
from contextlib import contextmanager


def peak_rss() -> int:
    """The process's peak resident memory so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakBound:
    """``check()`` fails once the process's peak memory is more than ``allowance`` bytes above
    what it was when the bound was made (the first case's own baseline included)."""

    def __init__(self, allowance: int):
        self.start, self.allowance = peak_rss(), allowance

    def check(self, what: str = "") -> None:
        grown = peak_rss() - self.start
        assert grown <= self.allowance, (
            f"peak memory grew by {grown / 2**20:.0f} MiB (bound {self.allowance / 2**20:.0f} "
            f"MiB) {what}")


class Hang(BaseException):  # not an Exception: no `except Exception` in the code under test eats it
    """A fuzz case ran past its time limit."""


@contextmanager
def time_limit(seconds: float, case=""):
    """Raise Hang in the block after ``seconds`` (SIGALRM; the main thread only), naming the
    ``case`` (hypothesis does not shrink or print a BaseException's example)."""
    def expire(signum, frame):
        raise Hang(f"the case ran for more than {seconds} s: {str(case)[:500]}")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def traced_peak(result: list):
    """Append the peak of Python and NumPy allocations inside the block (tracemalloc) to
    ``result``."""
    tracemalloc.start()
    try:
        yield
    finally:
        result.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


LOG = os.environ.get("DEEPNUM_FUZZ_LOG")  # a file to record each case in (the long runs)


def log_case(**fields) -> None:
    """Append one JSON line about a case to $DEEPNUM_FUZZ_LOG, if set (for the measurements
    reported from the long runs: outcomes, peak memory against input size)."""
    if LOG:
        with open(LOG, "a") as log:
            log.write(json.dumps({**fields, "peak_rss": peak_rss()}, default=str) + "\n")
