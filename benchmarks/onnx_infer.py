"""The exported LeNet-5 in onnxruntime next to deepnum and PyTorch: inference of one sample and
of a batch of 1000, from the same weights (the suite's LeNet-5, :mod:`benchmarks.lenet`).

    python -m benchmarks.bench --cases onnx               # as a case of the suite
    python -m benchmarks.onnx_infer --threads 2            # alone
"""

from __future__ import annotations

import numpy as np

from benchmarks import lenet
from benchmarks.mlp import deepnum_inference, torch_inference


def available() -> str | None:
    """None when onnx and onnxruntime are installed, else the reason the case cannot run."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed (pip install 'deepnum[onnx]')"
    return None


def onnx_bytes(model, sample: np.ndarray) -> bytes:
    """The model as an ONNX file's bytes (dn.onnx.export without the file)."""
    import deepnum as dn
    from deepnum.onnx.exporter import to_onnx

    return to_onnx(model, dn.tensor(sample[:1])).SerializeToString()


def onnxruntime_inference(data: bytes, x_batch: np.ndarray, threads: int):
    """A timed callable: one onnxruntime run of the file on ``x_batch``, on ``threads`` threads
    (the same count NumPy's BLAS and PyTorch get)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.ascontiguousarray(x_batch)}

    def predict():
        return session.run(None, feed)

    return predict


def contenders(x_batch: np.ndarray, threads: int) -> dict:
    """name -> timed callable, after checking the three agree on this batch."""
    model = lenet.deepnum_model()
    data = onnx_bytes(model, x_batch)
    predicts = {"onnxruntime": onnxruntime_inference(data, x_batch, threads),
                "deepnum": deepnum_inference(model, x_batch),
                "pytorch": torch_inference(lenet.torch_model(model), x_batch)}
    ours = predicts["deepnum"]().numpy()
    np.testing.assert_allclose(predicts["onnxruntime"]()[0], ours, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(predicts["pytorch"]().numpy(), ours, rtol=1e-4, atol=1e-5)
    return predicts


def main(argv=None) -> None:
    import argparse

    from benchmarks import bench

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    bench.main(["--cases", "onnx", "--threads", str(args.threads), "--repeats",
                str(args.repeats)])


if __name__ == "__main__":
    main()
