"""deepnum: a from-first-principles deep-learning framework on NumPy.

>>> import deepnum as dn, deepnum.nn as nn
>>> model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""

from deepnum.tensor import Tensor  # noqa: I001 - first: the ops import it
from deepnum.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from deepnum.creation import (
    arange,
    eye,
    from_numpy,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from deepnum.errors import DataError, DeepnumError, ModelFileError, ShapeError
from deepnum.functions import (
    abs,
    cat,
    clamp,
    clip,
    concatenate,
    exp,
    log,
    matmul,
    maximum,
    minimum,
    pad,
    sqrt,
    stack,
    where,
)
from deepnum.random import get_rng, manual_seed
# Bound eagerly: a lazy __getattr__ would be shadowed by the submodule of that name once imported.
from deepnum.gradcheck import GradcheckError, gradcheck
from deepnum import jit

float32 = "float32"
float64 = "float64"
int64 = "int64"

__version__ = "0.1.0"


def __getattr__(name):
    # Subpackages that pull in more code load on first use, so `import deepnum` stays fast.
    import importlib

    if name in ("nn", "optim", "data", "train", "models"):
        return importlib.import_module(f"deepnum.{name}")
    if name in ("save", "load"):
        return getattr(importlib.import_module("deepnum.serialization"), name)
    raise AttributeError(f"module 'deepnum' has no attribute {name!r}")
