"""``torch.cuda`` as deepnum answers it: there is no GPU backend, so programs that ask pick
the CPU (``is_available()`` is False), and the seeding and housekeeping calls they make
anyway do nothing."""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """No GPU generators to seed (``dn.manual_seed`` seeds everything deepnum draws)."""


manual_seed_all = manual_seed


def synchronize(device=None) -> None:
    pass


def empty_cache() -> None:
    pass


def current_device() -> int:
    raise RuntimeError("deepnum computes on the CPU only; dn.cuda.is_available() is False")


def get_device_name(device=None) -> str:
    current_device()
