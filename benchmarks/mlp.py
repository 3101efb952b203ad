"""The MLP 784-256-128-10 (ReLU, cross-entropy, SGD lr 0.01 momentum 0.9) in four implementations.

deepnum, PyTorch and the hand-written NumPy loop start from the same weights; each ``*_epoch``
builder does its set-up and returns a callable that trains one epoch (or ``steps`` mini-batches),
which the harness times. scikit-learn's MLPClassifier does the same work with its own
initialisation (a reference, not an exact twin).
"""

from __future__ import annotations

import numpy as np

SIZES = (784, 256, 128, 10)
LR, MOMENTUM = 0.01, 0.9


def flops_per_epoch(num_samples: int, sizes=SIZES) -> int:
    """Matrix-multiply flops of one epoch: forward x W^T, backward dW = g^T x for every layer and
    dx = g W for every layer but the first (the images need no gradient); 2 flops per
    multiply-add. Bias, ReLU, softmax and the update are O(weights) or O(activations): left out."""
    macs = [i * o for i, o in zip(sizes, sizes[1:])]
    per_sample = sum(macs) + sum(macs) + sum(macs[1:])
    return 2 * per_sample * num_samples


def gemm_ceiling(batch_size: int = 128, steps: int = 200, sizes=SIZES) -> dict:
    """The matrix products of one training step and nothing else (forward x W^T for every
    layer, backward g^T x for every layer and g W for all but the first), on the same arrays
    every time (caches hot), timed over ``steps`` steps (lower quartile of 3 rounds): the most any
    implementation of this design can reach, as GFLOP/s."""
    import time

    rng = np.random.default_rng(0)
    ws = [rng.random((o, i), dtype=np.float32) for i, o in zip(sizes, sizes[1:])]
    hs = [rng.random((batch_size, s), dtype=np.float32) for s in sizes]

    def step() -> None:
        for k, w in enumerate(ws):
            hs[k] @ w.T
            hs[k + 1].T @ hs[k]
            if k:
                hs[k + 1] @ w

    rounds = []
    for _ in range(3):
        step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        rounds.append((time.perf_counter() - start) / steps)
    seconds = float(np.percentile(rounds, 25))
    flops = flops_per_epoch(batch_size, sizes)
    return {"batch": batch_size, "us_per_step": round(seconds * 1e6, 1),
            "gflops": round(flops / seconds / 1e9, 1)}


def batches(num_samples: int, batch_size: int, steps: int | None):
    starts = range(0, num_samples, batch_size)
    return list(starts)[:steps] if steps else list(starts)


# ---------------------------------------------------------------------------- models
def deepnum_model():
    import deepnum as dn
    from deepnum import nn

    dn.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def weights_of(dn_model) -> list[np.ndarray]:
    """[W0, b0, W1, b1, W2, b2] copies in PyTorch's layout (out, in)."""
    return [p.array.copy() for p in dn_model.parameters()]


def torch_model(weights):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    return model


# ---------------------------------------------------------------------------- training epochs
def deepnum_training(model, x, y, batch_size, steps=None):
    """One epoch of SGD-with-momentum training of a deepnum model, as a timed callable."""
    import deepnum as dn
    from deepnum import nn

    opt = dn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    starts = batches(len(x), batch_size, steps)
    wrap = dn.Tensor._wrap

    def run() -> None:
        for i in starts:
            opt.zero_grad()
            loss = loss_fn(model(wrap(x[i:i + batch_size])), y[i:i + batch_size])
            loss.backward()
            opt.step()

    return run


def torch_training(model, x, y, batch_size, steps=None):
    """The same epoch for a PyTorch model."""
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    starts = batches(len(x), batch_size, steps)

    def run() -> None:
        for i in starts:
            opt.zero_grad()
            loss = loss_fn(model(xt[i:i + batch_size]), yt[i:i + batch_size])
            loss.backward()
            opt.step()

    return run


def deepnum_epoch(x, y, batch_size, steps=None):
    return deepnum_training(deepnum_model(), x, y, batch_size, steps)


def torch_epoch(x, y, batch_size, steps=None):
    return torch_training(torch_model(weights_of(deepnum_model())), x, y, batch_size, steps)


def numpy_epoch(x, y, batch_size, steps=None):
    """The floor: the forward and backward passes written out by hand, no autograd, no objects."""
    params = weights_of(deepnum_model())
    ws, bs = params[0::2], params[1::2]
    vs = [np.zeros_like(p) for p in ws + bs]
    lr, mu = np.float32(LR), np.float32(MOMENTUM)
    starts = batches(len(x), batch_size, steps)

    def run() -> None:
        for i in starts:
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            n = len(xb)
            h1 = xb @ ws[0].T
            h1 += bs[0]
            np.maximum(h1, 0, out=h1)
            h2 = h1 @ ws[1].T
            h2 += bs[1]
            np.maximum(h2, 0, out=h2)
            z = h2 @ ws[2].T
            z += bs[2]
            z -= z.max(axis=1, keepdims=True)  # softmax, then dL/dz = (p - onehot) / n
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            z[np.arange(n), yb] -= 1
            z /= np.float32(n)
            g2w, g2b, g = z.T @ h2, z.sum(axis=0), z @ ws[2]
            g *= h2 > 0
            g1w, g1b, g = g.T @ h1, g.sum(axis=0), g @ ws[1]
            g *= h1 > 0
            g0w, g0b = g.T @ xb, g.sum(axis=0)
            for p, v, grad in zip(ws + bs, vs, (g0w, g1w, g2w, g0b, g1b, g2b)):
                v *= mu
                v += grad
                p -= lr * v

    return run


def sklearn_epoch(x, y, batch_size, steps=None):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    n = min(len(x), steps * batch_size) if steps else len(x)
    xs, ys = x[:n], y[:n]
    model = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], solver="sgd", alpha=0.0,
                          batch_size=batch_size, learning_rate_init=LR, momentum=MOMENTUM,
                          nesterovs_momentum=False, max_iter=1, shuffle=False, warm_start=True,
                          tol=0.0, n_iter_no_change=10**9, random_state=0)

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(xs, ys)  # warm_start + max_iter=1: one more epoch each call

    return run


# ---------------------------------------------------------------------------- inference
def deepnum_inference(model, x_batch):
    """A timed callable: one eval-mode forward pass of a deepnum model under no_grad()."""
    import deepnum as dn

    model.eval()
    xb = dn.Tensor._wrap(x_batch)

    def predict():
        with dn.no_grad():
            return model(xb)

    return predict


def torch_inference(model, x_batch):
    """The same for a PyTorch model, under inference_mode()."""
    import torch

    model.eval()
    xb = torch.from_numpy(x_batch)

    def predict():
        with torch.inference_mode():
            return model(xb)

    return predict


def deepnum_predict(x_batch):
    return deepnum_inference(deepnum_model(), x_batch)


def deepnum_compiled_predict(x_batch):
    """The same model through dn.compile: its captured inference plan."""
    import deepnum as dn

    return deepnum_inference(dn.compile(deepnum_model()), x_batch)


def torch_predict(x_batch):
    return torch_inference(torch_model(weights_of(deepnum_model())), x_batch)


def numpy_predict(x_batch):
    params = weights_of(deepnum_model())
    ws, bs = params[0::2], params[1::2]

    def predict():
        h = x_batch
        for k, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T
            h += b
            if k < len(ws) - 1:
                np.maximum(h, 0, out=h)
        return h

    return predict
