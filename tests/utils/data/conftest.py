import gc
import multiprocessing

import pytest


@pytest.fixture(autouse=True)
def no_worker_processes_left():
    """After each test, no DataLoader worker (ours or torch's) outlives it. An iterator kept in a
    reference cycle (an exception's traceback) stops its workers only when collected; forked
    workers left running hold copies of the parent's pipes, e.g. to the Playwright driver that
    a browser test of the same pytest worker started, whose shutdown then waits forever."""
    yield
    gc.collect()
    for child in multiprocessing.active_children():
        child.join(timeout=1)
    for child in multiprocessing.active_children():
        child.terminate()
        child.join(timeout=1)
