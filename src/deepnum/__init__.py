"""deepnum: a from-first-principles deep-learning framework on NumPy, with PyTorch's names, so
``import deepnum as torch`` runs PyTorch programs.

>>> import deepnum as dn, deepnum.nn as nn
>>> model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""

import builtins as _builtins  # noqa: I001 - deepnum.tensor first: the ops import it

from deepnum.tensor import Size, Tensor
from deepnum import autograd, cuda, backends, return_types
from deepnum.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from deepnum.creation import (
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_complex,
    is_floating_point,
    is_tensor,
    linspace,
    logspace,
    multinomial,
    normal,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from deepnum.device import device
from deepnum.dtypes import (
    bool,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types as _promote_types,
    set_default_dtype,
    short,
    uint8,
)
from deepnum.errors import DataError, DeepnumError, ModelFileError, ShapeError
from deepnum.functions import *  # noqa: F403 - dn.sum, dn.cat, dn.where ... (see functions/)
from deepnum.random import (
    Generator,
    default_generator,
    get_rng,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
# Bound eagerly: a lazy __getattr__ would be shadowed by the submodule of that name once imported.
from deepnum.gradcheck import GradcheckError, gradcheck
from deepnum.fast import jit

__version__ = "0.2.0"


def compile(model, **options):  # noqa: A001 - PyTorch's name
    """``torch.compile``'s place: inference of ``model`` replayed from a captured plan (see
    :func:`deepnum.fast.capture.compile`; the training step: ``Trainer(compile=True)``)."""
    from deepnum.fast.capture import compile as capture

    return capture(model, **options)


def set_flush_denormal(mode: bool) -> bool:
    """Flush subnormal floats to zero in this thread, as torch.set_flush_denormal (see
    deepnum.fast.denormals); returns whether it is supported here."""
    from deepnum.fast.denormals import set_flush_denormal as flush

    return flush(mode)


def promote_types(type1, type2) -> dtype:
    """The dtype both types promote to (torch.promote_types)."""
    from deepnum.dtypes import as_dtype

    return as_dtype(_promote_types(as_dtype(type1).numpy, as_dtype(type2).numpy))


def result_type(tensor1, tensor2) -> dtype:
    from deepnum.dtypes import as_dtype
    from deepnum.dtypes import result_type as _result_type

    return as_dtype(_result_type(tensor1, tensor2))


def can_cast(from_, to) -> bool:
    from deepnum.dtypes import as_dtype, category

    return category(as_dtype(from_).numpy) <= category(as_dtype(to).numpy)


def _typed(name: str, type_):
    def make(*data):
        """The legacy typed constructor (``torch.FloatTensor(...)``)."""
        if len(data) == 1 and not isinstance(data[0], _builtins.int):
            return tensor(data[0], dtype=type_)
        return zeros(*data, dtype=type_)

    make.__name__ = make.__qualname__ = name
    return make


FloatTensor = _typed("FloatTensor", float32)
DoubleTensor = _typed("DoubleTensor", float64)
HalfTensor = _typed("HalfTensor", float16)
LongTensor = _typed("LongTensor", int64)
IntTensor = _typed("IntTensor", int32)
ByteTensor = _typed("ByteTensor", uint8)
BoolTensor = _typed("BoolTensor", bool)


def __getattr__(name):
    # Subpackages that pull in more code load on first use, so `import deepnum` stays fast.
    import importlib

    if name in ("nn", "optim", "data", "train", "models", "utils", "onnx", "distributed",
                "linalg"):
        return importlib.import_module(f"deepnum.{name}")
    if name in ("save", "load"):
        return getattr(importlib.import_module("deepnum.serialization"), name)
    if name == "load_torch_state_dict":
        return importlib.import_module("deepnum.torch_checkpoint").load_torch_state_dict
    raise AttributeError(f"module 'deepnum' has no attribute {name!r}")
