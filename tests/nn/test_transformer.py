"""TransformerEncoderLayer/DecoderLayer, TransformerEncoder/Decoder and Transformer against
PyTorch on identical weights (outputs and every gradient, post- and pre-norm, relu/gelu/callable
activations, masks, batch_first; evaluation mode and dropout off), their state-dict layout and
init, generate_square_subsequent_mask, and errors."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, copy_module_weights

DTYPES = [np.float64, np.float32]


def _compare(make, inputs, dtype, rng, options=lambda lib: {}, train=False):
    ours, theirs = make(nn), make(torch.nn)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():  # randomise the norms' and biases' parameters too
        for p in theirs.parameters():
            p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.1, dtype=p.dtype))
    copy_module_weights(ours, theirs)
    if not train:
        ours.eval(), theirs.eval()
    check_against_torch(lambda *a: ours(*a, **options(dn)), lambda *a: theirs(*a, **options(torch)),
                        inputs, dtype)
    for (name, a), (_, e) in zip(ours.named_parameters(), theirs.named_parameters()):
        if e.grad is None:  # e.g. a decoder's parameters when only the encoder ran
            assert a.grad is None, name
            continue
        assert_close(a.grad, e.grad, dtype, f"{name} gradient")


def _causal(lib, size, dtype):
    mask = (dn.nn if lib is dn else torch.nn).Transformer.generate_square_subsequent_mask(size)
    return mask.double() if dtype == np.float64 else mask


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(activation, norm_first, dtype, rng):
    padding = rng.random((3, 5)) > 0.7
    padding[:, 0] = False
    _compare(lambda lib: lib.TransformerEncoderLayer(16, 4, 32, activation=activation,
                                                     norm_first=norm_first),
             [rng.standard_normal((5, 3, 16))], dtype, rng,
             lambda lib: dict(src_mask=_causal(lib, 5, dtype),
                              src_key_padding_mask=lib.tensor(padding)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(norm_first, dtype, rng):
    _compare(lambda lib: lib.TransformerDecoderLayer(16, 4, 32, activation="gelu",
                                                     norm_first=norm_first, batch_first=True),
             [rng.standard_normal((3, 5, 16)), rng.standard_normal((3, 4, 16))], dtype, rng,
             lambda lib: dict(tgt_mask=_causal(lib, 5, dtype), tgt_is_causal=True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_stacks_and_transformer_match_torch(dtype, rng):
    _compare(lambda lib: lib.TransformerEncoder(lib.TransformerEncoderLayer(16, 4, 32), 2,
                                                lib.LayerNorm(16)),
             [rng.standard_normal((5, 3, 16))], dtype, rng,
             lambda lib: dict(mask=_causal(lib, 5, dtype), is_causal=True))
    _compare(lambda lib: lib.TransformerDecoder(lib.TransformerDecoderLayer(16, 4, 32), 2),
             [rng.standard_normal((5, 3, 16)), rng.standard_normal((4, 3, 16))], dtype, rng)
    memory_padding = np.zeros((3, 4), bool)
    memory_padding[1, 2:] = True
    _compare(lambda lib: lib.Transformer(16, 4, 2, 1, 32, batch_first=True, norm_first=True),
             [rng.standard_normal((3, 4, 16)), rng.standard_normal((3, 5, 16))], dtype, rng,
             lambda lib: dict(tgt_mask=_causal(lib, 5, dtype),
                              memory_key_padding_mask=lib.tensor(memory_padding),
                              src_key_padding_mask=lib.tensor(memory_padding)))


def test_training_mode_with_dropout_zero_and_a_callable_activation(rng):
    """Training mode (no fast path anywhere) with dropout 0 equals PyTorch; a callable
    activation (here F.silu / torch's) is used as given."""
    _compare(lambda lib: lib.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation=F.silu if lib is nn else torch.nn.functional.silu),
        [rng.standard_normal((4, 2, 8))], np.float64, rng, train=True)
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU())
    assert "activation" in dict(layer.named_children())  # a module: a submodule, as PyTorch


def test_dropout_is_active_in_training_only(rng):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5).double()
    x = dn.tensor(rng.standard_normal((4, 2, 8)))
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


def test_layout_init_and_mask():
    model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=1,
                           dim_feedforward=32)
    theirs = torch.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2,
                                  num_decoder_layers=1, dim_feedforward=32)
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    w = model.encoder.layers[0].linear1.weight.numpy()  # Xavier-uniform for every matrix
    assert np.abs(w).max() <= np.sqrt(6 / (16 + 32))
    layers = model.encoder.layers
    assert layers[0].linear1.weight is not layers[1].linear1.weight  # copies, not one layer
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask.numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert mask.dtype == np.float32
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=dn.float64).dtype == np.float64


def test_errors():
    with pytest.raises(ValueError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="embed_dim .8. must be divisible by num_heads .3."):
        nn.TransformerEncoderLayer(8, 3)
    with pytest.raises(ValueError, match="TransformerDecoderLayer: dropout"):
        nn.TransformerDecoderLayer(8, 2, dropout=1.5)
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(dn.ShapeError, match="the batch number of src and tgt must be equal"):
        model(dn.randn(4, 2, 8), dn.randn(4, 3, 8))
    with pytest.raises(dn.ShapeError, match="the feature number of src and tgt"):
        model(dn.randn(4, 2, 8), dn.randn(4, 2, 6))


def test_saved_and_rebuilt(tmp_path, rng):
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, norm_first=True,
                                                             activation="gelu"), 2)
    loaded = dn.load(dn.save(model, tmp_path / "encoder.safetensors"))
    model.eval(), loaded.eval()
    x = dn.tensor(rng.standard_normal((5, 2, 8)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_inference_equals_torch_fast_path(rng):
    """Under no_grad in eval mode PyTorch runs its fused inference kernels (batch_first
    encoder layers, with a padding mask): deepnum's composed layers give the same numbers."""
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 2)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 4, 32,
                                                                          batch_first=True), 2,
                                         enable_nested_tensor=False)
    copy_module_weights(ours, theirs)
    ours.eval(), theirs.eval()
    x = rng.standard_normal((3, 6, 16)).astype(np.float32)
    padding = np.zeros((3, 6), bool)
    padding[0, 4:] = True
    with dn.no_grad(), torch.no_grad():
        a = ours(dn.tensor(x), src_key_padding_mask=dn.tensor(padding))
        b = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(padding))
    assert_close(a, b, np.float32, "inference")
