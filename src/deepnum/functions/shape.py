"""Functions that rearrange tensors: reshape/view, permute/transpose, squeeze, expand, repeat,
flip/roll, cat/stack, split/chunk/unbind, narrow, unfold, tril/triu, with PyTorch's signatures.
Each is one movement op (or a few), so the gradient comes for free.

>>> a, b = x.chunk(2, dim=1)
>>> dn.cat([a, b], dim=1).shape == x.shape
"""

from __future__ import annotations

import builtins

import numpy as np

from deepnum.functions.pointwise import _tensor, promote
from deepnum.ops import movement as mv
from deepnum.tensor import Tensor


def _dim(dim: int, ndim: int, what: str = "dim") -> int:
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def reshape(input, shape):
    t = input if isinstance(input, Tensor) else _tensor(input)
    shape = tuple(shape)
    return t if shape == t.array.shape else mv.Reshape.apply(t, shape=shape)


def view(input, shape):
    """reshape that refuses (as PyTorch) when the memory layout would need a copy."""
    t = _tensor(input)
    out = reshape(t, shape)
    if out is not t and t.array.size and not np.shares_memory(out.array, t.array):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return out


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    t = input if isinstance(input, Tensor) else _tensor(input)
    shape = t.array.shape
    ndim = len(shape)
    if ndim == 0:
        return reshape(t, (1,))
    if start_dim == 1 and end_dim == -1 and ndim == 2:  # nn.Flatten on (N, features)
        return t
    start, end = _dim(start_dim, ndim), _dim(end_dim, ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return reshape(t, shape[:start] + (-1,) + shape[end + 1:])


def unflatten(input, dim: int, sizes):
    t = _tensor(input)
    d = _dim(dim, t.ndim)
    return reshape(t, t.shape[:d] + tuple(sizes) + t.shape[d + 1:])


def permute(input, dims):
    return mv.Permute.apply(_tensor(input), dims=tuple(int(d) for d in dims))


def transpose(input, dim0: int, dim1: int):
    t = _tensor(input)
    dims = list(range(t.ndim))
    a, b = _dim(dim0, t.ndim), _dim(dim1, t.ndim)
    if not t.ndim:
        return t
    dims[a], dims[b] = dims[b], dims[a]
    return permute(t, dims)


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a matrix (a vector stays as it is), as torch.t."""
    x = _tensor(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def movedim(input, source, destination):
    """Dims ``source`` (an int or a sequence) moved to ``destination``, the others in order."""
    x = _tensor(input)
    many = isinstance(source, (tuple, list))
    sources = [_dim(d, x.ndim) for d in (source if many else [source])]
    targets = [_dim(d, x.ndim) for d in (destination if many else [destination])]
    if len(sources) != len(targets):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({sources} "
                           f"dims) should contain the same number of dims as destination "
                           f"({targets} dims)")
    order = [d for d in range(x.ndim) if d not in sources]
    for target, source_dim in sorted(zip(targets, sources)):
        order.insert(target, source_dim)
    return permute(x, order)


moveaxis = movedim


def squeeze(input, dim=None):
    x = _tensor(input)
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = {_dim(d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return reshape(x, shape)


def unsqueeze(input, dim: int):
    x = _tensor(input)
    d = _dim(dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand(input, shape):
    x = _tensor(input)
    shape = tuple(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({x.ndim})")
    shape = tuple(x.shape[i - lead] if s == -1 else int(s) for i, s in enumerate(shape))
    return x if shape == x.shape else mv.Expand.apply(x, shape=shape)


def broadcast_to(input, shape):
    return expand(input, shape)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def repeat(input, sizes):
    """Tile the tensor ``sizes[i]`` times along each dim (torch's ``repeat`` is NumPy's tile)."""
    x = _tensor(input)
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    x = reshape(x, (1,) * (len(sizes) - x.ndim) + x.shape)
    # expand a new axis before each dim, then merge: (a, b) -> (r0, a, r1, b) -> (r0 a, r1 b)
    wide = reshape(x, tuple(v for s in x.shape for v in (1, s)))
    wide = expand(wide, tuple(v for r, s in zip(sizes, x.shape) for v in (r, s)))
    out = reshape(wide, tuple(r * s for r, s in zip(sizes, x.shape)))
    # torch's repeat always copies: with all sizes 1 (or a size-1 input) the steps above are views
    return mv.Copy.apply(out) if np.may_share_memory(out.array, x.array) else out


def tile(input, dims):
    x = _tensor(input)
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats, dim=None):
    """Each element repeated ``repeats`` times (an int or a tensor of counts) along ``dim``."""
    x = _tensor(input)
    if dim is None:
        x, dim = flatten(x), 0
    d = _dim(dim, x.ndim)
    counts = repeats.array if isinstance(repeats, Tensor) else np.asarray(repeats)
    index = np.repeat(np.arange(x.shape[d]), counts)
    return mv.GetItem.apply(x, index=(slice(None),) * d + (index,))


def flip(input, dims):
    x = _tensor(input)
    dims = tuple(_dim(d, x.ndim) for d in dims)
    return mv.Flip.apply(x, dims=dims if x.ndim else ())


def fliplr(input):
    return flip(input, (1,))


def flipud(input):
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    x = _tensor(input)
    if dims is None:
        return reshape(mv.Roll.apply(flatten(x), shifts=int(shifts), dims=None), x.shape)
    if isinstance(dims, int):
        return mv.Roll.apply(x, shifts=int(shifts), dims=_dim(dims, x.ndim))
    return mv.Roll.apply(x, shifts=tuple(int(s) for s in shifts),
                         dims=tuple(_dim(d, x.ndim) for d in dims))


def narrow(input, dim: int, start: int, length: int):
    x = _tensor(input)
    d = _dim(dim, x.ndim)
    start = int(start) % x.shape[d] if start < 0 else int(start)
    if start + length > x.shape[d]:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({x.shape[d]}).")
    return mv.GetItem.apply(x, index=(slice(None),) * d + (slice(start, start + length),))


def select(input, dim: int, index: int):
    x = _tensor(input)
    d = _dim(dim, x.ndim)
    return mv.GetItem.apply(x, index=(slice(None),) * d + (int(index),))


def cat(tensors, dim: int = 0, *, axis=None, out=None):
    """Join tensors along an existing dimension (their types promoted, as in PyTorch)."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    dtype = tensors[0].array.dtype
    for other in tensors[1:]:
        if other.array.dtype != dtype:
            dtype = promote(Tensor._wrap(np.zeros(1, dtype)), other)[1].array.dtype
    tensors = [t if t.array.dtype == dtype else t.astype(dtype) for t in tensors]
    d = dim if axis is None else axis
    return mv.Cat.apply(*tensors, axis=_dim(d, tensors[0].ndim))


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, axis=None):
    """Join tensors of equal shape along a new dimension."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                           f"{sorted(shapes)}")
    d = _dim(dim if axis is None else axis, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    tensors = [_tensor(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if _tensor(t).ndim > 1 else unsqueeze(t, 0) for t in tensors], 0)


def split(input, split_size_or_sections, dim: int = 0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    x = _tensor(input)
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if size else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got split_sizes="
                               f"{sizes}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(mv.GetItem.apply(x, index=(slice(None),) * d + (slice(start,
                                                                             start + size),)))
        start += size
    return tuple(pieces)


def tensor_split(input, indices_or_sections, dim: int = 0):
    x = _tensor(input)
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        bounds = np.cumsum([n // k + (1 if i < n % k else 0) for i in range(k)])[:-1]
    else:
        bounds = list(indices_or_sections)
    edges = [0, *bounds, n]
    return tuple(narrow(x, d, lo, hi - lo) for lo, hi in zip(edges[:-1], edges[1:]))


def chunk(input, chunks: int, dim: int = 0):
    x = _tensor(input)
    n = x.shape[_dim(dim, x.ndim)]
    return split(x, builtins.max(-(-n // chunks), 1), dim)


def unbind(input, dim: int = 0):
    x = _tensor(input)
    d = _dim(dim, x.ndim)
    return tuple(mv.GetItem.apply(x, index=(slice(None),) * d + (i,)) for i in range(x.shape[d]))


def tensor_unfold(input, dimension: int, size: int, step: int):
    """Tensor.unfold: every window of ``size`` with stride ``step`` along ``dimension``, as a new
    last axis (a strided view; the gradient adds back over overlapping windows)."""
    x = _tensor(input)
    d = _dim(dimension, x.ndim)
    count = (x.shape[d] - size) // step + 1
    if count < 1:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {x.shape[d]} but size "
                           f"is {size}")
    starts = np.arange(count) * step
    index = starts[:, None] + np.arange(size)  # (windows, size)
    picked = mv.GetItem.apply(x, index=(slice(None),) * d + (index,))
    # picked has (windows, size) in place of dim d: move the window size to the end
    return movedim(picked, d + 1, -1)


def _triangle(input, diagonal: int, upper: bool):
    x = _tensor(input)
    rows, cols = x.shape[-2:]
    keep = (np.triu if upper else np.tril)(np.ones((rows, cols), dtype=bool), diagonal)
    if x.array.dtype.kind in "iub":
        return Tensor._wrap(np.where(keep, x.array, 0).astype(x.array.dtype))
    return x * Tensor._wrap(keep.astype(x.array.dtype))


def tril(input, diagonal: int = 0):
    return _triangle(input, diagonal, False)


def triu(input, diagonal: int = 0):
    return _triangle(input, diagonal, True)


def diag(input, diagonal: int = 0):
    x = _tensor(input)
    if x.ndim == 1:
        n = x.shape[0] + builtins.abs(diagonal)
        rows = np.arange(x.shape[0]) + builtins.max(-diagonal, 0)
        cols = np.arange(x.shape[0]) + builtins.max(diagonal, 0)
        base = Tensor._wrap(np.zeros((n, n), x.array.dtype))
        return mv.IndexPut.apply(base, x, index=(rows, cols))
    return diagonal_(x, diagonal)


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal ``offset`` of the matrices in dims (dim1, dim2), as a last dim (a copy)."""
    x = _tensor(input)
    return diagonal_(movedim(x, (_dim(dim1, x.ndim), _dim(dim2, x.ndim)), (-2, -1)), offset)


