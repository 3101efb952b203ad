"""In-place changes seen through views: the histories of a tensor and its views kept in step.

``v = y[0]`` shares y's memory, so ``v.mul_(10)`` changes y too, and ``y.mul_(2)`` changes v. The
in-place op gives the changed tensor a new history (deepnum.functions.inplace.rebase); this module
gives the others theirs, as PyTorch's CopySlices and view regeneration do:

* the root (the tensor that owns the memory) becomes ``IndexPut(root before, new values of the
  view, at the view's places)``, so its gradient goes to the new values there and to its old
  history elsewhere;
* every other live view of the root becomes ``root[its places]`` (a gather), so it follows the
  root's new history.

The places are found from the memory addresses of the elements, so any view (slices, transposes,
reshapes, selections) works without knowing how it was made. Only views made with grad mode on are
kept (weakly), and only those of tensors that can be rebased (not leaves that require grad).
"""

from __future__ import annotations

import numpy as np


class Views(list):
    """Weak references to a root's views (autograd.function._share_version adds them); the
    dead ones are dropped each time the list doubles."""

    limit = 8

    def prune(self) -> None:
        self[:] = [r for r in self if r() is not None]
        self.limit = max(8, 2 * len(self))


def _byte_offsets(a: np.ndarray) -> np.ndarray:
    """The address of every element of ``a`` (same shape), from its data pointer and strides."""
    out = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[axis] = n
        out = out + (np.arange(n, dtype=np.int64) * stride).reshape(shape)
    return out


def places(view: np.ndarray, root: np.ndarray) -> tuple:
    """The index into ``root`` of each element of ``view`` (advanced indexing, view's shape)."""
    where = _byte_offsets(root).reshape(-1)
    order = np.argsort(where, kind="stable")
    mine = _byte_offsets(view)
    flat = order[np.clip(np.searchsorted(where[order], mine), 0, where.size - 1)]
    if not np.array_equal(where[flat], mine):  # cannot happen for a true view of root
        raise RuntimeError("in-place operation: a view's elements are not all in its base")
    return np.unravel_index(flat, root.shape)


def _live(root) -> list:
    views = getattr(root, "_views", None)
    return [] if views is None else [v for v in (r() for r in views) if v is not None]


def after_inplace(t, out) -> None:
    """``t`` (the root, or a view of it) was changed in place and took ``out``'s history: give
    the root and the other views the histories that match their new values."""
    from deepnum.ops.movement import GetItem, IndexPut
    from deepnum.tensor import Tensor

    root = t._base
    live = _live(t if root is None else root)
    if root is None:
        if not live:
            return
        root = t
    else:
        if not any(v is t for v in live):
            return  # shared memory from detach(): not a view in the graph, as in PyTorch
        before = Tensor._wrap(root.array)  # IndexPut keeps none of these values
        before.requires_grad, before._ctx, before._index = (root.requires_grad, root._ctx,
                                                            root._index)
        new = IndexPut.apply(before, out, index=places(t.array, root.array))
        root._ctx, root._index, root.requires_grad = new._ctx, new._index, new.requires_grad
    for view in live:
        if view is t or view.array.size == 0:
            continue
        new = GetItem.apply(root, index=places(view.array, root.array))
        view._ctx, view._index, view.requires_grad = new._ctx, new._index, new.requires_grad
