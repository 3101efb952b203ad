"""The speed wing: faster ways to compute what :mod:`deepnum.ops` and :mod:`deepnum.optim` compute,
each a drop-in for one reference op or rule, tested equal to it, and chosen in one place.

The reference path is what a student reads (``ops/conv.py`` is im2col plus one product,
``optim/sgd.py`` is the update rule). Everything here is an optimisation of one of those:

    reference                      speed-up (here)                            when
    ops.conv.Conv2d                fast.conv.Conv2d (batch-last, blocked)     always
                                   fast.conv.KernelConv2d (compiled)          Numba, batch >= 48
    ops.conv.ConvTranspose2d       fast.conv_transpose.ConvTranspose2d        always
                                   fast.conv_transpose.KernelConvTranspose2d  Numba, batch >= 48
    ops.pool.MaxPool2d             fast.pool.MaxPool2d (compiled)             Numba, batch-last, 8+
    optim.sgd.sgd                  fast.optim.sgd (one compiled pass)         Numba, momentum
    optim.adam.adam                fast.optim.adam (one compiled pass)        Numba
    ops.norm.BatchNorm             fast.norm.KernelBatchNorm (compiled)       Numba, 256+ a channel
    ops.norm.BatchNormEval         fast.norm.KernelBatchNormEval (one pass)   Numba
    ops.elementwise.ReLU (+ in place) fast.activation.KernelReLU(InPlace)     Numba, 16384+ values
    Linear, ReLU                   fast.linear.LinearReLU                     (fusion plan)
    Conv2d, ReLU                   fast.conv.Conv2dReLU                       (fusion plan)
    Conv2d, ReLU, MaxPool2d        fast.conv_pool.Conv2dReLUThenMaxPool       (fusion plan)
                                   fast.conv_pool.Conv2dReLUMaxPool           Numba, batch >= 48

:func:`choose` is the one place that picks: the functional layer and the optimizers ask it for
the implementation of a reference op given its batch size or its arrays, and get the reference
back when the wing is off (``fast.enable(False)``, or ``DEEPNUM_FAST=0`` for a process) or no
speed-up fits. The fused ops are consulted by :mod:`deepnum.nn.fusion`. Compiled kernels
(:mod:`deepnum.fast.jit`) are only ever called with arrays that pass their declared contract.

>>> from deepnum import fast
>>> fast.enable(False)     # every op on the reference path (e.g. to compare)
"""

from __future__ import annotations

import os

from deepnum.fast import jit

_state = {"enabled": os.environ.get("DEEPNUM_FAST", "1") != "0", "generation": 0}

# reference op or rule -> [(speed-up, when(*arrays) or when(batch) -> bool)], tried in order
SPEEDUPS: dict = {}

# The compiled kernels copy one batch run per output pixel: below ~48 samples those runs are too
# short to beat NumPy's strided copies (measured, LeNet-5 forward on 2 cores: batch 32, 2.0 ms
# with the kernels vs 1.8 ms; batch 64, 3.2 vs 3.7 ms; batch 1000, 32 vs 74 ms).
KERNEL_MIN_BATCH = 48


def enabled() -> bool:
    """Whether the speed wing is used (else every op runs its reference)."""
    return _state["enabled"]


def enable(flag: bool = True) -> None:
    """Turn the speed wing on or off (the compiled kernels inside it: ``jit.enable``)."""
    _state["enabled"] = bool(flag)
    _changed()


def _changed() -> None:
    """The choice may have changed: forget the remembered ones, let plans re-plan."""
    replan()
    _chosen.clear()


def replan() -> None:
    """What a plan was made from may have changed: the wing or the kernels were switched, or
    a module tree changed shape (a child added or removed, a hook, a replaced forward: see
    ``nn.module``)."""
    _state["generation"] += 1


def generation() -> int:
    """Changes whenever a plan may be stale (see :func:`replan`): the fusion plans, compiled
    stages and captured steps made from it are made again."""
    return _state["generation"]


def kernels_for(batch: int) -> bool:
    """Whether the compiled kernels run for a convolution or pool of this batch size (a
    ``when`` condition of :func:`speeds_up` as it is)."""
    return batch >= KERNEL_MIN_BATCH and jit.enabled()


def speeds_up(reference, when=None):
    """Decorator: register the decorated op or function as a speed-up of ``reference``, used
    when ``when(*arrays)`` (for an update rule) or ``when(batch)`` (for a layer's op) holds,
    always if None. Later registrations are tried first, so the most specialised one (compiled
    kernels) is registered last."""

    def register(fast):
        SPEEDUPS.setdefault(reference, []).insert(0, (fast, when))
        _changed()
        return fast

    return register


def choose(reference, *arrays, batch=None):
    """The implementation to run for ``reference``: the first registered speed-up whose condition
    holds for these arrays (an update rule's) or this batch size (a layer's op), or the
    reference itself.

    A choice by batch size is remembered, keyed on the size and the kernels' batch threshold,
    until the wing or the kernels are switched (that is all :func:`kernels_for` reads): this
    runs for every convolution and pool, and at one sample the conditions' calls show."""
    if not _state["enabled"]:
        return reference
    if arrays:
        return _first_fitting(reference, arrays)
    key = (reference, batch, KERNEL_MIN_BATCH)
    op = _chosen.get(key)
    if op is None:
        if len(_chosen) > 4096:  # many batch sizes: a bound, not a leak
            _chosen.clear()
        op = _chosen[key] = _first_fitting(reference, (batch,))
    return op


def _first_fitting(reference, given: tuple):
    """The first speed-up of ``reference`` whose condition holds for ``given`` (an update rule's
    arrays, or a layer op's batch size alone), else the reference."""
    if not _loaded:
        _load()
    for fast, when in SPEEDUPS.get(reference, ()):
        if when is None or when(*given):
            return fast
    return reference


_chosen: dict = {}  # (reference, batch, threshold) -> the choice


_loaded = []


def _load() -> None:
    """Import the wing's modules (which register themselves) on first use, so ``import deepnum``
    stays light."""
    if not _loaded:
        _loaded.append(True)
        from deepnum.fast import (  # noqa: F401
            activation,
            conv,
            conv_pool,
            conv_transpose,
            linear,
            norm,
            optim,
            pool,
        )
