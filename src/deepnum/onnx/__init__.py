"""Models in and out as ONNX, the format every runtime reads (onnxruntime on a server, a phone or
a browser; TensorRT; OpenVINO...).

* :func:`export` traces one forward call of a deepnum model and writes the graph; it passes
  ``onnx.checker.check_model(full_check=True)`` and is run by deepnum's importer before it is
  written. Default opset 17: every onnxruntime since 1.12 runs it, and it is PyTorch's default
  too; 13 to 21 can be asked for.
* :func:`load` reads an ONNX file (deepnum's, PyTorch's ``torch.onnx.export``...) into an
  :class:`OnnxGraph`, a deepnum Module that runs the graph with deepnum's ops: it evaluates,
  trains and saves as a deepnum model file.

The ``onnx`` package is needed only here and is imported on first use (``pip install
'deepnum[onnx]'``); ``import deepnum`` never imports it.

>>> dn.onnx.export(model, dn.randn(1, 1, 28, 28), "lenet.onnx")
>>> graph = dn.onnx.load("lenet.onnx")
"""

from deepnum.onnx.builder import ExportError

DEFAULT_OPSET = 17


def export(model, example_input, path, opset_version: int = DEFAULT_OPSET,
           dynamic_batch: bool = True, input_names=None, output_names=None):
    """Write ``model`` as an ONNX file (see :mod:`deepnum.onnx.exporter`); returns the path.

    >>> dn.onnx.export(model, dn.randn(1, 1, 28, 28), "lenet.onnx", dynamic_batch=True)
    """
    from deepnum.onnx.exporter import export as _export

    return _export(model, example_input, path, opset_version, dynamic_batch, input_names,
                   output_names)


def load(path):
    """The model in an ONNX file as a deepnum Module (see :mod:`deepnum.onnx.importer`).

    >>> graph = dn.onnx.load("model.onnx"); graph(x)
    """
    from deepnum.onnx.importer import load as _load

    return _load(path)


def __getattr__(name):
    if name == "OnnxGraph":  # the Module (and deepnum.nn with it) only when asked for
        from deepnum.onnx.graph import OnnxGraph

        return OnnxGraph
    raise AttributeError(f"module 'deepnum.onnx' has no attribute {name!r}")


__all__ = ["DEFAULT_OPSET", "ExportError", "OnnxGraph", "export", "load"]
