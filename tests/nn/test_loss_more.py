"""one_hot, pad, normalize, cosine_similarity, pairwise_distance and the losses added for issue
14 (L1, KL divergence, cosine embedding, margin ranking, triplet margin, Gaussian and Poisson
NLL) against PyTorch: values, the gradients of every input (soft targets included), dtypes,
reductions, finite differences and the errors."""

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


def test_one_hot_as_torch():
    for labels, classes in (([0, 2, 1, 2], -1), ([[1, 0], [3, 3]], 5), ([], 3)):
        ours = F.one_hot(dn.tensor(np.array(labels, dtype=np.int64)), classes)
        theirs = TF.one_hot(torch.tensor(labels, dtype=torch.int64), classes)
        assert ours.dtype == np.int64 and ours.tolist() == theirs.tolist()
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(dn.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(dn.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="index tensors"):
        F.one_hot(dn.tensor([1.0]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad,mode,value", [((1, 2), "constant", None), ((1, 0, 2, 1), "constant",
                                            1.5), ((2, 1, 1, 2), "reflect", None),
                                            ((2, 3, 1, 0), "replicate", None),
                                            ((1, 2, 2, 1), "circular", None),
                                            ((-1, 1, 2, -2), "constant", None)])
def test_pad_as_torch(pad, mode, value, dtype, rng):
    check_against_torch(lambda x: F.pad(x, pad, mode, value),
                        lambda x: TF.pad(x, pad, mode, value), [rng.standard_normal((2, 3, 4, 5))],
                        dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normalize_and_distances(dtype, rng):
    x1, x2 = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    x1[0] = 0.0  # a zero vector: eps keeps everything finite
    for kwargs in (dict(), dict(p=1.0, dim=0), dict(p=3.0, dim=-1), dict(p=float("inf"))):
        check_against_torch(lambda x, k=kwargs: F.normalize(x, **k),
                            lambda x, k=kwargs: TF.normalize(x, **k), [x1], dtype)
    check_against_torch(F.cosine_similarity, TF.cosine_similarity, [x1, x2], dtype)
    check_against_torch(lambda a, b: F.cosine_similarity(a, b, dim=0),
                        lambda a, b: TF.cosine_similarity(a, b, dim=0), [x1, x2[:1]], dtype)
    for p in (2.0, 1.0, 3.0, float("inf")):
        check_against_torch(lambda a, b, p=p: F.pairwise_distance(a, b, p),
                            lambda a, b, p=p: TF.pairwise_distance(a, b, p), [x1, x2], dtype)
    check_against_torch(lambda a, b: nn.PairwiseDistance(keepdim=True)(a, b),
                        lambda a, b: torch.nn.PairwiseDistance(keepdim=True)(a, b),
                        [x1, x1.copy()], dtype)  # equal rows: eps keeps the gradient finite
    check_against_torch(nn.CosineSimilarity(dim=1), torch.nn.CosineSimilarity(dim=1), [x1, x2],
                        dtype)


def _probabilities(rng, shape):
    z = rng.standard_normal(shape)
    return np.exp(z) / np.exp(z).sum(-1, keepdims=True)


BCE_WEIGHT = np.array([0.5, 1.0, 2.0])

LOSSES = {
    # name -> (ours, theirs, inputs(rng)); every floating input gets a gradient
    "l1": (F.l1_loss, TF.l1_loss, lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))]),
    "l1_weight": (lambda x, t, w: F.l1_loss(x, t, weight=w),
                  lambda x, t, w: TF.l1_loss(x, t, weight=w),
                  lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)),
                             r.uniform(0.1, 1, (4, 3))]),
    "kl_div": (F.kl_div, TF.kl_div,
               lambda r: [np.log(_probabilities(r, (4, 5))), _probabilities(r, (4, 5))]),
    "kl_div_log_target": (lambda x, t: F.kl_div(x, t, log_target=True),
                          lambda x, t: TF.kl_div(x, t, log_target=True),
                          lambda r: [np.log(_probabilities(r, (4, 5))),
                                     np.log(_probabilities(r, (4, 5)))]),
    "cosine_embedding": (lambda a, b, y: F.cosine_embedding_loss(a, b, y, 0.1),
                         lambda a, b, y: TF.cosine_embedding_loss(a, b, y, 0.1),
                         lambda r: [r.standard_normal((6, 4)), r.standard_normal((6, 4)),
                                    np.array([1, -1, 1, -1, -1, 1])]),
    "margin_ranking": (lambda a, b, y: F.margin_ranking_loss(a, b, y, 0.3),
                       lambda a, b, y: TF.margin_ranking_loss(a, b, y, 0.3),
                       lambda r: [r.standard_normal(6), r.standard_normal(6),
                                  np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])]),
    "triplet": (F.triplet_margin_loss, TF.triplet_margin_loss,
                lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)),
                           r.standard_normal((5, 4))]),
    "triplet_swap_p1": (lambda a, p, n: F.triplet_margin_loss(a, p, n, 0.5, p=1, swap=True),
                        lambda a, p, n: TF.triplet_margin_loss(a, p, n, 0.5, p=1, swap=True),
                        lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)),
                                   r.standard_normal((5, 4))]),
    "gaussian_nll": (F.gaussian_nll_loss, TF.gaussian_nll_loss,
                     lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)),
                                r.uniform(0.1, 2, (4, 3))]),
    "gaussian_nll_rows_full": (lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=True),
                               lambda x, t, v: TF.gaussian_nll_loss(x, t, v, full=True),
                               lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)),
                                          r.uniform(0.1, 2, (4,))]),
    "gaussian_nll_clamped": (lambda x, t, v: F.gaussian_nll_loss(x, t, v, eps=0.5),
                             lambda x, t, v: TF.gaussian_nll_loss(x, t, v, eps=0.5),
                             lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)),
                                        r.uniform(0.0, 1.0, (4, 1))]),
    "poisson_nll": (F.poisson_nll_loss, TF.poisson_nll_loss,
                    lambda r: [r.standard_normal((4, 3)), r.uniform(0, 5, (4, 3))]),
    "poisson_nll_rate_full": (lambda x, t: F.poisson_nll_loss(x, t, log_input=False, full=True),
                              lambda x, t: TF.poisson_nll_loss(x, t, log_input=False, full=True),
                              lambda r: [r.uniform(0.1, 3, (4, 3)), r.uniform(0, 5, (4, 3))]),
    # the weights are constants (PyTorch does not differentiate them), the targets soft
    "bce_soft_target_weight": (lambda y, t: F.binary_cross_entropy(y, t, dn.tensor(BCE_WEIGHT)),
                               lambda y, t: TF.binary_cross_entropy(y, t,
                                                                    torch.tensor(BCE_WEIGHT)),
                               lambda r: [r.uniform(0.05, 0.95, (4, 3)), r.uniform(0, 1, (4, 3))]),
    "bce_logits_soft_target": (lambda z, t: F.binary_cross_entropy_with_logits(
                                   z, t, pos_weight=dn.tensor(BCE_WEIGHT)),
                               lambda z, t: TF.binary_cross_entropy_with_logits(
                                   z, t, pos_weight=torch.tensor(BCE_WEIGHT)),
                               lambda r: [r.standard_normal((4, 3)), r.uniform(0, 1, (4, 3))]),
    "cross_entropy_soft_target": (lambda z, t: F.cross_entropy(z, t, label_smoothing=0.1),
                                  lambda z, t: TF.cross_entropy(z, t, label_smoothing=0.1),
                                  lambda r: [r.standard_normal((4, 5)), _probabilities(r, (4, 5))]),
    "smooth_l1": (lambda x, t: F.smooth_l1_loss(x, t, beta=0.5),
                  lambda x, t: TF.smooth_l1_loss(x, t, beta=0.5),
                  lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_against_torch(name, dtype, rng):
    ours, theirs, inputs = LOSSES[name]
    check_against_torch(ours, theirs, inputs(rng), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_reductions(reduction, rng):
    x, t = np.log(_probabilities(rng, (4, 5))), _probabilities(rng, (4, 5))
    check_against_torch(lambda a, b: F.kl_div(a, b, reduction=reduction),
                        lambda a, b: TF.kl_div(a, b, reduction=reduction), [x, t])
    if reduction == "batchmean":
        return
    for name in ("l1", "triplet", "poisson_nll", "gaussian_nll"):
        ours, theirs, inputs = LOSSES[name]
        check_against_torch(lambda *a, f=ours: f(*a, reduction=reduction),
                            lambda *a, f=theirs: f(*a, reduction=reduction), inputs(rng))


@pytest.mark.parametrize("name", ["l1", "kl_div", "cosine_embedding", "margin_ranking",
                                  "triplet", "gaussian_nll", "poisson_nll",
                                  "bce_soft_target_weight"])
def test_loss_gradcheck(name, rng):
    ours, _, inputs = LOSSES[name]
    assert dn.gradcheck(ours, inputs(rng))


def test_layers_against_torch(rng):
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    for make in (lambda lib: lib.L1Loss(reduction="sum"),
                 lambda lib: lib.SmoothL1Loss(beta=0.5)):
        check_against_torch(make(nn), make(torch.nn), [x, t])
    logp, q = np.log(_probabilities(rng, (4, 5))), _probabilities(rng, (4, 5))
    check_against_torch(nn.KLDivLoss(reduction="batchmean"),
                        torch.nn.KLDivLoss(reduction="batchmean"), [logp, q])
    check_against_torch(nn.KLDivLoss(reduction="sum", log_target=True),
                        torch.nn.KLDivLoss(reduction="sum", log_target=True), [logp, np.log(q)])
    a, p, n = (rng.standard_normal((5, 4)) for _ in range(3))
    check_against_torch(nn.TripletMarginLoss(0.5, p=1.0), torch.nn.TripletMarginLoss(0.5, p=1.0),
                        [a, p, n])
    y = np.array([1, -1, 1, -1, 1])
    check_against_torch(nn.CosineEmbeddingLoss(0.2), torch.nn.CosineEmbeddingLoss(0.2), [a, p, y])
    check_against_torch(nn.MarginRankingLoss(0.1), torch.nn.MarginRankingLoss(0.1),
                        [a[:, 0], p[:, 0], y.astype(float)])
    v = rng.uniform(0.5, 1.0, (4, 3))
    check_against_torch(nn.GaussianNLLLoss(full=True), torch.nn.GaussianNLLLoss(full=True),
                        [x, t, v])
    check_against_torch(nn.PoissonNLLLoss(), torch.nn.PoissonNLLLoss(), [x, np.abs(t)])
    w = rng.uniform(0.5, 2.0, 3)
    check_against_torch(nn.BCELoss(weight=w), torch.nn.BCELoss(weight=torch.tensor(w)),
                        [rng.uniform(0.1, 0.9, (4, 3)), rng.integers(0, 2, (4, 3)).astype(float)])


def test_legacy_reduction_arguments_as_pytorch(rng):
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    for kwargs, expected in ((dict(reduce=False), "none"), (dict(size_average=False), "sum")):
        with pytest.warns(UserWarning, match="size_average and reduce"):
            assert nn.L1Loss(**kwargs).reduction == expected
    with pytest.warns(UserWarning, match="size_average and reduce"):
        out = F.kl_div(dn.tensor(x), dn.tensor(np.abs(t)), reduce=False)
    assert out.shape == (4, 3)


def test_errors():
    with pytest.raises(ValueError, match="reduction"):
        nn.KLDivLoss(reduction="average")
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(dn.ShapeError, match="var is of incorrect size"):
        F.gaussian_nll_loss(dn.randn(4, 3), dn.randn(4, 3), dn.ones(4, 2))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(dn.randn(4, 3), dn.randn(4, 3), -dn.ones(4, 3))
    with pytest.raises(dn.ShapeError, match="cosine_embedding_loss"):
        F.cosine_embedding_loss(dn.randn(4, 3), dn.randn(4, 2), dn.ones(4))
    with pytest.raises(dn.ShapeError, match="l1_loss: weights"):
        F.l1_loss(dn.randn(4, 3), dn.randn(4, 3), weight=dn.ones(3))
    with pytest.warns(UserWarning, match="target size"):
        F.l1_loss(dn.randn(4, 1), dn.randn(4))
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(dn.randn(4, 3), dn.ones(4, 3) / 3)


def test_soft_target_gradients_match_torch(rng):
    """A target that requires grad gets PyTorch's gradient (distillation, learned labels)."""
    z, q = rng.standard_normal((4, 5)), _probabilities(rng, (4, 5))
    results = []
    for lib, kl in ((dn, F.kl_div), (torch, TF.kl_div)):
        zt, qt = lib.tensor(z, requires_grad=True), lib.tensor(q, requires_grad=True)
        kl(zt.log_softmax(1), qt, reduction="batchmean").backward()
        results.append((zt.grad, qt.grad))
    for a, e in zip(*results):
        assert_close(a, e, what="KL gradient")
