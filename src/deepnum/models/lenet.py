"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998), adapted to 28x28 images.

The lecture's pattern: convolution -> pooling -> convolution -> pooling -> fully connected layers.
The 1998 network read 32x32 images; on 28x28 (MNIST, Fashion-MNIST) the first convolution pads by 2,
so every later shape is the original one:

    1x28x28 -conv 6@5x5 pad 2-> 6x28x28 -pool 2-> 6x14x14 -conv 16@5x5-> 16x10x10 -pool 2->
    16x5x5 = 400 -fc-> 120 -fc-> 84 -fc-> 10              61,706 parameters for 10 classes

>>> model = build("lenet5", num_classes=10)
>>> model(dn.randn(128, 1, 28, 28)).shape          # (128, 10)
"""

from __future__ import annotations

from deepnum import nn
from deepnum.models import register
from deepnum.nn.module import Module

_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(Module):
    """LeNet-5 with a choice of activation and pooling; 61,706 parameters for 10 classes at 28x28.

    Defaults are ReLU and max pooling. The 1998 paper used a scaled tanh and "subsampling" (a
    trainable average) and trained for 20 epochs; ReLU does not saturate, so the gradient reaches
    the first layers undiminished and SGD converges in far fewer epochs, and max pooling keeps the
    strongest response of each feature, which is what a classifier needs (the lecture's "max
    pooling"). Both choices add no parameters, so the count is the paper's; pass
    ``activation="tanh", pooling="avg"`` for the historical network.

    Memory: a training step at batch 128 (float32, forward + backward + SGD with momentum) works in
    about 14 MiB with the compiled kernels (deepnum.fast): 10.1 MiB of im2col block buffers, reused
    from one step to the next, and 4.2 MiB allocated during the step (tracemalloc peak; ``python
    benchmarks/bench_lenet.py --memory``), 0.10-0.14 MiB per sample at batch 256-64. On the NumPy
    path it is 24.2 + 7.7 MiB, 0.25 MiB per sample. The weights, their gradients and the momentum
    add 0.7 MiB.

    >>> model = LeNet5(num_classes=10, activation="tanh", pooling="avg")
    >>> model.num_parameters()                      # 61706
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size=(28, 28),
                 activation: str = "relu", pooling: str = "max"):
        super().__init__()
        nn.activation(activation)  # an unknown name fails here, naming the choices
        if pooling not in _POOLS:
            raise ValueError(f"LeNet5: pooling must be one of {list(_POOLS)}, got {pooling!r}")
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        fh, fw = (h // 2 - 4) // 2, (w // 2 - 4) // 2  # after pad-2 conv, pool, conv 5x5, pool
        if fh < 1 or fw < 1:
            raise ValueError(f"LeNet5: input_size must be at least 12x12, got {input_size!r}")
        pool = _POOLS[pooling]

        def act():
            return nn.activation(activation)

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), act(), pool(2),
            nn.Conv2d(6, 16, kernel_size=5), act(), pool(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * fh * fw, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register("lenet5")
def lenet5(num_classes: int = 10, in_channels: int | None = None, input_shape=None,
           activation: str = "relu", pooling: str = "max", **_):
    """LeNet-5 for (in_channels, H, W) images; ``input_shape`` (e.g. (1, 28, 28)) sets both."""
    size = (28, 28)
    if input_shape is not None:
        if len(input_shape) != 3:
            raise ValueError(f"lenet5: input_shape must be (channels, height, width), "
                             f"got {input_shape!r}")
        in_channels = input_shape[0] if in_channels is None else in_channels
        size = tuple(input_shape[1:])
    return LeNet5(num_classes, 1 if in_channels is None else in_channels, size, activation,
                  pooling)