def trace(input):
    return diagonal(input).sum()


def diagonal_(x, offset: int = 0):
    rows, cols = x.shape[-2:]
    i = np.arange(builtins.max(0, builtins.min(rows - builtins.max(-offset, 0),
                                               cols - builtins.max(offset, 0))))
    return mv.GetItem.apply(x, index=(Ellipsis, i + builtins.max(-offset, 0),
                                      i + builtins.max(offset, 0)))


def contiguous(input):
    return mv.Copy.apply(_tensor(input))


def clone(input, memory_format=None):
    return mv.Copy.apply(_tensor(input))


def atleast_1d(input):
    x = _tensor(input)
    return x if x.ndim >= 1 else reshape(x, (1,))


def atleast_2d(input):
    x = _tensor(input)
    return x if x.ndim >= 2 else reshape(x, (1,) * (2 - x.ndim) + x.shape)


def ravel(input):
    return reshape(input, (-1,))


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """x[1:] - x[:-1] along ``dim``, ``n`` times (after joining ``prepend`` and ``append``)."""
    x = _tensor(input)
    d = _dim(dim, x.ndim)
    x = cat([t for t in (prepend, x, append) if t is not None], d)
    for _ in range(n):
        length = x.shape[d]
        x = narrow(x, d, 1, length - 1) - narrow(x, d, 0, length - 1)
    return x


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids of 1-D tensors (``indexing`` 'ij', torch's default, or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = [_tensor(t) for t in tensors]
    shape = tuple(t.shape[0] for t in tensors)
    grids = [expand(reshape(t, tuple(-1 if i == k else 1 for i in range(len(shape)))), shape)
             for k, t in enumerate(tensors)]
    if indexing == "xy" and len(grids) >= 2:  # the first two dims swapped (Cartesian)
        grids = [transpose(g, 0, 1) for g in grids]
    return tuple(grids)


def pad(input, pad, mode: str = "constant", value=None):
    """Pad in PyTorch's order: (left, right) of the last dim, then the one before...; ``mode``
    'constant' (``value``, 0 by default), 'reflect', 'replicate' or 'circular'."""
    x = _tensor(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(f"Padding length must be divisible by 2 and at most twice the "
                           f"number of dimensions of the input ({x.ndim}), got {len(pad)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"padding mode {mode!r} is not one of constant, reflect, "
                                  f"replicate, circular")
    if any(p < 0 for p in pad):
        if mode != "constant" or any(p > 0 for p in pad):
            raise RuntimeError(f"pad: negative padding (cropping) is only supported alone in "
                               f"constant mode, got {pad}")
        index = [slice(None)] * x.ndim
        for i in range(len(pad) // 2):
            d = x.ndim - 1 - i
            index[d] = slice(-pad[2 * i], x.shape[d] + pad[2 * i + 1])
        return mv.GetItem.apply(x, index=tuple(index))
    width = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        d = x.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and (before >= x.shape[d] or after >= x.shape[d]):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({before}, {after}) at "
                               f"dimension {d} of input {list(x.shape)}")
        width[d] = (before, after)
    return mv.Pad.apply(x, pad_width=tuple(width), value=0.0 if value is None else value,
                        mode=mode)
