"""The matrix-product floor of a model's training step: how fast any im2col + NumPy-BLAS design
could be, next to deepnum's and PyTorch's convolutions one by one and their whole steps.

    python -m benchmarks.conv_floor                      # ResNet-20, 32x32, batch 64, 1 thread
    python -m benchmarks.conv_floor --cases resnet20,resnet18 --repeats 9

Every convolution of the model (shapes read from one deepnum forward) is reduced to the matrix
products an im2col design must do, with K = C*kh*kw weights per filter and P = N*OH*OW output
pixels: the forward (O, K) x (K, P), the weight gradient (O, P) x (P, K) and, unless the layer
sees the images, the input gradient (K, O) x (O, P). Each is timed on NumPy's BLAS as is and
transposed (pixel-major (P, K) x (K, O), ...), whole and in blocks of 4,096 pixels, a stride-1
input gradient also as a convolution of the output gradient ((C, O*kh*kw) x (O*kh*kw, N*H*W)),
on preallocated hot arrays; the fastest counts. No im2col copy, no col2im, no batch norm, no
ReLU, no Python: the sum over the layers is a lower bound for deepnum's step on this BLAS. If
it is not well below PyTorch's whole step, no reorganisation of the rest reaches PyTorch's
speed; only faster products can.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from benchmarks import harness, models
from deepnum.fast.conv import BLOCK  # the most pixels deepnum puts in one block of columns


def conv_shapes(case: dict) -> list:
    """(input shape, weight shape, stride, padding, output shape, input needs a gradient, input
    stored batch-last) of every Conv2d in forward order, read by forward hooks from one deepnum
    forward of the case's model."""
    import deepnum as dn
    from deepnum import nn

    ours, _ = models.models(case)
    found = []

    def hook(module, inputs, output):
        x = inputs[0]
        found.append((tuple(x.shape), tuple(module.weight.shape), module.stride, module.padding,
                      tuple(output.shape), x.requires_grad or x.grad_fn is not None,
                      x.array.strides[0] == x.array.itemsize))

    handles = [m.register_forward_hook(hook) for m in ours.modules()
               if isinstance(m, nn.Conv2d)]
    x, _ = models.batches(case, 1)
    ours.train()
    ours(dn.from_numpy(x[0]))
    for h in handles:
        h.remove()
    return found


def _time(f, repeats: int) -> float:
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def product_seconds(m: int, k: int, n: int, repeats: int, pixels: str = "n") -> float:
    """Median seconds of the fastest way to do an (m, k) x (k, n) product whose ``pixels``
    dimension ("n" or "k") may be cut into blocks of BLOCK: whole or blocked (one block timed,
    times the number of blocks), as is or transposed ((n, k) x (k, m)), on C-contiguous float32
    arrays written into a preallocated result."""
    rng = np.random.default_rng(0)
    size = n if pixels == "n" else k
    best = float("inf")
    for block in {size, min(size, BLOCK)}:
        dims = (m, k, block) if pixels == "n" else (m, block, n)
        count = size / block
        for rows, inner, cols in (dims, dims[::-1]):
            a = rng.standard_normal((rows, inner), dtype=np.float32)
            b = rng.standard_normal((inner, cols), dtype=np.float32)
            out = np.empty((rows, cols), np.float32)
            seconds = _time(lambda a=a, b=b, out=out: np.matmul(a, b, out=out), repeats)
            best = min(best, seconds * count)
    return best


def conv_seconds(lib, x_shape, w_shape, stride, padding, needs_input_grad, batch_last,
                 repeats) -> float:
    """Median seconds of ``lib``'s forward + backward of one convolution of these shapes (deepnum
    or torch: the same names). deepnum's input is stored as in the network (batch-last or not),
    PyTorch's in its own NCHW order; the output gradient is in the output's memory order."""
    rng = np.random.default_rng(0)
    order = (1, 2, 3, 0) if batch_last and lib.__name__ == "deepnum" else (0, 1, 2, 3)
    stored = rng.standard_normal([x_shape[i] for i in order], dtype=np.float32)
    x = lib.from_numpy(stored.transpose(np.argsort(order))).requires_grad_(needs_input_grad)
    w = lib.from_numpy(rng.standard_normal(w_shape, dtype=np.float32)).requires_grad_()
    upstream = []

    def step() -> None:
        out = lib.nn.functional.conv2d(x, w, None, stride, padding)
        if not upstream:  # np.ones_like keeps the output's strides
            upstream.append(lib.from_numpy(np.ones_like(out.detach().numpy())))
        out.backward(upstream[0])

    return _time(step, repeats)


