"""Training checkpoints: everything needed to resume a run bit-for-bit, in one safetensors file.

A checkpoint holds the weights, the optimizer's state, deepnum's random-generator state, the
DataLoader's state, the epoch and step counters, the history and the callbacks' state. Arrays go in
the safetensors body; everything else is JSON in its ``__metadata__`` (no pickle). The file is
replaced atomically (temporary file, fsync, rename, fsync of the directory), so a crash never leaves
a corrupt checkpoint where a good one was, and a damaged file raises ModelFileError.

>>> save_checkpoint("runs/a/checkpoint.safetensors", {"epoch": 3, "model": model.state_dict()})
>>> state = load_checkpoint("runs/a/checkpoint.safetensors")    # the same nested dict back
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.errors import ModelFileError
from deepnum.schema import check, integer, strict_object
from deepnum.serialization import read_file, write_file

CHECKPOINT_KIND = "deepnum.checkpoint"

# The JSON of a checkpoint as written (arrays are {"__array__": name} references, non-finite
# floats {"__float__": "nan"}, dicts with integer keys {"__items__": [[key, value], ...]}).
ARRAY = strict_object({"__array__": {"type": "string"}})
_PCG64 = strict_object({"bit_generator": {"const": "PCG64"},
                        "state": strict_object({"state": integer(0, 2**128 - 1),
                                                "inc": integer(0, 2**128 - 1)}),
                        "has_uint32": integer(0, 1), "uinteger": integer(0, 2**32 - 1)})
_PLAIN = {"type": ["number", "boolean", "string", "null"]}
_GROUP = {"type": "object", "required": ["params"],
          "properties": {"params": {"type": "array", "items": integer()},
                         "param_names": {"type": "array", "items": {"type": "string"}}},
          "additionalProperties": {"anyOf": [_PLAIN, {"type": "array", "items": _PLAIN,
                                                      "maxItems": 8}]}}
_BUFFERS = {"type": "object", "additionalProperties": {"anyOf": [ARRAY, integer()]}}
_PAIR = {"type": "array", "prefixItems": [integer(), _BUFFERS], "minItems": 2, "maxItems": 2}
TRAINER_STATE = strict_object({
    "model": {"type": "object", "additionalProperties": ARRAY},
    "optimizer": strict_object({
        "state": {"anyOf": [{"type": "object", "maxProperties": 0},
                            strict_object({"__items__": {"type": "array", "items": _PAIR}})]},
        "param_groups": {"type": "array", "items": _GROUP, "minItems": 1}}),
    "rng": _PCG64,
    "loader": {"anyOf": [{"type": "null"},  # seed and generator: None when the loader
                         strict_object({               # shuffles from the global stream
                             "seed": {"anyOf": [{"type": "null"}, integer()]},
                             "generator": {"anyOf": [{"type": "null"}, _PCG64]},
                             "epochs_started": integer()})]},
    "epoch": integer(0, 10**9),
    "step": integer(0, 2**53),
    "stop_training": {"type": "boolean"},
    "callbacks": {"type": "array", "items": strict_object({"class": {"type": "string"},
                                                           "state": {"type": "object"}})},
    # data-parallel runs: how many ranks wrote it, and every rank's generator
    "world_size": integer(1, 2**20),
    "rng_ranks": {"type": "array", "items": _PCG64, "maxItems": 2**20},
}, required=["model", "optimizer", "rng", "loader", "epoch", "step", "stop_training",
             "callbacks"])


def save_checkpoint(path, state: dict):
    """Write a nested dict of JSON values and ndarrays (any depth) atomically to ``path``."""
    arrays: dict[str, np.ndarray] = {}
    tree = _pack(state, "", arrays)
    return write_file(path, arrays, {"state": tree}, CHECKPOINT_KIND)


def load_checkpoint(path, schema: dict | None = None) -> dict:
    """The dict given to :func:`save_checkpoint`, with tuples as lists. Raises ModelFileError,
    also when the state's JSON does not fit ``schema`` (e.g. :data:`TRAINER_STATE`)."""
    arrays, meta = read_file(path, CHECKPOINT_KIND)
    return unpack_checkpoint(arrays, meta, path, schema)


def unpack_checkpoint(arrays: dict, meta: dict, path, schema: dict | None = None) -> dict:
    """The state in a checkpoint's (arrays, meta) (what dn.load gives for a checkpoint)."""
    if "state" not in meta:
        raise ModelFileError(f"{path}: corrupt checkpoint (no state)")
    if schema is not None:
        check(meta["state"], schema, f"{path}: checkpoint state", ModelFileError)
    try:
        return _unpack(meta["state"], arrays)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: corrupt checkpoint state ({error})") from None


def _pack(value, key: str, arrays: dict):
    """Replace arrays by references ``{"__array__": key}`` and make the rest JSON-safe."""
    if hasattr(value, "_ctx") and hasattr(value, "array"):  # a Tensor
        value = value.array
    if isinstance(value, np.ndarray):
        name = f"{len(arrays)}:{key}"  # numbered, so no two paths can collide
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}  # nan, inf, -inf: JSON has no literal for them
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _pack(v, f"{key}/{k}", arrays) for k, v in value.items()}
        # Non-string keys (the optimizer's parameter indices) are kept with their type.
        return {"__items__": [[_pack(k, f"{key}/k{i}", arrays), _pack(v, f"{key}/{i}", arrays)]
                              for i, (k, v) in enumerate(value.items())]}
    if isinstance(value, (list, tuple)):
        return [_pack(v, f"{key}/{i}", arrays) for i, v in enumerate(value)]
    raise TypeError(f"checkpoint: cannot store {type(value).__name__} at {key or 'top level'}")


def _unpack(value, arrays: dict):
    if isinstance(value, list):
        return [_unpack(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        if value["__array__"] not in arrays:
            raise KeyError(f"array {str(value['__array__'])[:60]!r} is not in the file")
        return arrays[value["__array__"]]
    if "__float__" in value:
        if value["__float__"] not in ("nan", "inf", "-inf"):
            raise ValueError(f"{str(value['__float__'])[:20]!r} is not a non-finite float")
        return float(value["__float__"])
    if "__items__" in value:
        return {_unpack(k, arrays): _unpack(v, arrays) for k, v in value["__items__"]}
    if any(k.startswith("__") for k in value):
        raise ValueError(f"unknown entry {next(k for k in value if k.startswith('__'))[:40]!r}")
    return {k: _unpack(v, arrays) for k, v in value.items()}
