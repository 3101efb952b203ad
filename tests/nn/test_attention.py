"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch on identical weights:
outputs, attention weights and every gradient, each mask kind, kdim/vdim, bias_kv, zero
attention, batch_first, unbatched inputs; dropout; finite differences; errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, copy_module_weights

DTYPES = [np.float64, np.float32]


def _qkv(rng, batch=(2, 3), length=4, source=5, embed=8, value=6):
    return [rng.standard_normal(batch + (length, embed)),
            rng.standard_normal(batch + (source, embed)),
            rng.standard_normal(batch + (source, value))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["plain", "bool", "float", "causal", "scale",
                                  "fully_masked_row", "broadcast_mask", "unbatched"])
def test_sdpa_matches_torch(case, dtype, rng):
    q, k, v = _qkv(rng)
    allowed = rng.random((4, 5)) > 0.3
    allowed[:, 0] = True
    kwargs, inputs = {}, [q, k, v]
    if case == "bool":
        kwargs["attn_mask"] = allowed
    elif case == "float":
        inputs.append(rng.standard_normal((4, 5)))    # a learned additive bias gets a gradient
    elif case == "causal":
        kwargs["is_causal"] = True
    elif case == "scale":
        kwargs["scale"] = 0.3
    elif case == "fully_masked_row":  # PyTorch's SDPA gives 0 (not NaN) for such a query
        allowed[1] = False
        kwargs["attn_mask"] = allowed
    elif case == "broadcast_mask":
        kwargs["attn_mask"] = rng.random((2, 1, 4, 5)) > 0.2
    elif case == "unbatched":
        inputs = [a[0, 0] for a in inputs]

    def call(lib, fn):
        def run(*tensors):
            options = {key: lib.tensor(value) if isinstance(value, np.ndarray) else value
                       for key, value in kwargs.items()}
            if len(tensors) == 4:
                options["attn_mask"] = tensors[3]
            return fn(*tensors[:3], **options)
        return run

    check_against_torch(call(dn, F.scaled_dot_product_attention),
                        call(torch, TF.scaled_dot_product_attention), inputs, dtype)


def test_sdpa_gqa_gradcheck_and_dropout(rng):
    q, k, v = rng.standard_normal((1, 4, 3, 8)), rng.standard_normal((1, 2, 5, 8)), \
        rng.standard_normal((1, 2, 5, 8))
    check_against_torch(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                        [q, k, v])
    q, k, v = _qkv(rng, batch=(2,))
    assert dn.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=False),
                        [q, k, v])
    # dropout on the weights: rows no longer sum to one, the expectation is kept
    ones = dn.ones(1, 1, 200, 16)
    out = F.scaled_dot_product_attention(ones, ones, ones, dropout_p=0.5)
    assert 0.8 < out.numpy().mean() < 1.2 and (out.numpy() != 1).any()
    assert dn.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=0.3),
                        [q, k, v])


def test_sdpa_double_backward(rng):
    q, k, v = _qkv(rng, batch=(2,))
    results = []
    for lib, fn in ((dn, F.scaled_dot_product_attention), (torch, TF.scaled_dot_product_attention)):
        qt, kt, vt = (lib.tensor(a, requires_grad=True) for a in (q, k, v))
        (g,) = lib.autograd.grad((fn(qt, kt, vt) ** 2).sum(), (qt,), create_graph=True)
        (g * g).sum().backward()
        results.append((qt.grad, kt.grad, vt.grad))
    for a, e in zip(*results):
        assert_close(a, e, what="second derivative")


