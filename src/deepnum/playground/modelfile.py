"""Model files for the Playground: the network as bytes in deepnum's own format, and back.

A download is exactly what ``dn.save(model, path)`` writes (one .safetensors file, architecture
JSON in its metadata), with the session's settings added as metadata; an upload is read by
``dn.load``, which rebuilds only deepnum's own classes and checks the file's checksum.

>>> data = to_bytes(session); model = from_bytes(data)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from deepnum.errors import ModelFileError
from deepnum.playground.settings import MAX_CLASSES, MAX_NEURONS

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
        serialization.save(session.model, path, metadata=info)
        return path.read_bytes()


def from_bytes(content: bytes, name: str = "model.safetensors"):
    """A model rebuilt from uploaded bytes; a bad file raises ModelFileError naming ``name``.

    Before anything is built, the architecture must be a PlaygroundNet whose every whole number
    (layer sizes, outputs) is within the Playground's limits, so a crafted file cannot make the
    server allocate a huge layer.
    """
    serialization = _serialization()
    shown = Path(name).name or "model.safetensors"
    with tempfile.TemporaryDirectory(prefix="deepnum-playground-") as folder:
        path = Path(folder) / "model.safetensors"
        path.write_bytes(content)
        try:
            arrays, meta = serialization.read_file(path, serialization.MODEL_KIND)
        except ModelFileError as error:
            raise ModelFileError(str(error).replace(str(path), shown)) from None
    architecture = meta.get("architecture")
    found = architecture.get("class") if isinstance(architecture, dict) else None
    if found != "PlaygroundNet":
        raise ModelFileError(f"{shown}: not a Playground model: the file holds a {found}, "
                             f"not a PlaygroundNet")
    if max(_whole_numbers(architecture), default=0) > max(MAX_NEURONS, MAX_CLASSES):
        raise ModelFileError(f"{shown}: the network is larger than the Playground's limits "
                             f"({MAX_NEURONS} neurons a layer, {MAX_CLASSES} outputs)")
    model = serialization.rebuild(architecture, shown)
    serialization.load_weights(model, arrays, shown)
    return model


def _whole_numbers(value):
    """Every int in a JSON value, however deeply nested."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _whole_numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _whole_numbers(item)
