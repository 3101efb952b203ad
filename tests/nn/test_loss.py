"""Losses (modules and functions, every reduction) against PyTorch, NumPy formulas and gradcheck."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]
# every reduction in float64 (tight); float32 once, to check dtypes and the looser tolerance
CASES = [(np.float64, "mean"), (np.float64, "sum"), (np.float64, "none"), (np.float32, "mean")]
N, C = 6, 4


def _data(rng, spatial=()):
    logits = rng.standard_normal((N, C) + spatial) * 2
    labels = rng.integers(0, C, (N,) + spatial)
    return logits, labels


def _weight(dtype):
    w = np.array([0.5, 2.0, 1.0, 1.5])
    return w.astype(dtype), torch.tensor(w.astype(dtype))


# ---------------------------------------------------------------------------- cross-entropy
CE_OPTIONS = [dict(), dict(weight=True), dict(ignore_index=1), dict(label_smoothing=0.2),
              dict(weight=True, ignore_index=2, label_smoothing=0.1),
              dict(ignore_index=0, label_smoothing=0.3)]


@pytest.mark.parametrize("dtype,reduction", CASES, ids=str)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=str)
@pytest.mark.parametrize("spatial", [(), (2, 3)], ids=str)
def test_cross_entropy_indices(options, reduction, spatial, dtype, rng):
    logits, labels = _data(rng, spatial)
    kw = dict(options, reduction=reduction)
    ours_kw, torch_kw = dict(kw), dict(kw)
    if options.get("weight"):
        ours_kw["weight"], torch_kw["weight"] = _weight(dtype)
    check_against_torch(lambda z: F.cross_entropy(z, labels, **ours_kw),
                        lambda z: TF.cross_entropy(z, torch.tensor(labels), **torch_kw),
                        [logits], dtype)
    module = nn.CrossEntropyLoss(**ours_kw)
    ref = torch.nn.CrossEntropyLoss(**torch_kw)
    check_against_torch(lambda z: module(z, dn.tensor(labels)),
                        lambda z: ref(z, torch.tensor(labels)), [logits], dtype)


@pytest.mark.parametrize("dtype,reduction", CASES, ids=str)
@pytest.mark.parametrize("options", [dict(), dict(weight=True), dict(label_smoothing=0.25)],
                         ids=str)
@pytest.mark.parametrize("spatial", [(), (3,)], ids=str)
def test_cross_entropy_probabilities(options, reduction, spatial, dtype, rng):
    logits, _ = _data(rng, spatial)
    q = rng.random((N, C) + spatial)
    q /= q.sum(1, keepdims=True)
    ours_kw, torch_kw = dict(options, reduction=reduction), dict(options, reduction=reduction)
    if options.get("weight"):
        ours_kw["weight"], torch_kw["weight"] = _weight(dtype)
    check_against_torch(lambda z: F.cross_entropy(z, q.astype(dtype), **ours_kw),
                        lambda z: TF.cross_entropy(z, torch.tensor(q.astype(dtype)), **torch_kw),
                        [logits], dtype)


def test_cross_entropy_single_sample_and_errors(rng):
    z = rng.standard_normal(C)
    check_against_torch(lambda t: F.cross_entropy(t, np.array(2)),
                        lambda t: TF.cross_entropy(t, torch.tensor(2)), [z])
    with pytest.raises(IndexError, match="target 7"):
        F.cross_entropy(dn.randn(2, C), np.array([0, 7]))
    with pytest.raises(dn.ShapeError, match=r"\(3,\)"):
        F.cross_entropy(dn.randn(2, C), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction .* got 'avg'"):
        nn.CrossEntropyLoss(reduction="avg")


def test_cross_entropy_gradient_is_p_minus_q(rng):
    logits, labels = _data(rng)
    z = dn.tensor(logits, requires_grad=True)
    F.cross_entropy(z, labels, reduction="sum").backward()
    q = np.eye(C)[labels]
    np.testing.assert_allclose(z.grad.numpy(), F.softmax(dn.tensor(logits), 1).numpy() - q)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_extreme_logits(dtype):
    z = np.array([[1000.0, -1000.0, 0.0, 0.0], [-1000.0, 1000.0, 1000.0, -1000.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = check_against_torch(lambda t: F.cross_entropy(t, np.array([1, 2])),
                                  lambda t: TF.cross_entropy(t, torch.tensor([1, 2])), [z], dtype)
    assert np.isfinite(out.item())


# ---------------------------------------------------------------------------- NLL, MSE
@pytest.mark.parametrize("dtype,reduction", CASES, ids=str)
@pytest.mark.parametrize("options", [dict(), dict(weight=True), dict(weight=True, ignore_index=3)],
                         ids=str)
@pytest.mark.parametrize("spatial", [(), (2, 3)], ids=str)
def test_nll_loss(options, reduction, spatial, dtype, rng):
    logits, labels = _data(rng, spatial)
    ours_kw, torch_kw = dict(options, reduction=reduction), dict(options, reduction=reduction)
    if options.get("weight"):
        ours_kw["weight"], torch_kw["weight"] = _weight(dtype)
    check_against_torch(lambda z: nn.NLLLoss(**ours_kw)(F.log_softmax(z, 1), labels),
                        lambda z: torch.nn.NLLLoss(**torch_kw)(TF.log_softmax(z, 1),
                                                               torch.tensor(labels)),
                        [logits], dtype)


@pytest.mark.parametrize("dtype,reduction", CASES, ids=str)
def test_mse_loss(reduction, dtype, rng):
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    check_against_torch(lambda x, y: nn.MSELoss(reduction)(x, y),
                        lambda x, y: torch.nn.MSELoss(reduction=reduction)(x, y), [a, b], dtype)
    # shapes that differ broadcast with PyTorch's warning, and PyTorch's number
    with pytest.warns(UserWarning, match=r"target size \(\(5, 1\)\).*input size \(\(5, 3\)\)"):
        ours = F.mse_loss(dn.tensor(a), dn.tensor(b[:, :1]))
    with pytest.warns(UserWarning, match="Using a target size"):
        theirs = torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b[:, :1]))
    assert ours.item() == pytest.approx(theirs.item())


# ---------------------------------------------------------------------------- binary
@pytest.mark.parametrize("dtype,reduction", CASES, ids=str)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_loss(weighted, reduction, dtype, rng):
    y = 1 / (1 + np.exp(-rng.standard_normal((5, 3)) * 2))
    t = rng.random((5, 3))
    w = rng.random(3) + 0.5
    ours = nn.BCELoss(weight=w.astype(dtype) if weighted else None, reduction=reduction)
    ref = torch.nn.BCELoss(weight=torch.tensor(w.astype(dtype)) if weighted else None,
                           reduction=reduction)
    check_against_torch(lambda p: ours(p, t), lambda p: ref(p, torch.tensor(t.astype(dtype))),
                        [y], dtype)


def test_bce_clamps_log_at_minus_100():
    y, t = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(divide="raise", invalid="raise"):
        check_against_torch(lambda p: F.binary_cross_entropy(p, t, reduction="none"),
                            lambda p: TF.binary_cross_entropy(p, torch.tensor(t),
                                                              reduction="none"), [y])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(dn.tensor([1.5]), dn.tensor([1.0]))


@pytest.mark.parametrize("dtype,reduction", CASES, ids=str)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits(options, reduction, dtype, rng):
    z, t = rng.standard_normal((5, 3)) * 3, (rng.random((5, 3)) > 0.5).astype(float)
    w, pw = rng.random(3) + 0.5, np.array([0.5, 2.0, 3.0])
    kw, tkw = dict(reduction=reduction), dict(reduction=reduction)
    if options in ("weight", "both"):
        kw["weight"], tkw["weight"] = w.astype(dtype), torch.tensor(w.astype(dtype))
    if options in ("pos_weight", "both"):
        kw["pos_weight"], tkw["pos_weight"] = pw.astype(dtype), torch.tensor(pw.astype(dtype))
    check_against_torch(lambda x: nn.BCEWithLogitsLoss(**kw)(x, t),
                        lambda x: torch.nn.BCEWithLogitsLoss(**tkw)(x, torch.tensor(
                            t.astype(dtype))), [z], dtype)
    assert dn.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, t, **kw), [z])


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_extreme(dtype):
    z, t = np.array([-1000.0, 1000.0, -1000.0, 1000.0]), np.array([0.0, 1.0, 1.0, 0.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        check_against_torch(
            lambda x: F.binary_cross_entropy_with_logits(x, t, reduction="none",
                                                         pos_weight=np.array([2.0])),
            lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(t.astype(dtype)),
                                                          reduction="none",
                                                          pos_weight=torch.tensor([2.0])),
            [z], dtype)


# ---------------------------------------------------------------------------- hinge losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_loss_matches_formula(reduction, rng):
    y, t = rng.standard_normal(8) * 2, np.where(rng.random(8) > 0.5, 1.0, -1.0)
    expected = np.maximum(0, 1 - t * y)
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    out = nn.HingeLoss(reduction=reduction)(dn.tensor(y), dn.tensor(t))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    y = np.where(np.abs(1 - t * y) < 0.05, y + 0.1, y)  # off the hinge's kink
    assert dn.gradcheck(lambda s: F.hinge_loss(s, t, reduction=reduction), [y])
    with pytest.raises(ValueError, match="-1 or \\+1"):
        F.hinge_loss(dn.tensor(y), dn.tensor(np.abs(t) * 0))


@pytest.mark.parametrize("dtype,reduction", CASES, ids=str)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (1, 0.5, True), (2, 1.5, False),
                                               (2, 1.0, True)])
def test_multi_margin_loss(p, margin, weighted, reduction, dtype, rng):
    z, labels = _data(rng)
    w, tw = _weight(dtype) if weighted else (None, None)
    check_against_torch(
        lambda x: nn.MultiMarginLoss(p, margin, w, reduction)(x, labels),
        lambda x: torch.nn.MultiMarginLoss(p, margin, tw, reduction=reduction)(
            x, torch.tensor(labels)), [z], dtype)


def test_loss_modules_reject_bad_options():
    with pytest.raises(ValueError, match="MSELoss: reduction"):
        nn.MSELoss("avg")
    with pytest.raises(ValueError, match="MultiMarginLoss: p must be 1 or 2, got 3"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="HingeLoss: margin"):
        nn.HingeLoss(margin=-1)
    assert "reduction='sum'" in repr(nn.BCELoss(reduction="sum"))
    assert assert_close  # the helper module is shared with the other loss tests


def _probabilities(rng):
    q = rng.random((N, C))
    return q / q.sum(1, keepdims=True)


GRADCHECKS = {
    "cross_entropy": lambda z, y, q: F.cross_entropy(z, y, weight=np.arange(1.0, C + 1),
                                                     label_smoothing=0.1, ignore_index=1),
    "cross_entropy_probs": lambda z, y, q: F.cross_entropy(z, q, label_smoothing=0.2),
    "nll": lambda z, y, q: F.nll_loss(F.log_softmax(z, 1), y, weight=np.arange(1.0, C + 1)),
    "bce": lambda z, y, q: F.binary_cross_entropy(F.sigmoid(z), q, weight=np.arange(1.0, C + 1)),
    "mse": lambda z, y, q: F.mse_loss(z, dn.tensor(q)),
    "multi_margin": lambda z, y, q: F.multi_margin_loss(z, y, p=2, margin=0.7),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_loss_gradcheck(name, rng):
    z, y = _data(rng)
    q = _probabilities(rng)
    assert dn.gradcheck(lambda t: GRADCHECKS[name](t, y, q), [z])