def floor_of(name: str, repeats: int) -> dict:
    import torch

    import deepnum

    case, libraries = models.CASES[name], {"deepnum": deepnum, "torch": torch}
    layers = []
    for x_shape, w_shape, stride, padding, out_shape, needs_input_grad, batch_last in \
            conv_shapes(case):
        o, c, kh, kw = w_shape
        k, p = c * kh * kw, out_shape[0] * out_shape[2] * out_shape[3]
        parts = {"forward": product_seconds(o, k, p, repeats),
                 "weight_grad": product_seconds(o, p, k, repeats, pixels="k"),
                 "input_grad": 0.0}
        if needs_input_grad:  # W^T g then col2im, or (stride 1) a convolution of g
            pixels_in = x_shape[0] * x_shape[2] * x_shape[3]
            parts["input_grad"] = min(product_seconds(k, o, p, repeats), product_seconds(
                c, o * kh * kw, pixels_in, repeats) if stride == (1, 1) else float("inf"))
        layers.append({"input": x_shape, "weight": w_shape, "stride": stride,
                       "gflop": round(2 * o * k * p * (3 if needs_input_grad else 2) / 1e9, 3),
                       "blas_ms": {kind: round(s * 1e3, 3) for kind, s in parts.items()},
                       "blas_total_ms": round(sum(parts.values()) * 1e3, 3),
                       **{f"{name}_ms": round(conv_seconds(
                           lib, x_shape, w_shape, stride, padding, needs_input_grad, batch_last,
                           repeats) * 1e3, 3) for name, lib in libraries.items()}})
    work = models.workloads(name, 1)
    steps = harness.interleave(work, repeats=repeats)
    step_ms = {k: round(v["median_s"] * 1e3, 1) for k, v in steps.items()}
    floor = sum(row["blas_total_ms"] for row in layers)
    return {"case": name, "layers": layers, "blas_floor_ms": round(floor, 1),
            "deepnum_convs_ms": round(sum(row["deepnum_ms"] for row in layers), 1),
            "torch_convs_ms": round(sum(row["torch_ms"] for row in layers), 1),
            "step_ms": step_ms, "floor_over_torch_step": round(floor / step_ms["pytorch"], 3),
            "load": harness.load_average()}


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="resnet20")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"threads {args.threads}; {harness.set_threads(args.threads)}", flush=True)
    results = []
    for name in args.cases.split(","):
        result = floor_of(name, args.repeats)
        results.append(result)
        print(f"\n{name}: conv | input | weight | stride | GFLOP | BLAS fwd / wgrad / dgrad ms | "
              f"BLAS sum | deepnum conv fwd+bwd | PyTorch conv fwd+bwd")
        for i, row in enumerate(result["layers"]):
            b = row["blas_ms"]
            print(f"{i} | {row['input']} | {row['weight']} | {row['stride']} | {row['gflop']} | "
                  f"{b['forward']:.2f} / {b['weight_grad']:.2f} / {b['input_grad']:.2f} | "
                  f"{row['blas_total_ms']:.2f} | {row['deepnum_ms']:.2f} | {row['torch_ms']:.2f}")
        steps = result["step_ms"]
        print(f"{name}: the convolutions' products alone on NumPy's BLAS "
              f"{result['blas_floor_ms']} ms a step; the convolutions one by one (fwd + bwd): "
              f"deepnum {result['deepnum_convs_ms']} ms, PyTorch {result['torch_convs_ms']} ms; "
              f"whole step: deepnum {steps['deepnum']} ms, PyTorch {steps['pytorch']} ms; "
              f"floor / PyTorch's step {result['floor_over_torch_step']} "
              f"(load {result['load'][0]})", flush=True)
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
