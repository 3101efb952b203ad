"""Devices: deepnum computes on the CPU; the concept exists so PyTorch programs run unchanged.

``dn.device("cpu")``, ``tensor.to(device)``, ``device=`` on factories and ``.cpu()`` work;
``dn.cuda.is_available()`` is False, and moving a tensor to ``"cuda"`` or ``"mps"`` raises one clear
error, so ``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU.

>>> device = dn.device("cuda" if dn.cuda.is_available() else "cpu")
>>> x = dn.zeros(3, device=device).to(device)
"""

from __future__ import annotations


class device:  # noqa: N801 - named like torch.device
    """A place tensors live: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or a device, got {type!r}")
        name = type.strip()
        if ":" in name:
            name, _, number = name.partition(":")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(number)
        if name not in KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(KNOWN_TYPES)} device type at start of "
                               f"device string: {type}")
        self.type, self.index = name, index

    def __eq__(self, other) -> bool:
        try:
            other = device(other)
        except (TypeError, RuntimeError):
            return False
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


KNOWN_TYPES = ("cpu", "cuda", "mps", "meta", "xpu")
CPU = device("cpu")


def check(where, what: str = "tensor") -> None:
    """Accept ``where`` (None, "cpu", a device) or raise the one error for other devices."""
    if where is None or where is CPU:
        return
    target = device(where)
    if target.type != "cpu":
        raise RuntimeError(
            f"deepnum computes on the CPU only; cannot put a {what} on {target} "
            f"(dn.cuda.is_available() is False: pick the device with "
            f"'cuda' if dn.cuda.is_available() else 'cpu')")
