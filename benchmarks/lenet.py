"""LeNet-5 (conv 6@5x5 pad 2, max-pool, conv 16@5x5, max-pool, 120, 84, 10; ReLU) in deepnum and
PyTorch from the same weights: a training epoch and inference, like :mod:`benchmarks.mlp`.

If the conv/pooling owner's ``benchmarks/bench_lenet.py`` defines ``deepnum_lenet()`` and
``torch_lenet()``, its models are used instead, so the suite and their script measure one network.
"""

from __future__ import annotations

import numpy as np

from benchmarks.mlp import deepnum_inference, deepnum_training, torch_inference, torch_training


def available() -> str | None:
    """None when deepnum has the layers LeNet-5 needs, else the reason it cannot run."""
    from deepnum import nn

    missing = [n for n in ("Conv2d", "MaxPool2d", "Flatten") if not hasattr(nn, n)]
    return f"deepnum.nn lacks {', '.join(missing)}" if missing else None


def _shared():
    try:
        from benchmarks import bench_lenet
    except ImportError:
        return None
    if hasattr(bench_lenet, "deepnum_lenet") and hasattr(bench_lenet, "torch_lenet"):
        return bench_lenet
    return None


def deepnum_model():
    import deepnum as dn
    from deepnum import nn

    dn.manual_seed(0)
    shared = _shared()
    if shared is not None:
        return shared.deepnum_lenet()
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def torch_model(dn_model):
    import torch

    shared = _shared()
    if shared is not None:
        model = shared.torch_lenet()
    else:
        tnn = torch.nn
        model = tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
            tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    with torch.no_grad():
        for p, q in zip(model.parameters(), dn_model.parameters()):
            p.copy_(torch.from_numpy(q.array.copy()))
    return model


def deepnum_epoch(x, y, batch_size, steps=None):
    return deepnum_training(deepnum_model(), x, y, batch_size, steps)


def torch_epoch(x, y, batch_size, steps=None):
    return torch_training(torch_model(deepnum_model()), x, y, batch_size, steps)


def deepnum_predict(x_batch: np.ndarray):
    return deepnum_inference(deepnum_model(), x_batch)


def deepnum_compiled_predict(x_batch):
    """The same model through dn.compile: its captured inference plan."""
    import deepnum as dn

    return deepnum_inference(dn.compile(deepnum_model()), x_batch)


def torch_predict(x_batch: np.ndarray):
    return torch_inference(torch_model(deepnum_model()), x_batch)
