"""Conv2d and Conv1d layers: PyTorch layouts and state dicts, init, argument and shape errors."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from deepnum import fast
from tests.helpers import assert_close, check_against_torch, copy_module_weights, kernels_on


@pytest.fixture(autouse=True)
def _kernels_from_batch_one(monkeypatch):
    """The kernels start at batch 48 (below, NumPy is faster); these tests use small batches."""
    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 1)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3), dict(kernel_size=(3, 2), stride=2,
                                    padding=(1, 0)), dict(kernel_size=3, padding="same",
                                    dilation=2, groups=2, bias=False)])
def test_conv2d_layer_matches_torch(kwargs, rng):
    ours, theirs = nn.Conv2d(4, 6, **kwargs).double(), torch.nn.Conv2d(4, 6, **kwargs).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)  # (out, in/groups, kH, kW)
    copy_module_weights(ours, theirs)
    check_against_torch(ours, theirs, [rng.standard_normal((2, 4, 9, 8))])  # output, input grad
    assert_close(ours.weight.grad, theirs.weight.grad, what="weight grad")


def test_conv1d_layer_matches_torch(rng):
    ours, theirs = nn.Conv1d(3, 5, 4, stride=2, padding=1).double(), \
        torch.nn.Conv1d(3, 5, 4, stride=2, padding=1).double()
    assert ours.weight.shape == (5, 3, 4) and ours.kernel_size == (4,)
    copy_module_weights(ours, theirs)
    x = rng.standard_normal((2, 3, 20))
    assert_close(ours(dn.tensor(x)), theirs(torch.tensor(x)))


def test_default_init_is_torch_bound():
    conv = nn.Conv2d(6, 16, 5)
    bound = 1 / np.sqrt(6 * 25)
    assert conv.weight.dtype == np.float32
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    assert conv.weight.numpy().std() > bound / 3   # filled, not left empty or zero


def test_lecture_shapes():
    assert nn.Conv2d(3, 2, 3)(dn.randn(1, 3, 6, 6)).shape == (1, 2, 4, 4)
    assert nn.Conv2d(1, 6, 5, padding=2)(dn.randn(2, 1, 28, 28)).shape == (2, 6, 28, 28)
    assert nn.Conv2d(3, 96, 11, stride=4)(dn.randn(1, 3, 227, 227)).shape == (1, 96, 55, 55)
    assert nn.Conv2d(3, 4, 3)(dn.randn(3, 8, 8)).shape == (4, 6, 6)   # unbatched


def test_shape_error_names_layer_and_both_shapes():
    conv = nn.Conv2d(3, 6, 5)
    with pytest.raises(dn.ShapeError) as err:
        conv(dn.randn(4, 1, 28, 28))
    message = str(err.value)
    assert "Conv2d(3, 6" in message and "in_channels=3" in message and "(4, 1, 28, 28)" in message
    with pytest.raises(dn.ShapeError, match="Conv1d"):
        nn.Conv1d(2, 2, 3)(dn.randn(4, 2, 5, 5))


@pytest.mark.parametrize("args,kwargs,match", [
    ((0, 6, 3), {}, "in_channels"),
    ((3, -1, 3), {}, "out_channels"),
    ((3, 6, 0), {}, "kernel_size"),
    ((3, 6, (3, 3, 3)), {}, "kernel_size"),
    ((3, 6, 3), dict(stride=0), "stride"),
    ((3, 6, 3), dict(padding=-1), "padding"),
    ((3, 6, 3), dict(padding="full"), "padding"),
    ((3, 6, 3), dict(padding="same", stride=2), "same"),
    ((3, 6, 3), dict(dilation=0), "dilation"),
    ((3, 6, 3), dict(groups=2), "divisible by groups"),
    ((3, 6, 3), dict(padding_mode="reflect"), "padding_mode"),
    ((3, 6, 2.5), {}, "kernel_size"),
])
def test_bad_hyperparameters_raise_at_construction(args, kwargs, match):
    with pytest.raises(ValueError, match=match) as err:
        nn.Conv2d(*args, **kwargs)
    assert "Conv2d" in str(err.value)


def test_repr_and_no_bias():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
    assert repr(conv) == ("Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                          "bias=False)")
    assert conv.bias is None and list(conv.state_dict()) == ["weight"]
    assert conv(dn.randn(1, 3, 8, 8)).shape == (1, 8, 4, 4)


def test_lenet5_gradients_same_on_kernel_and_numpy_paths(rng):
    """A LeNet-5 forward and backward (fused Conv2d+ReLU, max pooling, batch-last arrays between
    layers): the compiled kernels give the loss and every parameter gradient bit for bit."""
    from deepnum import jit
    from deepnum.models import build

    if not jit.available():
        pytest.skip("Numba is not installed")
    x = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    results = []
    for use_jit in (False, True):
        dn.manual_seed(0)
        model = build("lenet5", num_classes=10)
        with kernels_on(use_jit):
            loss = nn.CrossEntropyLoss()(model(dn.tensor(x)), dn.tensor(y))
            loss.backward()
        results.append([loss.numpy()] + [p.grad.numpy() for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