def test_sdpa_errors():
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(dn.randn(2, 3, 4), dn.randn(2, 3, 4).double(),
                                       dn.randn(2, 3, 4))
    with pytest.raises(dn.ShapeError, match="scaled_dot_product_attention"):
        F.scaled_dot_product_attention(dn.randn(2, 3, 4), dn.randn(2, 3, 5), dn.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
        x = dn.randn(2, 3, 4)
        F.scaled_dot_product_attention(x, x, x, attn_mask=dn.ones(3, 3).bool(), is_causal=True)


MHA = {
    "default": dict(),
    "kdim_vdim": dict(kdim=3, vdim=5),
    "bias_kv_zero_attn": dict(add_bias_kv=True, add_zero_attn=True),
    "batch_first": dict(batch_first=True),
    "no_bias": dict(bias=False),
}
CALLS = {
    "weights": dict(),
    "attn_mask_bool": dict(attn_mask="bool"),
    "attn_mask_float": dict(attn_mask="float"),
    "attn_mask_3d": dict(attn_mask="3d"),
    "key_padding": dict(key_padding_mask="bool"),
    "both_per_head": dict(attn_mask="bool", key_padding_mask="bool", average_attn_weights=False),
    "no_weights": dict(need_weights=False, key_padding_mask="bool"),
    "causal_hint": dict(need_weights=False, attn_mask="causal", is_causal=True),
}


def _masks(call, rng, length, source, batch, heads, dtype):
    out = dict(call)
    kinds = {"bool": lambda: rng.random((length, source)) > 0.7,
             "float": lambda: rng.standard_normal((length, source)).astype(dtype),
             "3d": lambda: rng.random((batch * heads, length, source)) > 0.7,
             "causal": lambda: np.triu(np.full((length, source), -np.inf, dtype), 1)}
    if "attn_mask" in call:
        out["attn_mask"] = kinds[call["attn_mask"]]()
    if "key_padding_mask" in call:
        padding = rng.random((batch, source)) > 0.7
        padding[:, 0] = False  # every query keeps a key: no all-masked row (NaN in PyTorch)
        out["key_padding_mask"] = padding
    if "attn_mask" in out and out["attn_mask"].dtype == bool:
        out["attn_mask"][..., 0] = False
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("config", sorted(MHA))
def test_multihead_attention_matches_torch(config, call, dtype, rng):
    kwargs = MHA[config]
    ours = nn.MultiheadAttention(8, 2, **kwargs)
    theirs = torch.nn.MultiheadAttention(8, 2, **kwargs)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    with torch.no_grad():  # random weights everywhere (PyTorch starts the biases at 0)
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_module_weights(ours, theirs)
    length, source, batch = 4, 5, 3
    shape = (lambda n, e: (batch, n, e)) if kwargs.get("batch_first") else \
        (lambda n, e: (n, batch, e))
    inputs = [rng.standard_normal(shape(length, 8)),
              rng.standard_normal(shape(source, kwargs.get("kdim", 8))),
              rng.standard_normal(shape(source, kwargs.get("vdim", 8)))]
    options = _masks(CALLS[call], rng, length, source, batch, 2, dtype)

    def run(lib, module):
        def forward(*tensors):
            given = {key: lib.tensor(value) if isinstance(value, np.ndarray) else value
                     for key, value in options.items()}
            out, weights = module(*tensors, **given)
            # both outputs into one: the weights' gradient path is checked too
            return out if weights is None else out.sum() * 0.1 + (weights * weights).sum()
        return forward

    check_against_torch(run(dn, ours), run(torch, theirs), inputs, dtype)
    for (name, a), (_, e) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(a.grad, e.grad, dtype, f"{name} gradient")


def test_unbatched_and_weights_shapes(rng):
    mha = nn.MultiheadAttention(8, 2)
    x = dn.tensor(rng.standard_normal((4, 8)).astype(np.float32))
    out, weights = mha(x, x, x)
    assert out.shape == (4, 8) and weights.shape == (4, 4)
    out, weights = mha(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1), average_attn_weights=False)
    assert out.shape == (4, 1, 8) and weights.shape == (1, 2, 4, 4)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1, rtol=1e-5)


def test_dropout_only_in_training(rng):
    mha = nn.MultiheadAttention(8, 2, dropout=0.5).double()
    x = dn.tensor(rng.standard_normal((6, 2, 8)))
    a, b = mha(x, x, x)[0], mha(x, x, x)[0]
    assert not np.allclose(a.numpy(), b.numpy())
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy())
    mha.train()
    assert dn.gradcheck(lambda t: mha(t, t, t)[0], [rng.standard_normal((3, 2, 8))])


def test_init_and_layout_as_torch():
    mha = nn.MultiheadAttention(16, 4)
    assert mha.in_proj_weight.shape == (48, 16) and mha.in_proj_bias.shape == (48,)
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    bound = np.sqrt(6 / (16 + 48))  # Xavier-uniform over the stacked (3E, E) matrix
    assert np.abs(mha.in_proj_weight.numpy()).max() <= bound
    assert repr(mha) == repr(torch.nn.MultiheadAttention(16, 4))
    separate = nn.MultiheadAttention(16, 4, kdim=5, vdim=7)
    assert separate.in_proj_weight is None and separate.k_proj_weight.shape == (16, 5)


def test_errors(rng):
    with pytest.raises(ValueError, match="MultiheadAttention: embed_dim .10. must be divisible"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    x = dn.randn(4, 2, 8)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        mha(x, x, x, attn_mask=dn.zeros(3, 4))
    with pytest.raises(dn.ShapeError, match="MultiheadAttention"):
        mha(x, dn.randn(4, 2, 6), x)
    with pytest.raises(dn.ShapeError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=dn.zeros(3, 4).bool())


def test_saved_and_rebuilt(tmp_path, rng):
    model = nn.Sequential(nn.Linear(4, 8), nn.TransformerEncoderLayer(8, 2, 16, batch_first=True))
    loaded = dn.load(dn.save(model, tmp_path / "m.safetensors"))
    model.eval(), loaded.eval()
    x = dn.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
