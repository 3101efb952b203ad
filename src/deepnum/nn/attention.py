"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention`` (PyTorch's
arguments, masks and parameter layout), composed from matrix products and a softmax, so every
gradient (and the double backward) comes free.

Each query asks every key how well it matches and takes the values in those proportions:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + B) V          (Vaswani et al. 2017)

B is 0 where a query may look and -inf where it may not (a causal mask: no looking ahead; a
padding mask: no looking at padding). Multi-head attention projects the inputs h times into
d = E / h dimensions, attends in each head, concatenates and projects back:

    MHA(q, k, v) = concat_i(Attention(q W_q^i, k W_k^i, v W_v^i)) W_o

Mask conventions differ, as in PyTorch: in ``scaled_dot_product_attention`` a boolean mask is
True where attention is *allowed*; in ``MultiheadAttention`` (``attn_mask`` and
``key_padding_mask``) True marks what is *masked out*. A float mask is added to the scores.

>>> mha = nn.MultiheadAttention(embed_dim=64, num_heads=4, batch_first=True)
>>> out, weights = mha(x, x, x)            # x (N, L, 64): self-attention
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.creation import empty
from deepnum.errors import ShapeError
from deepnum.functions import cat, where
from deepnum.nn import functional as F
from deepnum.nn import init
from deepnum.nn._validate import positive_int
from deepnum.nn.linear import Linear
from deepnum.nn.module import Module, Parameter
from deepnum.tensor import Tensor


def _constant(array) -> Tensor:
    return Tensor._wrap(np.asarray(array))


def _bias_of_bool(mask: np.ndarray, masked_where: bool, dtype) -> np.ndarray:
    """0 where attention is allowed, -inf where not; ``masked_where`` is the value of the
    boolean mask that means "not allowed"."""
    return np.where(mask == masked_where, -np.inf, 0).astype(dtype)


