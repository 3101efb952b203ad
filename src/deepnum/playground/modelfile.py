"""Model files for the Playground: the network as bytes in deepnum's own format, and back.

A download is exactly what ``dn.save(model, path)`` writes (one .safetensors file, architecture
JSON in its metadata), with the session's settings added as metadata; an upload is read by
``dn.load``, which rebuilds only deepnum's own classes and checks the file's checksum.

>>> data = to_bytes(session); model = from_bytes(data)
"""

from __future__ import annotations

import re
import struct
import tempfile
from pathlib import Path

import numpy as np

from deepnum.errors import ModelFileError
from deepnum.models.playground import PlaygroundNet
from deepnum.playground.network import global_generator
from deepnum.playground.settings import MAX_CLASSES, SettingsError, validate_settings

MAX_MODEL_BYTES = 1 << 20  # a Playground network has at most a few hundred weights


class Unavailable(RuntimeError):
    """This deepnum has no model files (deepnum.serialization or safetensors is missing)."""


def _serialization():
    try:
        import safetensors  # noqa: F401 - the file format's library

        from deepnum import serialization
    except ImportError as error:
        message = f"model files need deepnum's serialization and safetensors: {error}"
        raise Unavailable(message) from None
    return serialization


def to_bytes(session) -> bytes:
    """The session's network as a model file."""
    serialization = _serialization()
    with session.lock, tempfile.TemporaryDirectory(prefix="deepnum-playground-") as folder:
        path = Path(folder) / "model.safetensors"
        info = {"playground": session.settings, "epoch": session.epoch,
                "class_names": session.points.class_names, "task": session.points.task}
        serialization.save(session.runs[0].model, path, metadata=info)
        return path.read_bytes()


def from_bytes(content: bytes, name: str = "model.safetensors"):
    """``(model, saved settings)`` from uploaded bytes; a bad file raises ModelFileError naming
    ``name`` once, in words (never a byte count from a damaged header).

    The file is read by deepnum's own reader (checksum, bounded JSON); then, before anything is
    built, its architecture must be a PlaygroundNet whose arguments pass the Playground's own
    settings checks, so a crafted file can neither make the server allocate a huge layer nor
    nest its JSON deeper than the reader allows. The weights must be finite numbers.
    """
    serialization = _serialization()
    shown = shown_name(name)
    if len(content) < 8 or struct.unpack("<Q", content[:8])[0] > len(content) - 8:
        raise ModelFileError(f"{shown}: not a model file, or cut short (its header says it is "
                             f"longer than it is)")
    with tempfile.TemporaryDirectory(prefix="deepnum-playground-") as folder:
        path = Path(folder) / "model.safetensors"
        path.write_bytes(content)
        try:
            arrays, meta = serialization.read_file(path, serialization.MODEL_KIND)
        except ModelFileError as error:
            raise ModelFileError(str(error).replace(str(path), shown)) from None
    arguments = _arguments(meta.get("architecture"), shown)
    with global_generator():  # its initial weights are overwritten; other tabs' are not
        model = PlaygroundNet(**arguments)
    serialization.load_weights(model, arrays, shown)
    if not all(np.isfinite(p.array).all() for p in model.parameters()):
        raise ModelFileError(f"{shown}: some weights are not finite numbers (NaN or infinity): "
                             f"the network it holds had diverged")
    user = meta.get("user")
    saved = user.get("playground") if isinstance(user, dict) else None
    return model, (saved if isinstance(saved, dict) else {})


_PARAMETERS = ("features", "hidden", "activations", "dropout", "num_outputs", "offset", "scale")


def _arguments(architecture, shown: str) -> dict:
    """PlaygroundNet's constructor arguments from the file's architecture JSON, checked."""
    found = architecture.get("class") if isinstance(architecture, dict) else None
    if found != "PlaygroundNet":
        what = f"a {str(found)[:40]}" if isinstance(found, str) else "no network deepnum knows"
        raise ModelFileError(f"{shown}: not a Playground model: the file holds {what}, not a "
                             f"PlaygroundNet")
    args, kwargs = architecture.get("args", []), architecture.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict) or len(args) > len(
            _PARAMETERS) or not set(kwargs) <= set(_PARAMETERS[len(args):]):
        raise ModelFileError(f"{shown}: the PlaygroundNet's arguments are damaged")
    values = dict(zip(_PARAMETERS, args), **kwargs)
    values = {k: _plain(v, shown) for k, v in values.items()}
    try:
        checked = validate_settings({k: values[k] for k in ("features", "hidden", "activations",
                                                            "dropout") if k in values})
    except SettingsError as error:
        raise ModelFileError(f"{shown}: not a network the Playground can build "
                             f"({error})") from None
    if len(checked["activations"]) != len(checked["hidden"]) or "activations" not in values:
        raise ModelFileError(f"{shown}: the network needs one activation per hidden layer")
    outputs = values.get("num_outputs", 2)
    if isinstance(outputs, bool) or not isinstance(outputs, int) or not 1 <= outputs <= \
            MAX_CLASSES:
        raise ModelFileError(f"{shown}: the network is larger than the Playground's limits "
                             f"(1 to {MAX_CLASSES} outputs)")
    box = {}
    for key, default in (("offset", (0.0, 0.0)), ("scale", (1.0, 1.0))):
        pair = values.get(key, default)
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(
                # abs(v) < 1e30 is False for NaN and infinity, and exact for ints of any size
                # (np.isfinite raised TypeError on 2**64 + 1)
                isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e30
                for v in pair) or (key == "scale" and 0 in pair):
            raise ModelFileError(f"{shown}: the network's {key} must be 2 finite numbers")
        box[key] = tuple(float(v) for v in pair)
    return {"features": checked["features"], "hidden": checked["hidden"],
            "activations": checked["activations"], "dropout": checked["dropout"],
            "num_outputs": outputs, **box}


def _plain(value, shown: str):
    """deepnum's encoded argument ({"list": [...]}, {"tuple": [...]}, numbers, text) as Python;
    only flat lists: a PlaygroundNet's arguments hold nothing deeper."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("list", "tuple"):
        items = next(iter(value.values()))
        if isinstance(items, list) and len(items) <= 16 and all(
                isinstance(v, (int, float, str)) for v in items):
            return items
    elif isinstance(value, (int, float, str)):
        return value
    raise ModelFileError(f"{shown}: the PlaygroundNet's arguments are damaged")


def shown_name(name: str) -> str:
    shown = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name or "").name)[:80]
    return shown if shown.strip("._") else "model.safetensors"
