"""Fuzz tests of everything that reads outside data (`python -m pytest tests/fuzz
--fuzz-cases 20000` for the long run; CI runs each with a few dozen examples)."""

CASES = None  # set from --fuzz-cases by tests/conftest.py


def cases(default: int) -> int:
    return CASES or default
