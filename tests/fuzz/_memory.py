"""Peak memory of the fuzzing process, for the fuzz tests' bound on what one input may cost.

ru_maxrss only grows, so checking it after every case bounds every case's peak: if one case
had taken more, the check right after it would fail. C allocations (Pillow's pixels, zlib's
buffers, NumPy's arrays) count too, which tracemalloc would miss.
"""

import resource


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