def attend(scores: Tensor, value: Tensor, bias, dropout_p: float = 0.0, safe: bool = True):
    """softmax(scores + bias) @ value and the attention weights. With ``safe``, a row of scores
    that are all -inf (a query that may look nowhere) gets weights 0, not NaN (PyTorch's SDPA
    does the same; its MultiheadAttention with need_weights=True gives NaN: safe=False)."""
    if bias is not None:
        scores = scores + bias
    empty = np.isneginf(scores.array).all(-1, keepdims=True) if safe else None
    if empty is not None and empty.any():
        zero = _constant(np.zeros((), scores.array.dtype))
        weights = F.softmax(where(empty, zero, scores), -1) * _constant(
            (~empty).astype(scores.array.dtype))
    else:
        weights = F.softmax(scores, -1)
    if dropout_p > 0:
        weights = F.dropout(weights, dropout_p, True)
    return weights @ value, weights


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale=None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + B) V over (..., L, E) queries, (..., S, E) keys, (..., S, Ev)
    values, scale = 1/sqrt(E) by default. ``attn_mask``: boolean (True = may attend) or float
    (added), broadcast to (..., L, S); ``is_causal``: query i sees keys 0..i only (not together
    with attn_mask); ``dropout_p``: dropout on the weights (always applied, as in
    PyTorch: pass 0 in evaluation); ``enable_gqa``: fewer key/value heads than query heads."""
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype}, key.dtype: {key.dtype}, and "
                           f"value.dtype: {value.dtype} instead.")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2 or query.shape[-1] != key.shape[-1] \
            or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: expected query (..., L, E), key "
                         f"(..., S, E) and value (..., S, Ev), got {tuple(query.shape)}, "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(groups, -3), value.repeat_interleave(groups, -3)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    length, source = query.shape[-2], key.shape[-2]
    dtype = query.array.dtype
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    bias = None
    if is_causal:
        bias = _constant(_bias_of_bool(np.tril(np.ones((length, source), bool)), False, dtype))
    if attn_mask is not None:
        mask = attn_mask if isinstance(attn_mask, Tensor) else _constant(attn_mask)
        if mask.array.dtype == np.bool_:
            mask = _constant(_bias_of_bool(mask.array, False, dtype))
        bias = mask if bias is None else bias + mask
    return attend(scores, value, bias, dropout_p)[0]


def _float_mask(mask, name: str, dtype):
    """A MultiheadAttention mask as something to add: boolean True -> -inf, float kept."""
    if mask is None:
        return None
    mask = mask if isinstance(mask, Tensor) else _constant(mask)
    if mask.array.dtype == np.bool_:
        return _constant(_bias_of_bool(mask.array, True, dtype))
    if mask.array.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported")
    return mask if mask.array.dtype == dtype else mask.astype(dtype)


def _pad_last(mask, width: int = 1):
    """A zero column (nothing masked) for an added key: bias_k or the zero attention."""
    return None if mask is None else F.pad(mask, (0, width))


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v,
                                 add_zero_attn: bool, dropout_p: float, out_proj_weight,
                                 out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """MultiheadAttention's computation on (L, N, E) query and (S, N, E) key/value (or
    unbatched (L, E), (S, E)), PyTorch's arguments. Returns (output, weights or None)."""
    batched = query.ndim == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    length, batch, embed = query.shape
    if embed != embed_dim_to_check or key.ndim != 3 or value.shape[:2] != key.shape[:2] \
            or key.shape[1] != batch:
        raise ShapeError(f"multi_head_attention_forward: expected query (L, N, "
                         f"{embed_dim_to_check}) and key, value (S, N, *), got "
                         f"{tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
    head = embed // num_heads
    dtype = query.array.dtype
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if use_separate_proj_weight:
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        weights = in_proj_weight.chunk(3)
    biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    q, k, v = (F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    source = key.shape[0]
    use_causal_hint = is_causal and key_padding_mask is None and not need_weights
    attn_mask = None if use_causal_hint else _float_mask(attn_mask, "attn_mask", dtype)
    if attn_mask is not None:
        expected = (length, source) if attn_mask.ndim == 2 else (batch * num_heads, length,
                                                                 source)
        if tuple(attn_mask.shape) != expected:
            raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is "
                               f"{tuple(attn_mask.shape)}, but should be {expected}.")
        if attn_mask.ndim == 2:
            attn_mask = attn_mask.unsqueeze(0)
    key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", dtype)
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != (batch, source):
        raise ShapeError(f"key_padding_mask: expected shape {(batch, source)}, got "
                         f"{tuple(key_padding_mask.shape)}")
    if bias_k is not None:  # one learned key and value more, seen by every query
        k = cat([k, bias_k.repeat(1, batch, 1)])
        v = cat([v, bias_v.repeat(1, batch, 1)])
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)

    # (L, N, E) -> (N*H, L, d): the heads side by side in the batch
    q = q.reshape(length, batch * num_heads, head).transpose(0, 1)
    k = static_k if static_k is not None else \
        k.reshape(k.shape[0], batch * num_heads, head).transpose(0, 1)
    v = static_v if static_v is not None else \
        v.reshape(v.shape[0], batch * num_heads, head).transpose(0, 1)
    if add_zero_attn:  # a zero key and value more
        zeros = _constant(np.zeros((batch * num_heads, 1, head), dtype))
        k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    source = k.shape[1]
    if key_padding_mask is not None:  # (N, S) -> (N*H, 1, S), merged into the mask
        padding = key_padding_mask.reshape(batch, 1, 1, source).expand(
            batch, num_heads, 1, source).reshape(batch * num_heads, 1, source)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if use_causal_hint:
        attn_mask = _constant(_bias_of_bool(np.tril(np.ones((length, source), bool)), False,
                                            dtype))
    dropout_p = dropout_p if training else 0.0

    scores = (q * math.sqrt(1.0 / head)) @ k.transpose(-2, -1)
    out, weights = attend(scores, v, attn_mask, dropout_p, safe=not need_weights)
    out = out.transpose(0, 1).reshape(length * batch, embed)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(length, batch, embed)
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    weights = weights.reshape(batch, num_heads, length, source)
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        out, weights = out.squeeze(1), weights.squeeze(0)
    return out, weights


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's output projection: a Linear layer under PyTorch's class name (so the
    module prints as PyTorch's)."""


class MultiheadAttention(Module):
    """Multi-head attention: ``num_heads`` attentions of dimension embed_dim / num_heads side by
    side, their outputs concatenated and projected (see the module docstring).

    Parameters have PyTorch's names and layout: ``in_proj_weight`` (3E, E) stacks W_q, W_k,
    W_v (or ``q_proj_weight``, ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when the
    key or value size differs), ``in_proj_bias`` (3E), ``out_proj`` (Linear E -> E), optional
    ``bias_k``/``bias_v`` (1, 1, E). Inputs are (L, N, E), or (N, L, E) with
    ``batch_first=True``, or unbatched (L, E). ``forward`` returns (output, weights): weights
    (N, L, S) averaged over the heads, (N, H, L, S) with ``average_attn_weights=False``, None
    with ``need_weights=False``.

    >>> mha = nn.MultiheadAttention(64, 4, batch_first=True)
    >>> mha(x, x, x)[0].shape                              # x (8, 10, 64) -> (8, 10, 64)
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = positive_int(name, "embed_dim", embed_dim)
        self.num_heads = positive_int(name, "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"{name}: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout!r}")
        self.kdim = embed_dim if kdim is None else positive_int(name, "kdim", kdim)
        self.vdim = embed_dim if vdim is None else positive_int(name, "vdim", vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.head_dim, self.add_zero_attn = embed_dim // num_heads, bool(add_zero_attn)
        factory = dict(dtype=dtype, device=device)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **factory))
            for name_ in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name_, None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", Parameter(empty(3 * embed_dim, **factory))
                                if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **factory))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **factory))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v (the
        output projection keeps Linear's default weight)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False):
        if query.ndim not in (2, 3) or query.shape[-1] != self.embed_dim or \
                key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ShapeError(f"MultiheadAttention(embed_dim={self.embed_dim}): expected query "
                             f"(L, N, {self.embed_dim}), key (S, N, {self.kdim}) and value "
                             f"(S, N, {self.vdim}) (or unbatched), got input of shapes "
                             f"{tuple(query.shape)}, {tuple(key.shape)} and "
                             f"{tuple(value.shape)}")
        if self.batch_first and query.ndim == 3:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if self.batch_first and query.ndim == 3:
            out = out.transpose(0, 1)
        return out, weights
