"""ConvTranspose2d and ConvTranspose1d layers: PyTorch layouts and state dicts, init, output_size,
repr, argument and shape errors, saving."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from tests.helpers import assert_close, check_against_torch, copy_module_weights


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3),
    dict(kernel_size=4, stride=2, padding=1, bias=False),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
         dilation=(2, 1)),
])
def test_conv_transpose2d_layer_matches_torch(kwargs, dtype, rng):
    ours, theirs = nn.ConvTranspose2d(4, 6, **kwargs), torch.nn.ConvTranspose2d(4, 6, **kwargs)
    ours, theirs = (ours.double(), theirs.double()) if dtype == np.float64 else (ours, theirs)
    assert ours.weight.shape == tuple(theirs.weight.shape)  # (in, out/groups, kH, kW)
    copy_module_weights(ours, theirs)
    check_against_torch(ours, theirs, [rng.standard_normal((2, 4, 5, 6))], dtype)
    assert_close(ours.weight.grad, theirs.weight.grad, dtype, "weight grad")
    if ours.bias is not None:
        assert_close(ours.bias.grad, theirs.bias.grad, dtype, "bias grad")


def test_conv_transpose1d_layer_matches_torch(rng):
    kwargs = dict(kernel_size=4, stride=2, padding=1, output_padding=1, groups=3)
    ours, theirs = nn.ConvTranspose1d(3, 6, **kwargs).double(), \
        torch.nn.ConvTranspose1d(3, 6, **kwargs).double()
    assert ours.weight.shape == (3, 2, 4) and ours.kernel_size == (4,) and ours.stride == (2,)
    copy_module_weights(ours, theirs)
    check_against_torch(ours, theirs, [rng.standard_normal((2, 3, 11))])
    assert_close(ours.weight.grad, theirs.weight.grad, what="weight grad")


def test_dcgan_shapes_and_unbatched():
    assert nn.ConvTranspose2d(100, 512, 4, 1, 0)(dn.randn(2, 100, 1, 1)).shape == (2, 512, 4, 4)
    assert nn.ConvTranspose2d(512, 256, 4, 2, 1)(dn.randn(2, 512, 4, 4)).shape == (2, 256, 8, 8)
    assert nn.ConvTranspose2d(3, 4, 3)(dn.randn(3, 5, 5)).shape == (4, 7, 7)


def test_default_init_matches_torch_bound():
    """PyTorch takes fan_in from the weight's second axis, out_channels/groups * kh * kw."""
    layer = nn.ConvTranspose2d(16, 6, 5)
    bound = 1 / np.sqrt(6 * 25)
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    assert layer.weight.numpy().std() > bound / 3


def test_output_size_as_pytorch(rng):
    ours, theirs = nn.ConvTranspose2d(3, 4, 3, stride=2).double(), \
        torch.nn.ConvTranspose2d(3, 4, 3, stride=2).double()
    copy_module_weights(ours, theirs)
    x = rng.standard_normal((2, 3, 5, 5))
    for size in ([11, 11], [12, 11], (2, 4, 12, 12)):
        assert_close(ours(dn.tensor(x), output_size=size),
                     theirs(torch.tensor(x), output_size=size))
    with pytest.raises(ValueError, match=r"valid sizes range from \[11, 11\] to \[12, 12\]"):
        ours(dn.tensor(x), output_size=[14, 14])


def test_repr_like_pytorch():
    for kwargs in (dict(), dict(stride=2, padding=1, output_padding=1, dilation=2, bias=False),
                   dict(groups=2, stride=(1, 2))):
        assert repr(nn.ConvTranspose2d(4, 6, 3, **kwargs)) == \
            repr(torch.nn.ConvTranspose2d(4, 6, 3, **kwargs))
    assert repr(nn.ConvTranspose1d(4, 6, 3, stride=2)) == \
        repr(torch.nn.ConvTranspose1d(4, 6, 3, stride=2))


@pytest.mark.parametrize("args,kwargs,match", [
    ((0, 6, 3), {}, "in_channels"),
    ((3, 6, 0), {}, "kernel_size"),
    ((3, 6, (3, 3, 3)), {}, "kernel_size"),
    ((3, 6, 3), dict(stride=0), "stride"),
    ((3, 6, 3), dict(padding=-1), "padding"),
    ((3, 6, 3), dict(output_padding=1), "output_padding must be smaller"),
    ((3, 6, 3), dict(dilation=0), "dilation"),
    ((3, 6, 3), dict(groups=2), "divisible by groups"),
    ((3, 6, 3), dict(padding_mode="reflect"), "zeros"),
])
def test_bad_hyperparameters_raise_at_construction(args, kwargs, match):
    with pytest.raises(ValueError, match=match) as err:
        nn.ConvTranspose2d(*args, **kwargs)
    assert "ConvTranspose2d" in str(err.value)


def test_shape_error_names_layer_and_both_shapes():
    with pytest.raises(dn.ShapeError) as err:
        nn.ConvTranspose2d(3, 6, 5)(dn.randn(4, 1, 8, 8))
    message = str(err.value)
    assert "ConvTranspose2d(3, 6" in message and "in_channels=3" in message
    assert "(4, 1, 8, 8)" in message
    with pytest.raises(dn.ShapeError, match="ConvTranspose1d"):
        nn.ConvTranspose1d(2, 2, 3)(dn.randn(4, 2, 5, 5))


def test_saved_and_rebuilt(tmp_path):
    model = nn.Sequential(nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False), nn.BatchNorm2d(4),
                          nn.ReLU(inplace=True), nn.ConvTranspose1d(4, 2, 3, output_padding=0))
    loaded = dn.load(dn.save(model, tmp_path / "g.safetensors"))
    assert repr(loaded) == repr(model)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(loaded.state_dict()[key]), np.asarray(value))
