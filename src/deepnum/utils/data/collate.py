"""default_collate and default_convert: how a list of samples becomes one batch, as PyTorch's.

Tensors are stacked (a new first dimension), NumPy arrays and scalars become Tensors and are
stacked, Python floats become a float64 Tensor and ints an int64 one, strings and bytes stay a
list; dicts, named tuples, tuples and lists are collated field by field (a tuple gives a list,
as PyTorch's). ``collate_fn_map`` lets ``collate`` handle more types.

>>> default_collate([(dn.zeros(3), 1), (dn.ones(3), 0)])   # [Tensor (2, 3), Tensor([1, 0])]
"""

from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from deepnum.tensor import Tensor

_STRINGS = re.compile("[SaUO]")  # NumPy dtypes of strings and objects: not collated
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def default_convert(data):
    """Samples without batching (``batch_size=None``): NumPy arrays and scalars to Tensors,
    recursively through dicts, named tuples, tuples (to lists) and lists."""
    if isinstance(data, Tensor):
        return data
    kind = type(data)
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _STRINGS.search(data.dtype.str) is not None:
            return data
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a named tuple
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, items: dict):
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(items)
            return clone
        return type(like)(items)
    except TypeError:  # a mapping type that cannot be built from a dict
        return items


def _rebuild_sequence(like, items: list):
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def collate_tensor_fn(batch, *, collate_fn_map=None):
    from deepnum.functions import stack

    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if _STRINGS.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERROR.format(batch[0].dtype))
    return collate([Tensor._wrap(np.asarray(b)) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return Tensor._wrap(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return Tensor._wrap(np.asarray(batch, dtype=np.float64))


def collate_int_fn(batch, *, collate_fn_map=None):
    # bools are ints: a batch of them gives a bool tensor, as torch.tensor([True, False])
    dtype = np.bool_ if all(isinstance(b, bool) for b in batch) else np.int64
    return Tensor._wrap(np.asarray(batch, dtype=dtype))


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate ``batch`` (a list of samples) with the functions of ``collate_fn_map`` (type ->
    fn) for the leaves, recursing through mappings and sequences as :func:`default_collate`."""
    elem = batch[0]
    kind = type(elem)
    if collate_fn_map is not None:
        if kind in collate_fn_map:
            return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
        for types, fn in collate_fn_map.items():
            if isinstance(elem, types):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch],
                                                    collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple keeps its type
        return kind(*(collate(samples, collate_fn_map=collate_fn_map)
                      for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(samples, collate_fn_map=collate_fn_map)  # tuples, as torch passes
                   for samples in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(_ERROR.format(kind))


def default_collate(batch):
    """A list of samples as one batch: PyTorch's default_collate (see the module docstring).

    >>> default_collate([{"x": np.zeros(2), "y": 1}, {"x": np.ones(2), "y": 0}])
    {'x': Tensor of shape (2, 2), 'y': Tensor([1, 0])}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
