"""Differentiable functions of several tensors: cat, stack, where, pad, maximum, matmul."""

from __future__ import annotations

import numpy as np

from deepnum.ops import elementwise, linalg, movement
from deepnum.tensor import Tensor


def _as_tensor(x, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if like is not None and like.dtype.kind == "f" else None
    return Tensor(np.asarray(x, dtype=dtype))


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    return movement.Cat.apply(*tensors, axis=dim if axis is None else axis)


concatenate = cat


def stack(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    dim = dim if axis is None else axis
    return cat([t.unsqueeze(dim) for t in tensors], dim)


def where(condition, a, b) -> Tensor:
    """Elements of ``a`` where ``condition`` holds, of ``b`` elsewhere (gradient to both)."""
    cond = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    return elementwise.Where.apply(_as_tensor(a, like), _as_tensor(b, like),
                                   condition=cond.astype(bool))


def pad(x: Tensor, pad: tuple, value: float = 0.0) -> Tensor:
    """Constant padding in PyTorch's order: (left, right) of the last dim, then the one before."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected pairs for at most {x.ndim} dimensions, got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding is not supported, got {pad}")
    width = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        width[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return movement.Pad.apply(x, pad_width=tuple(width), value=value)


def maximum(a, b) -> Tensor:
    """Elementwise max; on ties the gradient goes half to each side, as torch.maximum."""
    a, b = _as_tensor(a, b if isinstance(b, Tensor) else None), _as_tensor(b, a)
    return (where(a.array > b.array, a, b) + where(a.array < b.array, b, a)) * 0.5


def minimum(a, b) -> Tensor:
    a, b = _as_tensor(a, b if isinstance(b, Tensor) else None), _as_tensor(b, a)
    return -maximum(-a, -b)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    return linalg.MatMul.apply(_as_tensor(a), _as_tensor(b))


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()


def abs(x: Tensor) -> Tensor:  # noqa: A001 - the name users expect
    return x.abs()


def clip(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    return x.clip(min, max)


clamp = clip
