"""The functional API: every layer's computation as a plain function of tensors.

Layers in :mod:`deepnum.nn` hold parameters and call these; users call them directly when they want
no state. Each is composed from the primitives in :mod:`deepnum.ops`, so its gradient is free.

>>> import deepnum.nn.functional as F
>>> F.cross_entropy(logits, labels)      # fused, stable log-softmax + NLL
"""

from __future__ import annotations

import numpy as np

from deepnum import fast, functions
from deepnum.autograd.grad_mode import _grad_mode, no_grad
from deepnum.errors import ShapeError
from deepnum.functions import where
from deepnum.functions.inplace import bump
from deepnum.ops import activation as activation_ops
from deepnum.ops import elementwise, linalg
from deepnum.ops import loss as loss_ops
from deepnum.random import get_rng
from deepnum.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")  # how a loss reduces over the batch


def shape_error(layer, expected: str, got: tuple) -> ShapeError:
    """The one message for a shape that does not fit: the layer, what it wants, what it got."""
    name = layer if isinstance(layer, str) else repr(layer).split("\n")[0]
    return ShapeError(f"{name}: expected {expected}, got input of shape {tuple(got)}")


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` arguments as a reduction (with its
    warning): reduce=False gives 'none', size_average=False 'sum', otherwise 'mean'."""
    if size_average is None and reduce is None:
        return reduction
    import warnings

    warnings.warn("size_average and reduce args will be deprecated, please use "
                  "reduction='mean' (or 'sum', 'none') instead.", UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def in_place(x: Tensor, compute, reads_input: bool = True) -> Tensor:
    """PyTorch's ``inplace=True``: x <- compute(x) in x's own memory, and x returned.

    x's views see the new values, its version is bumped (so a backward that saved the old values
    raises instead of computing a wrong gradient), and when autograd records, x takes the op's
    place in the graph. ``compute`` runs on a handle of x's place in the graph: a copy of its
    values if the op's backward reads its input (``reads_input``), else x's memory itself, which
    an op such as ReLUInPlace overwrites directly (then nothing is copied).
    """
    if not x.array.flags.writeable:  # an expanded (broadcast) view: one element, many places
        raise RuntimeError(f"in-place operation on a tensor of shape {tuple(x.shape)} whose "
                           f"memory is read-only (more than one element of the written-to "
                           f"tensor may refer to a single memory location): clone() it first")
    if not _grad_mode.enabled or not x.requires_grad:
        with no_grad():
            out = compute(x)
    else:
        if x._ctx is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        handle = Tensor._wrap(x.array.copy() if reads_input else x.array)
        handle.requires_grad, handle._ctx, handle._index = True, x._ctx, x._index
        out = compute(handle)
        x._ctx, x._index, x.requires_grad = out._ctx, out._index, out.requires_grad
    if out.array is not x.array:
        try:
            np.copyto(x.array, out.array, casting="same_kind")
        except (TypeError, ValueError) as error:  # a read-only (expanded) view, another dtype
            raise RuntimeError(f"in-place operation on a tensor of shape {tuple(x.shape)}: "
                               f"{error}") from None
    bump(x)
    return x


# ---------------------------------------------------------------------------- linear
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b  (W is out x in, as in PyTorch)."""
    if bias is None:
        return linalg.Linear.apply(x, weight)
    return linalg.Linear.apply(x, weight, bias)


# ---------------------------------------------------------------------------- tensors
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (*) as one-hot rows (*, num_classes) of int64 (num_classes=-1: max + 1)."""
    t = tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensors (integers), got {t.dtype}")
    if t.size and t.min() < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(t.max()) + 1 if t.size else 0
    elif t.size and t.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {int(t.max())}.")
    return Tensor._wrap((t[..., None] == np.arange(num_classes)).astype(np.int64))


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad (or, with negative sizes, crop) in PyTorch's order: (left, right) of the last axis,
    then of the one before...; ``mode`` 'constant' (``value``, 0 by default), 'reflect',
    'replicate' or 'circular'. deepnum.pad does the work; a constant pad that crops some sides
    and pads others is a crop, then a pad."""
    sizes = tuple(int(p) for p in pad)
    if mode == "constant" and any(p < 0 for p in sizes) and any(p > 0 for p in sizes):
        cropped = functions.pad(input, tuple(min(p, 0) for p in sizes))
        return functions.pad(cropped, tuple(max(p, 0) for p in sizes), mode, value)
    return functions.pad(input, sizes, mode, value)


# ---------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU(z) = max(0, z); ``inplace=True`` writes it into the input's memory."""
    if inplace:
        return in_place(input, fast.choose(activation_ops.ReLUInPlace).apply,
                        reads_input=False)
    return fast.choose(elementwise.ReLU).apply(input)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def sigmoid(x: Tensor) -> Tensor:
    """sigma(z) = 1 / (1 + e^-z), stable for large |z|."""
    return elementwise.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z)."""
    return elementwise.Tanh.apply(x)


def _softmax_dim(name: str, x: Tensor, dim):
    """PyTorch's implicit dim (with its warning) when none is given: 0 for 0-, 1- and 3-D
    inputs, else 1."""
    if dim is not None:
        return dim
    import warnings

    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if x.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """p_i = e^{z_i} / sum_j e^{z_j}, computed after subtracting max z so e^z cannot overflow."""
    return functions.softmax(input, _softmax_dim("softmax", input, dim), dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """log p_i = z_i - log sum_j e^{z_j}, stable (never log 0)."""
    return functions.log_softmax(input, _softmax_dim("log_softmax", input, dim), dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """softmax(-z): weights that favour the smallest entries."""
    return softmax(-input, _softmax_dim("softmin", input, dim), dtype=dtype)


def step(x: Tensor) -> Tensor:
    """Unit step: sigma(z) = 1 if z > 0, 0.5 if z = 0, 0 if z < 0 (the perceptron's activation).

    Its gradient is 0 almost everywhere (and taken as 0 at z = 0), so nothing below it learns by
    gradient descent: that is why the lecture moves on to sigmoid.
    ``step(dn.tensor([-1., 0., 2.]))`` gives ``[0, 0.5, 1]``.
    """
    return elementwise.Step.apply(x)


def sign(x: Tensor) -> Tensor:
    """Sign: sigma(z) = 1 if z > 0, 0 if z = 0, -1 if z < 0.

    Its gradient is 0 almost everywhere (taken as 0 everywhere, as ``torch.sign``).
    """
    return elementwise.Sign.apply(x)


def identity(x: Tensor) -> Tensor:
    """Linear (identity) activation: sigma(z) = z; gradient 1."""
    return x


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """LeakyReLU(z) = z if z > 0 else negative_slope * z (a small gradient where ReLU has none)."""
    if inplace:
        return in_place(input, lambda x: activation_ops.LeakyReLU.apply(
            x, negative_slope=negative_slope, inplace=True), reads_input=False)
    return activation_ops.LeakyReLU.apply(input, negative_slope=negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(z) = z if z > 0 else alpha * (e^z - 1): smooth, saturating at -alpha for z -> -inf."""
    def compute(x):
        negative = (x.clip(max=0).exp() - 1) * alpha  # clip: e^z of a large z would overflow
        return where(x.array > 0, x, negative)

    return in_place(input, compute) if inplace else compute(input)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """SELU(z) = scale * ELU(z, alpha), alpha = 1.6733, scale = 1.0507: self-normalising (Klambauer
    et al. 2017), activations keep mean 0 and variance 1 through many layers."""
    if inplace:
        return in_place(input, selu)
    return elu(input, SELU_ALPHA) * SELU_SCALE


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """softplus(z) = (1/beta) log(1 + e^(beta z)), a smooth ReLU; z itself where beta z > threshold
    (PyTorch's semantics). Stable: never overflows, never rounds small values to 0."""
    return elementwise.Softplus.apply(x, beta=beta, threshold=threshold)


def maxout(x: Tensor, pieces: int, dim: int = 1) -> Tensor:
    """Maxout: h_j = max_k z_{j,k}, the max over ``pieces`` consecutive features of axis ``dim``.

    (N, out * pieces) -> (N, out): unit j takes features j*pieces ... j*pieces + pieces - 1.
    ``maxout(dn.randn(8, 12), pieces=3).shape`` is ``(8, 4)``.
    """
    dim = dim % max(x.ndim, 1)
    if x.ndim == 0 or x.shape[dim] % pieces:
        raise shape_error("maxout", f"axis {dim} divisible by pieces={pieces}", x.shape)
    grouped = x.reshape(x.shape[:dim] + (x.shape[dim] // pieces, pieces) + x.shape[dim + 1:])
    return grouped.amax(dim + 1)


# ---------------------------------------------------------------------------- dropout
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each input with probability p and scale the rest by 1/(1-p) in
    training, so that at test time the layer is the identity. The lecture scales at test time
    instead, W_test = (1-p) W_train; both give the same expected activation."""
    return dropout_mask(input, p, training, inplace, input.shape, "dropout")


def dropout_mask(x: Tensor, p: float, training: bool, inplace: bool, mask_shape,
                 name: str) -> Tensor:
    """x times a keep mask of ``mask_shape`` (x's shape; (N, C, 1, 1) drops whole channels)
    scaled by 1/(1-p): what dropout, dropout1d and dropout2d share."""
    if not 0 <= p < 1:
        raise ValueError(f"{name}: p must be in [0, 1), got {p!r}")
    if not training or p == 0:
        return x
    keep = get_rng().random(mask_shape, dtype=x.dtype if x.dtype.kind == "f" else np.float32) >= p
    mask = Tensor._wrap(keep.astype(x.dtype) * np.asarray(1 / (1 - p), dtype=x.dtype))
    if inplace:
        return in_place(x, lambda t: elementwise.Mul.apply(t, mask), reads_input=False)
    return elementwise.Mul.apply(x, mask)


# ---------------------------------------------------------------------------- losses
def mse_loss_shape_warning(input: Tensor, target) -> None:
    """PyTorch's warning for a target broadcast against an input of another shape."""
    if tuple(input.shape) != tuple(target.shape):
        import warnings

        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the "
                      f"input size ({tuple(input.shape)}). This will likely lead to incorrect "
                      f"results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Square loss: mean of (y - t)^2. Shapes that differ are broadcast with PyTorch's warning
    (an (N, 1) output against (N,) targets gives an (N, N) loss: almost always a bug)."""
    mse_loss_shape_warning(input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy from logits: -sum_c q_c log softmax(z)_c, with q one-hot (class indices) or
    given probabilities. Its gradient with respect to z is p - q (the lecture's result).

    ``input`` is (N, C) or (N, C, d1, ...); ``target`` is class indices (N, d1, ...) or
    probabilities of the same shape as ``input``.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {REDUCTIONS}, "
                         f"got {reduction!r}")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing!r}")
    t = target.array if isinstance(target, Tensor) else np.asarray(target)
    w = None if weight is None else np.asarray(getattr(weight, "data", weight), dtype=input.dtype)
    if input.ndim == 1:  # a single sample: (C,) with a scalar target
        out = cross_entropy(input.unsqueeze(0), Tensor._wrap(t.reshape(1, *t.shape[0:])
                            if t.ndim else t.reshape(1)), weight, ignore_index, reduction,
                            label_smoothing)
        return out.squeeze(0) if reduction == "none" else out
    c = input.shape[1]
    if t.dtype.kind == "f":  # probability targets
        if t.shape != input.shape:
            raise ShapeError(f"cross_entropy: probability targets must have the input's shape "
                             f"{input.shape}, got {t.shape}")
        q = target_tensor(target, input)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / c
        logp = log_softmax(input, dim=1)
        term = logp * q
        if w is not None:
            term = term * Tensor._wrap(w.reshape((1, c) + (1,) * (input.ndim - 2)))
        per_sample = -term.sum(1)
        return per_sample.mean() if reduction == "mean" else _reduce(per_sample, reduction)
    if t.shape != (input.shape[0],) + input.shape[2:]:
        raise ShapeError(f"cross_entropy: class-index targets must have shape "
                         f"{(input.shape[0],) + input.shape[2:]} for input {input.shape}, "
                         f"got {t.shape}")
    logits = input
    if input.ndim > 2:  # (N, C, d...) -> (N*d..., C)
        logits = input.permute(0, *range(2, input.ndim), 1).reshape(-1, c)
    out = loss_ops.CrossEntropy.apply(logits, target=t.reshape(-1).astype(np.int64, copy=False),
                                      weight=w, ignore_index=ignore_index,
                                      label_smoothing=label_smoothing, reduction=reduction)
    if reduction == "none" and input.ndim > 2:
        out = out.reshape(t.shape)
    return out


def _target_array(target, like: Tensor) -> np.ndarray:
    t = target.array if isinstance(target, Tensor) else np.asarray(target)
    return t.astype(like.dtype, copy=False) if t.dtype.kind in "fb" else t


def target_tensor(target, like: Tensor) -> Tensor:
    """A loss's target as a tensor of the input's dtype: a soft target that requires grad keeps
    its graph (PyTorch's losses differentiate their targets too); anything else is a constant."""
    if isinstance(target, Tensor) and target.requires_grad:
        return target if target.array.dtype == like.array.dtype else target.astype(like.dtype)
    return Tensor._wrap(_target_array(target, like))


def _same_shape(name: str, input: Tensor, target) -> None:
    if input.shape != tuple(target.shape):
        raise ShapeError(f"{name}: input shape {input.shape} and target shape "
                         f"{tuple(target.shape)} differ (broadcasting a loss is almost always "
                         f"a bug)")


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities: L_i = -w[y_i] * input[i, y_i].

    ``input`` is (N, C) or (N, C, d1, ...) log-probabilities (e.g. from log_softmax), ``target``
    class indices (N, d1, ...). 'mean' divides by the summed weight of non-ignored targets.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    t = np.asarray(target.array if isinstance(target, Tensor) else target)
    if input.ndim == 1:
        out = nll_loss(input.unsqueeze(0), t.reshape(1), weight, ignore_index, reduction)
        return out.squeeze(0) if reduction == "none" else out
    c = input.shape[1]
    if t.dtype.kind not in "iu" or t.shape != (input.shape[0],) + input.shape[2:]:
        raise ShapeError(f"nll_loss: targets must be integer class indices of shape "
                         f"{(input.shape[0],) + input.shape[2:]} for input {input.shape}, got "
                         f"{t.dtype} {t.shape}")
    logp = input.permute(0, *range(2, input.ndim), 1).reshape(-1, c) if input.ndim > 2 else input
    flat = t.reshape(-1)
    valid = flat != ignore_index
    safe = np.where(valid, flat, 0)
    if np.any(safe < 0) or np.any(safe >= c):
        raise IndexError(f"nll_loss: target {flat[valid & ((flat < 0) | (flat >= c))][0]} is out "
                         f"of bounds for {c} classes")
    w = np.ones(c, dtype=input.dtype) if weight is None else np.asarray(
        getattr(weight, "data", weight), dtype=input.dtype)
    w_y = (w[safe] * valid).astype(input.dtype)
    loss = -logp[np.arange(len(flat)), safe] * Tensor._wrap(w_y)
    if reduction == "none":
        return loss.reshape(t.shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / Tensor._wrap(np.asarray(w_y.sum(), dtype=input.dtype))


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities: L = -w (t log y + (1 - t) log(1 - y)), each log
    clamped at -100 as in PyTorch. ``input`` holds probabilities (after a sigmoid)."""
    t = target_tensor(target, input)
    _same_shape("binary_cross_entropy", input, t)
    loss = loss_ops.BinaryCrossEntropy.apply(input, t)
    if weight is not None:
        loss = loss * Tensor._wrap(_target_array(weight, input))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """The logistic loss on logits z: L = -w [p t log sigma(z) + (1 - t) log(1 - sigma(z))],
    with p = ``pos_weight`` (per class, weighting the positives).

    Computed as (1 - t) z + (1 + (p - 1) t) softplus(-z), which never forms sigma(z) and so stays
    finite and exact for |z| = 1000; its gradient is sigma(z) - t when p = 1.
    """
    t_ = target_tensor(target, input)
    _same_shape("binary_cross_entropy_with_logits", input, t_)
    log_weight = 1.0
    if pos_weight is not None:
        p = Tensor._wrap(_target_array(pos_weight, input))
        log_weight = (p - 1) * t_ + 1
    loss = (1 - t_) * input + softplus(-input, threshold=float("inf")) * log_weight
    if weight is not None:
        loss = loss * Tensor._wrap(_target_array(weight, input))
    return _reduce(loss, reduction)


def hinge_loss(input: Tensor, target, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Binary hinge loss of scores y against labels t in {-1, +1}: L = max(0, margin - t y).

    The lecture's loss with margin 1: zero once a sample is on the right side by the margin.
    (PyTorch has no direct equivalent; ``HingeEmbeddingLoss`` is a different loss.)
    """
    t = _target_array(target, input)
    _same_shape("hinge_loss", input, t)
    if t.size and not np.all((t == 1) | (t == -1)):
        raise ValueError("hinge_loss: targets must be -1 or +1")
    return _reduce(relu(margin - input * Tensor._wrap(t.astype(input.dtype))), reduction)


def multi_margin_loss(input: Tensor, target, p: int = 1, margin: float = 1.0, weight=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss (Crammer-Singer style, as torch.nn.MultiMarginLoss):
    L_n = sum_{i != y} w[y] max(0, margin - z_y + z_i)^p / C."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p!r}")
    if input.ndim == 1:
        out = multi_margin_loss(input.unsqueeze(0), np.asarray(getattr(target, "data", target))
                                .reshape(1), p, margin, weight, reduction)
        return out.squeeze(0) if reduction == "none" else out
    t = np.asarray(target.array if isinstance(target, Tensor) else target)
    n, c = input.shape
    if input.ndim != 2 or t.shape != (n,):
        raise ShapeError(f"multi_margin_loss: expected input (N, C) and target (N,), got "
                         f"{input.shape} and {t.shape}")
    rows = np.arange(n)
    z_y = input[rows, t].reshape(n, 1)
    others = Tensor._wrap((np.arange(c) != t[:, None]).astype(input.dtype))
    hinge = relu(margin - z_y + input) * others
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        w = np.asarray(getattr(weight, "data", weight), dtype=input.dtype)
        hinge = hinge * Tensor._wrap(w[t].reshape(n, 1))
    return _reduce(hinge.sum(1) / c, reduction)


# Functional forms written beside their layers, re-exported here so F.<name> finds them.
from deepnum.nn.attention import (  # noqa: E402, F401
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
from deepnum.nn.distance import cosine_similarity, normalize, pairwise_distance  # noqa: E402, F401
from deepnum.nn.dropout import alpha_dropout, dropout1d, dropout2d  # noqa: E402, F401
from deepnum.nn.embedding import embedding  # noqa: E402, F401
from deepnum.nn.fold import fold, unfold  # noqa: E402, F401
from deepnum.nn.functional_activation import *  # noqa: E402, F403 - gelu, silu, hardtanh...
from deepnum.nn.functional_conv import *  # noqa: E402, F403 - conv, pooling and batch norm
from deepnum.nn.instancenorm import instance_norm  # noqa: E402, F401
from deepnum.nn.loss_embedding import (  # noqa: E402, F401
    cosine_embedding_loss,
    margin_ranking_loss,
    triplet_margin_loss,
)
from deepnum.nn.loss_likelihood import gaussian_nll_loss, kl_div, poisson_nll_loss  # noqa: E402, F401
from deepnum.nn.loss_robust import huber_loss, l1_loss, smooth_l1_loss  # noqa: E402, F401
from deepnum.nn.normalization import group_norm, layer_norm  # noqa: E402, F401
from deepnum.nn.upsampling import interpolate, upsample  # noqa: E402, F401
