"""Embedding against torch.nn.Embedding: lookup, gradient accumulation, padding_idx."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import copy_module_weights

IDS = np.array([[1, 2, 0, 2], [4, 0, 0, 3]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_matches_torch(dtype, padding_idx):
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    theirs = theirs.double() if dtype == np.float64 else theirs
    ours = nn.Embedding(5, 3, padding_idx=padding_idx, dtype=dtype)
    copy_module_weights(ours, theirs)
    ids = IDS if padding_idx != -1 else np.where(IDS == 0, 4, IDS)
    out, ref = ours(dn.tensor(ids)), theirs(torch.tensor(ids))
    np.testing.assert_allclose(out.data, ref.detach().numpy())
    w = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    (out * dn.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-6,
                               atol=1e-6)
    assert ours.weight.grad.dtype == dtype


def test_padding_row_starts_at_zero_and_never_trains():
    emb = nn.Embedding(6, 4, padding_idx=2)
    assert np.all(emb.weight.data[2] == 0) and emb.padding_idx == 2
    emb(dn.tensor([2, 2, 1])).sum().backward()
    assert np.all(emb.weight.grad.data[2] == 0)
    np.testing.assert_array_equal(emb.weight.grad.data[1], np.ones(4))


def test_repeated_ids_accumulate_and_functional_form():
    w = dn.randn(4, 2, requires_grad=True)
    F.embedding(dn.tensor([3, 3, 3, 0]), w).sum().backward()
    np.testing.assert_array_equal(w.grad.data[:, 0], [1, 0, 0, 3])


def test_from_pretrained_freezes():
    table = np.arange(6, dtype=np.float32).reshape(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    np.testing.assert_array_equal(emb(dn.tensor([2])).data, [[4, 5]])
    assert not emb.weight.requires_grad
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_errors():
    with pytest.raises(ValueError, match="Embedding: num_embeddings"):
        nn.Embedding(0, 3)
    with pytest.raises(ValueError, match="Embedding: padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(IndexError, match="out of range"):
        nn.Embedding(3, 2)(dn.tensor([3]))
    with pytest.raises(TypeError, match="integers"):
        nn.Embedding(3, 2)(dn.tensor([0.5]))
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
