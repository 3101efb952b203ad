"""Files of what programs save with ``torch.save``: state dicts, optimizer and scheduler states,
and dicts/lists/tuples of those with plain values (epoch, loss, strings, nested dicts), without
pickle.

The tensors and arrays go in the safetensors body; everything else is a JSON tree in its
metadata, where a tensor is ``{"__tensor__": i}`` (entry i of a table naming its array, whether
it is a Parameter and requires grad), and what JSON cannot say is tagged: tuples, dicts with
non-string keys (optimizer states), OrderedDicts, non-finite floats, dtypes, sizes. Reading
checks the tree against a schema and every reference against the file, and builds only plain
values, NumPy arrays and deepnum Tensors: nothing in a file is ever executed.

>>> dn.save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict()}, "ckpt.pt")
>>> state = dn.load("ckpt.pt"); model.load_state_dict(state["model"])
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from deepnum.errors import ModelFileError
from deepnum.schema import check, integer, strict_object

OBJECT_KIND = "deepnum.object"
_DTYPE_NAMES = ("float16", "float32", "float64", "complex64", "complex128", "uint8", "int8",
                "int16", "int32", "int64", "bool")


_REF = {"$ref": "#/$defs/node"}
_KEY = {"anyOf": [{"type": ["null", "boolean", "number", "string"]},
                  strict_object({"__tuple__": {"type": "array"}}),
                  strict_object({"__float__": {"enum": ["nan", "inf", "-inf"]}})]}
SCHEMA = {
    "$defs": {"node": {"anyOf": [
        {"type": ["null", "boolean", "number", "string"]},
        {"type": "array", "items": _REF},
        strict_object({"__tensor__": integer()}),
        strict_object({"__array__": {"type": "string", "maxLength": 600}}),
        strict_object({"__scalar__": {"type": "string", "maxLength": 600}}),
        strict_object({"__float__": {"enum": ["nan", "inf", "-inf"]}}),
        strict_object({"__complex__": {"type": "array", "items": _REF, "minItems": 2,
                                       "maxItems": 2}}),
        strict_object({"__tuple__": {"type": "array", "items": _REF}}),
        strict_object({"__size__": {"type": "array", "items": integer()}}),
        strict_object({"__dtype__": {"enum": list(_DTYPE_NAMES)}}),
        strict_object({"__dict__": {"type": "array", "items": {
            "type": "array", "prefixItems": [_KEY, _REF], "minItems": 2, "maxItems": 2}},
            "ordered": {"type": "boolean"}}),
        {"type": "object", "propertyNames": {"pattern": "^(?!__)"},
         "additionalProperties": _REF},
    ]}},
    **strict_object({
        "object": _REF,
        "tensors": {"type": "array", "items": strict_object({
            "array": {"type": "string", "maxLength": 600}, "requires_grad": {"type": "boolean"},
            "parameter": {"type": "boolean"}})},
        "user": {"type": "object"}}),
}

# what to say about objects programs commonly torch.save that deepnum cannot store
_ADVICE = {"Module": "save model.state_dict() (or dn.save(model, path) on its own, which "
                     "writes the architecture too)",
           "Optimizer": "save optimizer.state_dict()", "LRScheduler": "save scheduler.state_dict()",
           "DataLoader": "save loader.state_dict()", "Generator": "save generator.get_state()"}


class _Packer:
    """Turns an object tree into JSON + named arrays, remembering shared tensors and arrays."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.tensors: list[dict] = []
        self._array_names: dict[int, str] = {}
        self._tensor_ids: dict[int, int] = {}
        self._keep = []  # the objects whose ids are in the memos stay alive until the end

    def array(self, a: np.ndarray, path: str) -> str:
        if id(a) not in self._array_names:
            if a.dtype.kind == "c" or a.dtype.kind not in "fiub":
                raise TypeError(f"dn.save cannot store the {a.dtype} array at {path or 'the top'}"
                                f" (safetensors holds real numbers and booleans)")
            name = f"{len(self.arrays)}:{path}"[:500]  # numbered, so no two can collide
            self.arrays[name] = np.ascontiguousarray(a) if a.ndim else a
            self._array_names[id(a)] = name
            self._keep.append(a)
        return self._array_names[id(a)]

    def pack(self, value, path: str = ""):
        from deepnum.dtypes import dtype as dn_dtype
        from deepnum.nn.module import Parameter
        from deepnum.tensor import Size, Tensor

        if isinstance(value, Tensor):
            if id(value) not in self._tensor_ids:
                if value.requires_grad and value._ctx is not None:
                    raise TypeError(f"dn.save cannot store the tensor at {path or 'the top'}: it "
                                    f"is the result of an operation that records gradients; "
                                    f"save tensor.detach()")
                self.tensors.append({"array": self.array(value.array, path),
                                     "requires_grad": bool(value.requires_grad),
                                     "parameter": isinstance(value, Parameter)})
                self._tensor_ids[id(value)] = len(self.tensors) - 1
                self._keep.append(value)
            return {"__tensor__": self._tensor_ids[id(value)]}
        if isinstance(value, np.ndarray):
            return {"__array__": self.array(value, path)}
        if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_)):
            return {"__scalar__": self.array(np.asarray(value), path)}
        if isinstance(value, float) and not math.isfinite(value):
            return {"__float__": repr(value)}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, complex):
            return {"__complex__": [self.pack(value.real), self.pack(value.imag)]}
        if isinstance(value, dn_dtype):
            return {"__dtype__": value.name}
        if isinstance(value, Size):
            return {"__size__": [int(s) for s in value]}
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return {"__tuple__": [self.pack(v, f"{path}/{i}") for i, v in enumerate(value)]}
        if type(value) is list:
            return [self.pack(v, f"{path}/{i}") for i, v in enumerate(value)]
        if type(value) in (dict, OrderedDict):
            plain = type(value) is dict and all(isinstance(k, str) and not k.startswith("__")
                                                for k in value)
            if plain:
                return {k: self.pack(v, f"{path}/{k}") for k, v in value.items()}
            return {"__dict__": [[self._key(k, path), self.pack(v, f"{path}/{k}")]
                                 for k, v in value.items()],
                    "ordered": type(value) is OrderedDict}
        raise TypeError(self._refusal(value, path))

    def _key(self, key, path):
        if isinstance(key, (str, int, float, bool)) or key is None:
            return self.pack(key)
        if isinstance(key, tuple) and all(isinstance(k, (str, int, float, bool)) or k is None
                                          for k in key):
            return {"__tuple__": [self.pack(k) for k in key]}
        raise TypeError(f"dn.save cannot store a dict key of type {type(key).__name__} at "
                        f"{path or 'the top'} without pickle")

    @staticmethod
    def _refusal(value, path: str) -> str:
        cls = type(value)
        name = f"{cls.__module__}.{cls.__qualname__}"
        advice = next((text for base, text in _ADVICE.items()
                       if any(c.__name__ == base for c in cls.__mro__)), None)
        if advice is None:
            advice = ("store plain values (numbers, strings, None, lists, tuples, dicts), "
                      "tensors and arrays")
        return (f"dn.save cannot store {name} (at {path or 'the top level'}) without pickle, "
                f"which deepnum never uses: {advice}")


