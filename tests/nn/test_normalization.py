"""BatchNorm1d/2d against PyTorch: outputs, gradients, running statistics, train/eval, state
dicts."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch

CASES = [(nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 6)),
         (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 5)),
         (nn.BatchNorm1d, torch.nn.BatchNorm1d, (3, 4, 7)),
         (nn.BatchNorm2d, torch.nn.BatchNorm2d, (1, 2, 3, 3))]     # batch 1: spatial stats


def _pair(ours_cls, theirs_cls, c, dtype, **kwargs):
    ours, theirs = ours_cls(c, **kwargs).astype(dtype), theirs_cls(c, **kwargs)
    theirs = theirs.double() if dtype == np.float64 else theirs
    if ours.affine:  # non-trivial gamma and beta
        gamma, beta = np.linspace(0.5, 2, c), np.linspace(-1, 1, c)
        for m in (ours, theirs):
            m.weight.data[...] = torch.tensor(gamma) if m is theirs else gamma
            m.bias.data[...] = torch.tensor(beta) if m is theirs else beta
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("ours_cls,theirs_cls,shape", CASES)
def test_train_then_eval_matches_torch(ours_cls, theirs_cls, shape, affine, dtype, rng):
    ours, theirs = _pair(ours_cls, theirs_cls, shape[1], dtype, affine=affine)
    for step in range(3):  # running statistics after several steps
        x = rng.standard_normal(shape) * 3 + 1
        xo = dn.tensor(x.astype(dtype), requires_grad=True)
        xt = torch.tensor(x.astype(dtype), requires_grad=True)
        out, ref = ours(xo), theirs(xt)
        assert_close(out, ref, dtype, f"train forward, step {step}")
        w = rng.standard_normal(shape).astype(dtype)
        (out * dn.tensor(w)).sum().backward()
        (ref * torch.tensor(w)).sum().backward()
        assert_close(xo.grad, xt.grad, dtype, "input grad")
        if affine:
            assert_close(ours.weight.grad, theirs.weight.grad, dtype, "weight grad")
            assert_close(ours.bias.grad, theirs.bias.grad, dtype, "bias grad")
            ours.zero_grad()
            theirs.zero_grad()
    assert_close(ours.running_mean, theirs.running_mean, dtype, "running_mean")
    assert_close(ours.running_var, theirs.running_var, dtype, "running_var (unbiased)")
    assert int(ours.num_batches_tracked.item()) == 3
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    check_against_torch(ours, theirs, [x], dtype)


def test_momentum_none_is_cumulative_average(rng):
    ours, theirs = nn.BatchNorm1d(3, momentum=None).double(), \
        torch.nn.BatchNorm1d(3, momentum=None).double()
    for _ in range(4):
        x = rng.standard_normal((6, 3)) * 2
        ours(dn.tensor(x))
        theirs(torch.tensor(x))
    assert_close(ours.running_mean, theirs.running_mean)
    assert_close(ours.running_var, theirs.running_var)


def test_no_running_stats_uses_batch_stats_in_eval(rng):
    ours = nn.BatchNorm2d(2, track_running_stats=False).double().eval()
    theirs = torch.nn.BatchNorm2d(2, track_running_stats=False).double().eval()
    x = rng.standard_normal((3, 2, 4, 4))
    assert_close(ours(dn.tensor(x)), theirs(torch.tensor(x)))
    assert list(ours.state_dict()) == ["weight", "bias"]


def test_torch_state_dict_loads(rng):
    theirs = torch.nn.BatchNorm2d(4)
    theirs(torch.randn(8, 4, 3, 3) * 2 + 1)
    ours = nn.BatchNorm2d(4)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    assert_close(ours(dn.tensor(x)), theirs(torch.tensor(x)), np.float32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
def test_eval_gradients_of_input_weight_and_bias_match_torch(affine, dtype, rng):
    """Fine-tuning with frozen statistics: batch norm in eval mode, gradients wanted."""
    mean, var = rng.standard_normal(4) * 3, rng.uniform(0.2, 3, 4)
    arrays = [rng.standard_normal((3, 4, 5, 2)) * 2 + 5]
    if affine:
        arrays += [rng.standard_normal(4), rng.standard_normal(4)]

    def ours(x, *wb):
        return F.batch_norm(x, dn.tensor(mean.astype(dtype)), dn.tensor(var.astype(dtype)), *wb)

    def theirs(x, *wb):
        return torch.nn.functional.batch_norm(x, torch.tensor(mean.astype(dtype)),
                                              torch.tensor(var.astype(dtype)), *wb)

    check_against_torch(ours, theirs, arrays, dtype)
    leaves = [dn.tensor(a, requires_grad=True) for a in arrays]
    assert dn.gradcheck(ours, leaves)
    # the gradient's gradient (create_graph=True): through the op's vjp, against torch's
    results = []
    for lib, fn in ((dn, ours), (torch, theirs)):
        xs = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = fn(*xs)
        grads = lib.autograd.grad((out * out).sum(), xs, create_graph=True)
        sum(((g * g).sum() for g in grads), lib.tensor(0.0, dtype=xs[0].dtype)).backward()
        results.append([x.grad for x in xs])
    for i, (a, b) in enumerate(zip(*results)):
        assert_close(a, b, dtype, f"second-order gradient of input {i}")


def test_batch_norm_gradcheck(rng):
    bn = nn.BatchNorm2d(3)
    bn.weight.data[...] = [0.5, 1.5, -2.0]
    x = dn.tensor(rng.standard_normal((2, 3, 3, 2)), requires_grad=True)
    assert dn.gradcheck(bn, [x])
    assert dn.gradcheck(lambda t: F.batch_norm(t, None, None, training=True), [x])


def test_errors():
    with pytest.raises(dn.ShapeError, match=r"BatchNorm2d\(3.*num_features = 3.*\(2, 4, 5, 5\)"):
        nn.BatchNorm2d(3)(dn.randn(2, 4, 5, 5))
    with pytest.raises(dn.ShapeError, match="BatchNorm1d"):
        nn.BatchNorm1d(3)(dn.randn(2, 3, 4, 4))
    with pytest.raises(dn.ShapeError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(dn.randn(1, 3))
    assert nn.BatchNorm1d(3).eval()(dn.randn(1, 3)).shape == (1, 3)   # fine in eval
    for kwargs, match in [(dict(num_features=0), "num_features"), (dict(eps=0), "eps"),
                          (dict(momentum=1.5), "momentum"), (dict(eps=-1), "eps")]:
        kwargs.setdefault("num_features", 3)
        with pytest.raises(ValueError, match=match):
            nn.BatchNorm2d(**kwargs)


def test_float32_in_float32_out(rng):
    bn = nn.BatchNorm2d(3)
    x = dn.tensor(rng.standard_normal((4, 3, 5, 5)).astype(np.float32), requires_grad=True)
    out = bn(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == bn.weight.grad.dtype == bn.running_var.dtype == np.float32


@pytest.mark.parametrize("affine", [True, False])
def test_eval_without_a_graph_gives_the_graph_paths_numbers(affine, rng):
    """In eval mode batch norm is one op with or without a graph to record: the same bits
    either way, and the same memory order as its input (a batch-last convolution output stays
    batch-last)."""
    bn = nn.BatchNorm2d(5, affine=affine)
    bn.running_mean.array[...] = rng.standard_normal(5)
    bn.running_var.array[...] = rng.uniform(0.5, 2, 5)
    if affine:
        bn.weight.array[...] = rng.standard_normal(5)
        bn.bias.array[...] = rng.standard_normal(5)
    bn.eval()
    x = rng.standard_normal((5, 4, 3, 2)).astype(np.float32).transpose(3, 0, 1, 2)  # batch-last
    leaf = dn.Tensor._wrap(x.copy(order="K"))
    leaf.requires_grad = True
    recorded = bn(leaf)
    assert recorded.requires_grad
    with dn.no_grad():
        plain = bn(dn.Tensor._wrap(x))
    np.testing.assert_array_equal(plain.numpy(), recorded.detach().numpy())
    assert plain.dtype == recorded.dtype and plain.array.strides == x.strides
