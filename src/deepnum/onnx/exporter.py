"""deepnum model -> ONNX file, by tracing the autograd graph of forward calls.

The model runs twice in evaluation mode: on the example input and on a second input with other
values (and, with ``dynamic_batch``, one more sample). The two graphs must be the same op for op:
otherwise the model's graph depends on its input (control flow on values) and no single ONNX
graph is right. A constant that differs between them was computed from the input outside the
graph (``x.array``, ``x.numpy()``, ``where(x.array > 0, ...)``) and would be frozen into the file
wrongly, so it is refused, naming the module and the op; an attribute that differs follows the
batch size (a reshape to (N, 400)) and becomes "any batch" where ONNX can say it. The file is
then checked with ``onnx.checker.check_model(full_check=True)`` and run by deepnum's own ONNX
importer on both inputs: it is written only if it reproduces the model's outputs.

Why the speed wing stays on: the file is the graph of the model as it runs. The wing's ops are
registered drop-ins of a reference op (``fast.SPEEDUPS``) and export as that op; its fused ops
export as their parts. An op that is neither is refused, never guessed.

>>> dn.onnx.export(model, dn.randn(1, 1, 28, 28), "lenet.onnx")
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deepnum.onnx import modules_out, ops_out
from deepnum.onnx.builder import Builder, ExportError
from deepnum.onnx.trace import Step, Trace, key_of, record
from deepnum.tensor import Tensor

DEFAULT_OPSET = 17  # every onnxruntime since 1.12 (2022) runs it; see docs in __init__
OPSETS = range(13, 22)  # the opsets the converters are written (and tested) for


def export(model, example_input, path, opset_version: int = DEFAULT_OPSET,
           dynamic_batch: bool = True, input_names=None, output_names=None) -> Path:
    """Write ``model`` as an ONNX file at ``path``; returns the path.

    ``example_input`` is a tensor (or a tuple of them) of the shape the model takes; with
    ``dynamic_batch`` the first axis of every input and output is free ("batch").
    """
    from deepnum.serialization import atomic_write

    proto = to_onnx(model, example_input, opset_version, dynamic_batch, input_names,
                    output_names)
    path = Path(path)
    atomic_write(path, proto.SerializeToString())
    return path


def to_onnx(model, example_input, opset_version: int = DEFAULT_OPSET, dynamic_batch=True,
            input_names=None, output_names=None):
    """The ``onnx.ModelProto`` that :func:`export` writes."""
    onnx = _require_onnx()
    if opset_version not in OPSETS:
        raise ExportError(f"opset_version must be between {OPSETS.start} and {OPSETS.stop - 1}, "
                          f"got {opset_version}")
    examples = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    first = [_leaf(x) for x in examples]
    second = [_variant(t, dynamic_batch, i) for i, t in enumerate(first)]
    was_training = model.training
    model.eval()
    try:
        trace = record(model, tuple(first), modules_out.exported_whole)
        other = record(model, tuple(second), modules_out.exported_whole)
    finally:
        model.train(was_training)
    name = type(model).__name__
    varying = _compare(trace, other, name)
    input_names = list(input_names or (["input"] if len(first) == 1 else
                                       [f"input_{i}" for i in range(len(first))]))
    output_names = list(output_names or (["output"] if len(trace.outputs) == 1 else
                                         [f"output_{i}" for i in range(len(trace.outputs))]))
    if len(input_names) != len(first) or len(output_names) != len(trace.outputs):
        raise ExportError(f"{name}: {len(first)} inputs and {len(trace.outputs)} outputs, but "
                          f"{len(input_names)} input names and {len(output_names)} output names")
    state = dict(model.named_state())
    g = Builder(opset_version, {id(t): k for k, t in state.items()})
    names = _emit(g, trace, varying, first, input_names, name)
    graph = _graph(onnx, g, trace, other, first, second, names, input_names, output_names)
    opsets = [onnx.helper.make_opsetid("", opset_version)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="deepnum",
                                   producer_version=_version(),
                                   doc_string=f"{name}, exported by deepnum")
    proto.ir_version = onnx.helper.find_min_ir_version_for(opsets)
    params = [k for k, t in model.named_parameters()]
    classes = {path or "(model)": type(m).__name__ for path, m in model.named_modules()}
    onnx.helper.set_model_props(proto, {
        "deepnum.model_class": name, "deepnum.classes": json.dumps(classes),
        "deepnum.parameters": json.dumps([k for k in params if k in g.initializers]),
        "deepnum.buffers": json.dumps([k for k in state if k not in params
                                       and k in g.initializers])})
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        raise ExportError(f"{name}: the ONNX graph deepnum built does not pass onnx.checker "
                          f"({str(error).splitlines()[0][:200]}); nothing was written") from None
    _verify(proto, [(first, trace), (second, other)], name)
    return proto


# ----------------------------------------------------------------------------- inputs
def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the onnx package: pip install 'deepnum[onnx]'"
                          ) from None
    return onnx


def _leaf(x) -> Tensor:
    """A fresh leaf holding the example's values; floating ones require grad, so every op
    that reads them is recorded."""
    array = np.asarray(x.array if isinstance(x, Tensor) else x)
    t = Tensor._wrap(np.array(array, copy=True))
    if array.dtype.kind == "f":
        t.requires_grad = True
    return t


def _variant(t: Tensor, grow: bool, seed: int) -> Tensor:
    """Other values of the same kind (and one more sample when ``grow``), for the second trace."""
    a = t.array
    rng = np.random.default_rng(12345 + seed)
    shape = list(a.shape)
    if grow and shape:
        shape[0] += 1
    if a.dtype.kind == "f":  # centred at 0 whatever the example's mean: signs change too
        spread = float(a.std()) if a.size and np.isfinite(a).all() and a.std() > 0 else 1.0
        values = (rng.standard_normal(shape) * spread).astype(a.dtype)
    elif a.dtype.kind in "iu" and a.size:  # ids: the example's own, reshuffled (valid ones)
        values = rng.choice(a.reshape(-1), size=shape).astype(a.dtype)
    elif a.dtype.kind == "b":
        values = rng.random(shape) < 0.5
    else:
        values = np.zeros(shape, a.dtype)
    return _leaf(values)


# ----------------------------------------------------------------------------- the two traces
def _compare(trace: Trace, other: Trace, name: str) -> list:
    """Per step, the attributes that differ in the second trace; raises where the graphs
    differ or a constant depends on the input."""
    changes = (f"{name}: the model's graph changes with its input (control flow on the "
               f"input's values or shape?)")
    if len(trace.steps) != len(other.steps) or len(trace.outputs) != len(other.outputs):
        raise ExportError(f"{changes}: {len(trace.steps)} ops for the example input, "
                          f"{len(other.steps)} for another")
    inputs_a = {id(t): i for i, t in enumerate(trace.inputs)}
    inputs_b = {id(t): i for i, t in enumerate(other.inputs)}
    varying = []
    for step, twin in zip(trace.steps, other.steps):
        if step.kind is not twin.kind or len(step.inputs) != len(twin.inputs) or (
                step.whole and step.op.module is not twin.op.module):
            raise ExportError(f"{changes}: {step.describe()} against {twin.describe()}")
        for a, b in zip(step.inputs, twin.inputs):
            _compare_input(step, a, b, inputs_a, inputs_b, name)
        varying.append({} if step.whole else _differing(step, twin))
    return varying


def _compare_input(step: Step, a, b, inputs_a, inputs_b, name: str) -> None:
    if a._ctx is not None or b._ctx is not None:
        if (a._ctx is None) != (b._ctx is None):
            raise ExportError(f"{name}: {step.describe()} reads a value that is computed for one "
                              f"input and constant for another")
        return
    if id(a) in inputs_a or id(b) in inputs_b:
        if inputs_a.get(id(a)) != inputs_b.get(id(b)):
            raise ExportError(f"{name}: {step.describe()} reads the input in one trace and not "
                              f"in the other")
        return
    if a is b:  # a parameter, a buffer or a constant kept by the model
        return
    same = a.array.shape == b.array.shape and a.array.dtype == b.array.dtype and np.array_equal(
        a.array, b.array, equal_nan=a.array.dtype.kind in "fc")
    if not same:
        raise ExportError(
            f"{name}: {step.describe()} reads a constant of shape {tuple(a.shape)} that "
            f"changes with the input: it was computed from the input's values outside the "
            f"graph (e.g. from .array or .numpy(), a mask, a detached tensor), so the file would "
            f"freeze one input's value; write it with tensor operations")


def _differing(step: Step, twin: Step) -> dict:
    if type(step.op).__name__ == "_Identity":  # the backward hooks' pass-through
        return {}
    mine, theirs = step.op.attributes, twin.op.attributes
    out = {}
    for key in set(mine) | set(theirs):
        if not _same(mine.get(key), theirs.get(key)):
            out[key] = theirs.get(key)
    return out


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, slice) and isinstance(b, slice):
        return (a.start, a.stop, a.step) == (b.start, b.stop, b.step)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


# ----------------------------------------------------------------------------- emitting
def _emit(g: Builder, trace: Trace, varying: list, first: list, input_names, name) -> dict:
    names = {("leaf", id(t)): n for t, n in zip(first, input_names)}

    def name_of(t: Tensor) -> str:
        key = key_of(t)
        if key not in names:
            if t._ctx is not None:  # pragma: no cover - the walk orders every producer first
                raise ExportError(f"{name}: internal error, a value used before it is made")
            names[key] = g.state(t)
        return names[key]

    for step, other in zip(trace.steps, varying):
        g.scope = step.call.path if step.call is not None else ""
        inputs = [name_of(t) for t in step.inputs]
        try:
            outputs = _convert(g, step, inputs, other)
        except ExportError as error:
            raise ExportError(f"cannot export {name}: {step.describe()}: {error}") from None
        except (KeyError, ValueError, TypeError, IndexError) as error:
            raise ExportError(f"cannot export {name}: {step.describe()}: {error!r}") from None
        if len(outputs) < len(step.outputs) and not step.whole:
            raise ExportError(f"cannot export {name}: {step.describe()} makes "
                              f"{len(step.outputs)} outputs, its converter {len(outputs)}")
        for key, out in zip(step.outputs, outputs):
            names[key] = out
    return names


def _convert(g: Builder, step: Step, inputs: list, other: dict) -> list:
    if step.whole:
        return modules_out.MODULES[type(step.op.module)].convert(g, step.op, inputs)
    fn = step.op
    cls = type(fn)
    if cls.__name__ == "_Identity" and cls.__module__ == "deepnum.nn.hooks":
        return list(inputs)
    reference, fused = resolve(cls)
    convert = ops_out.CONVERTERS[reference]
    if other and not getattr(convert, "batch_aware", False):
        raise ExportError(f"its attributes {sorted(other)} change with the batch size; export "
                          f"with dynamic_batch=False")
    outputs = convert(g, fn, inputs, other)
    for extra in fused:
        if extra == "relu":
            outputs = g.node("Relu", outputs)
        elif extra == "max_pool2d":
            kernel, stride, padding, dilation = fn.attributes["pool"]
            outputs = [ops_out.max_pool(g, outputs[0], kernel, stride, padding, dilation)]
    return outputs


_FUSED_HEADS = {"linear": "Linear", "conv2d": "Conv2d"}


def resolve(cls) -> tuple[type, tuple]:
    """(the reference op that ``cls`` computes, the fused ops that follow it)."""
    if cls in ops_out.CONVERTERS:
        return cls, ()
    from deepnum import fast
    from deepnum.fast import (  # noqa: F401 - they register their speed-ups
        activation,
        conv,
        conv_pool,
        linear,
        norm,
        pool,
    )

    for reference, entries in fast.SPEEDUPS.items():
        if not any(impl is cls for impl, _ in entries):
            continue
        if isinstance(reference, type) and reference in ops_out.CONVERTERS:
            return reference, ()
        if isinstance(reference, tuple) and reference[0] in _FUSED_HEADS:
            head = next(c for c in cls.__mro__ if c in ops_out.CONVERTERS
                        and c.__name__ == _FUSED_HEADS[reference[0]])
            return head, tuple(reference[1:])
    if cls.__name__ == "_UserFunction":
        raise ExportError("a custom autograd Function has no ONNX form")
    raise ExportError(f"{cls.__module__}.{cls.__name__} has no ONNX form in deepnum")


# ----------------------------------------------------------------------------- the graph
def _graph(onnx, g: Builder, trace, other, first, second, names, input_names, output_names):
    helper = onnx.helper
    for t, public in zip(trace.outputs, output_names):
        g.scope = ""
        g.nodes.append(helper.make_node("Identity", [names[key_of(t)]], [public],
                                        name=f"/output/{public}"))
    inputs = [_value_info(helper, n, a, b) for n, a, b in zip(input_names, first, second)]
    outputs = [_value_info(helper, n, a, b) for n, a, b in
               zip(output_names, trace.outputs, other.outputs)]
    used = {i for node in g.nodes for i in node.input}
    initializers = [t for n, t in g.initializers.items() if n in used]
    return helper.make_graph(g.nodes, "deepnum", inputs, outputs, initializer=initializers)


def _value_info(helper, name: str, a: Tensor, b: Tensor):
    dims = [size if size == other_size else "batch"
            for size, other_size in zip(a.shape, b.shape)]
    dtype = helper.np_dtype_to_tensor_dtype(a.array.dtype)
    return helper.make_tensor_value_info(name, dtype, dims)


def _verify(proto, runs, name: str) -> None:
    """Run the file with deepnum's importer on both traces' inputs; it must give the model's
    outputs (float32: 1e-4 relative; the two differ only in the order of float operations)."""
    from deepnum.autograd.grad_mode import no_grad
    from deepnum.onnx.importer import from_proto

    graph = from_proto(proto, "<exported>")
    for inputs, trace in runs:
        with no_grad():
            got = graph(*[Tensor._wrap(t.array) for t in inputs])
        got = got if isinstance(got, tuple) else (got,)
        for i, (mine, want) in enumerate(zip(got, trace.outputs)):
            if mine.shape != want.shape or not np.allclose(
                    mine.array, want.array, rtol=1e-4, atol=1e-5, equal_nan=True):
                raise ExportError(f"{name}: the exported graph's output {i} does not reproduce "
                                  f"the model's (shape {tuple(mine.shape)} vs "
                                  f"{tuple(want.shape)}); nothing was written")


def _version() -> str:
    import deepnum

    return deepnum.__version__