def encode(obj, metadata: dict | None = None) -> tuple[dict, dict]:
    """(arrays, meta) for :func:`deepnum.serialization.write_file`."""
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    packer = _Packer()
    tree = packer.pack(obj)
    return packer.arrays, {"object": tree, "tensors": packer.tensors, "user": metadata or {}}


def decode(arrays: dict, meta: dict, source):
    """The object :func:`encode` described, after checking the JSON against :data:`SCHEMA` and
    every reference against the file's arrays (ModelFileError naming ``source`` otherwise)."""
    check(meta, SCHEMA, f"{source}: saved object", ModelFileError)
    used: set[str] = set()

    def array(name: str) -> np.ndarray:
        if name not in arrays:
            raise ModelFileError(f"{source}: the saved object refers to an array {name[:60]!r} "
                                 f"that is not in the file")
        used.add(name)
        return arrays[name]

    from deepnum.nn.module import Parameter
    from deepnum.tensor import Tensor

    tensors = []
    for entry in meta["tensors"]:
        a = array(entry["array"])
        grad = entry["requires_grad"] and a.dtype.kind in "fc"  # only floats carry gradients
        if entry["parameter"]:
            t = Parameter(a, requires_grad=grad)
        else:
            t = Tensor._wrap(a)
            t.requires_grad = grad
        tensors.append(t)
    result = _Unpacker(array, tensors, source).unpack(meta["object"])
    unused = sorted(set(arrays) - used)
    if unused:
        raise ModelFileError(f"{source}: the file holds arrays the saved object does not refer "
                             f"to ({unused[0][:60]!r}...): it was modified")
    return result


class _Unpacker:
    def __init__(self, array, tensors, source):
        self.array, self.tensors, self.source = array, tensors, source

    def unpack(self, node):
        """The value of one node (recursing no deeper than the document, which parse() has
        bounded at 64 levels)."""
        if isinstance(node, list):
            return [self.unpack(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__tensor__" in node:
            index = node["__tensor__"]
            if index >= len(self.tensors):
                raise ModelFileError(f"{self.source}: the saved object refers to tensor {index}, "
                                     f"but the file describes {len(self.tensors)}")
            return self.tensors[index]
        if "__array__" in node:
            return self.array(node["__array__"])
        if "__scalar__" in node:
            a = self.array(node["__scalar__"])
            if a.ndim:
                raise ModelFileError(f"{self.source}: a saved scalar has shape {a.shape}")
            return a[()]
        if "__float__" in node:
            return float(node["__float__"])
        if "__complex__" in node:
            real, imag = (self.unpack(v) for v in node["__complex__"])
            if not all(isinstance(v, (int, float)) for v in (real, imag)):
                raise ModelFileError(f"{self.source}: a malformed complex number")
            return complex(real, imag)
        if "__tuple__" in node:
            return tuple(self.unpack(v) for v in node["__tuple__"])
        if "__size__" in node:
            from deepnum.tensor import Size

            return Size(node["__size__"])
        if "__dtype__" in node:
            from deepnum import dtypes

            return dtypes.as_dtype(node["__dtype__"])
        if "__dict__" in node:
            items = []
            for key, value in node["__dict__"]:
                key = self.unpack(key)
                try:
                    hash(key)
                except TypeError:
                    raise ModelFileError(f"{self.source}: a saved dict key is not hashable"
                                         ) from None
                items.append((key, self.unpack(value)))
            return OrderedDict(items) if node["ordered"] else dict(items)
        return {k: self.unpack(v) for k, v in node.items()}
