"""Argument checks shared by layers: bad hyperparameters fail at construction, naming the layer."""

from __future__ import annotations

import numbers


def positive_int(layer: str, name: str, value, allow_zero: bool = False) -> int:
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        need = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{layer}: {name} must be {need} integer, got {value!r}")
    return int(value)


def probability(layer: str, name: str, value) -> float:
    """A drop probability p in [0, 1): p = 1 would drop everything and divide by zero."""
    if not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{layer}: {name} must be in [0, 1), got {value!r}")
    return float(value)


def integer(layer: str, name: str, value, allow_none: bool = False):
    """Any integer (dims may be negative), or None where PyTorch allows it."""
    if value is None and allow_none:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(f"{layer}: {name} must be an integer, got {value!r}")
    return int(value)


def non_negative(layer: str, name: str, value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0 \
            or value == float("inf"):
        raise ValueError(f"{layer}: {name} must be a non-negative number, got {value!r}")
    return float(value)


def one_of(layer: str, name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{layer}: {name} must be one of {list(choices)}, got {value!r}")
    return value
