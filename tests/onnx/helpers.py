"""Export a deepnum model, run the file in onnxruntime and compare with deepnum."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

import deepnum as dn


def run_onnxruntime(path, *arrays):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, arrays)))


def outputs_of(model, *arrays):
    with dn.no_grad():
        out = model(*[dn.tensor(a) for a in arrays])
    out = out if isinstance(out, tuple) else (out,)
    flat = []
    for o in out:
        flat.extend(o if isinstance(o, tuple) else (o,))
    return [o.numpy() for o in flat if o is not None]


def random_input(shape, dtype=np.float32, seed=0, high=None):
    rng = np.random.default_rng(seed)
    if high is not None:
        return rng.integers(0, high, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def check_export(model, shape, tmp_path, batches=(1, 3, 7), high=None, rtol=1e-5, atol=1e-6,
                 **options):
    """Export ``model`` with an example of ``shape``; onnxruntime must give deepnum's outputs at
    every batch size in ``batches`` (through the dynamic axis). Returns the file's path."""
    model.eval()
    dtype = np.int64 if high is not None else np.float32
    path = dn.onnx.export(model, dn.tensor(random_input(shape, dtype, high=high)),
                          tmp_path / "model.onnx", **options)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    for i, n in enumerate(batches):
        x = random_input((n,) + tuple(shape[1:]), dtype, seed=i + 1, high=high)
        got, want = run_onnxruntime(path, x), outputs_of(model, x)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape, (g.shape, w.shape)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return path
