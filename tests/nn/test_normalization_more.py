"""LayerNorm, GroupNorm, InstanceNorm1d/2d (and BatchNorm's bias=False) against PyTorch: values,
every gradient, running statistics, evaluation mode, second derivatives, reprs and errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, copy_module_weights

DTYPES = [np.float64, np.float32]


def _compare_module(make, shape, dtype, rng, steps=1):
    """Same weights (randomised, so gamma and beta matter), same inputs: outputs, the input's
    and every parameter's gradient, and the buffers after ``steps`` training steps."""
    ours, theirs = make(nn), make(torch.nn)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape))))
    copy_module_weights(ours, theirs)
    assert repr(ours) == repr(theirs)
    for _ in range(steps):
        check_against_torch(ours, theirs, [rng.standard_normal(shape) * 2 + 1], dtype)
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(a.grad, b.grad, dtype, f"{name} gradient")
    for key, value in theirs.state_dict().items():
        assert_close(np.asarray(ours.state_dict()[key]), value, dtype, key)
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make,shape", [
    (lambda lib: lib.LayerNorm(4), (3, 5, 4)),
    (lambda lib: lib.LayerNorm((5, 4)), (3, 5, 4)),
    (lambda lib: lib.LayerNorm(4, elementwise_affine=False), (2, 4)),
    (lambda lib: lib.LayerNorm(4, bias=False, eps=1e-3), (6, 4)),
    (lambda lib: lib.LayerNorm(7), (7,)),
])
def test_layer_norm_matches_torch(make, shape, dtype, rng):
    _compare_module(make, shape, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make,shape", [
    (lambda lib: lib.GroupNorm(2, 6), (3, 6, 4, 5)),
    (lambda lib: lib.GroupNorm(1, 4), (2, 4, 7)),
    (lambda lib: lib.GroupNorm(4, 4, affine=False), (2, 4, 3, 3)),
    (lambda lib: lib.GroupNorm(3, 6, bias=False), (2, 6)),
])
def test_group_norm_matches_torch(make, shape, dtype, rng):
    _compare_module(make, shape, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make,shape", [
    (lambda lib: lib.InstanceNorm2d(3), (2, 3, 4, 5)),
    (lambda lib: lib.InstanceNorm2d(3, affine=True), (2, 3, 4, 5)),
    (lambda lib: lib.InstanceNorm2d(3, affine=True), (3, 4, 5)),               # unbatched
    (lambda lib: lib.InstanceNorm1d(4, affine=True, track_running_stats=True), (2, 4, 9)),
    (lambda lib: lib.InstanceNorm2d(3, momentum=0.3, track_running_stats=True), (5, 3, 3, 3)),
    (lambda lib: lib.InstanceNorm1d(4, momentum=None, track_running_stats=True), (2, 4, 6)),
])
def test_instance_norm_matches_torch(make, shape, dtype, rng):
    """Three training steps (the running statistics move as PyTorch's), then evaluation."""
    ours, theirs = _compare_module(make, shape, dtype, rng, steps=3)
    ours.eval(), theirs.eval()
    check_against_torch(ours, theirs, [rng.standard_normal(shape)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_without_bias_matches_torch(dtype, rng):
    _compare_module(lambda lib: lib.BatchNorm2d(3, bias=False), (4, 3, 2, 2), dtype, rng)


def test_functional_forms_match_torch(rng):
    x, w, b = rng.standard_normal((3, 6, 5)), rng.standard_normal(5), rng.standard_normal(5)
    check_against_torch(lambda x, w, b: F.layer_norm(x, (5,), w, b),
                        lambda x, w, b: TF.layer_norm(x, (5,), w, b), [x, w, b])
    check_against_torch(lambda x, w: F.layer_norm(x, 5, w), lambda x, w: TF.layer_norm(x, (5,), w),
                        [x, w])
    c = rng.standard_normal(6)
    check_against_torch(lambda x, w, b: F.group_norm(x, 3, w, b),
                        lambda x, w, b: TF.group_norm(x, 3, w, b), [x, c, c * 2])
    check_against_torch(lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), [x])


def test_gradcheck_and_second_derivative(rng):
    x = rng.standard_normal((3, 4, 5))
    assert dn.gradcheck(nn.LayerNorm(5).double(), [x])
    assert dn.gradcheck(nn.GroupNorm(2, 4).double(), [x])
    assert dn.gradcheck(nn.InstanceNorm1d(4, affine=True).double(), [x])
    w, b = rng.standard_normal(5), rng.standard_normal(5)
    results = []
    for lib, fn in ((dn, F.layer_norm), (torch, TF.layer_norm)):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        out = fn(xt, (5,), wt, bt)
        (g,) = lib.autograd.grad((out * out * out).sum(), (xt,), create_graph=True)
        (g * g).sum().backward()
        results.append((xt.grad, wt.grad))
    for a, e in zip(*results):
        assert_close(a, e, what="second derivative")


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(dn.ShapeError, match=r"LayerNorm\(\(4,\).*\(2, 5\)"):
        nn.LayerNorm(4)(dn.randn(2, 5))
    with pytest.raises(dn.ShapeError, match="normalized_shape"):
        F.layer_norm(dn.randn(2, 5), (4,))
    with pytest.raises(dn.ShapeError, match="GroupNorm.*\\(2, 5, 3\\)"):
        nn.GroupNorm(2, 4)(dn.randn(2, 5, 3))
    with pytest.raises(dn.ShapeError, match="divisible by num_groups=3"):
        F.group_norm(dn.randn(2, 4, 3), 3)
    with pytest.raises(dn.ShapeError, match="InstanceNorm2d"):
        nn.InstanceNorm2d(3)(dn.randn(2, 3))
    with pytest.raises(dn.ShapeError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(dn.randn(2, 3, 1))
    with pytest.raises(dn.ShapeError, match="num_features = 3"):
        nn.InstanceNorm2d(3, affine=True)(dn.randn(2, 4, 5, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm2d(3)(dn.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match="GroupNorm: num_channels .6. must be divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="LayerNorm: eps"):
        nn.LayerNorm(4, eps=0)
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape"):
        nn.LayerNorm((4, 0))


def test_saved_and_rebuilt(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True),
                          nn.Flatten(), nn.LayerNorm(4 * 4 * 4, bias=False))
    loaded = dn.load(dn.save(model, tmp_path / "m.safetensors"))
    assert repr(loaded) == repr(model)
    x = dn.randn(2, 3, 6, 6)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
