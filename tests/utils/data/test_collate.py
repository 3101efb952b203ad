"""default_collate and default_convert against torch's on every kind of sample they handle,
and the errors they raise."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as torch_collate
from torch.utils.data import default_convert as torch_convert

import deepnum as dn
from deepnum.utils.data import default_collate, default_convert
from tests.utils.data.common import SAMPLE_KINDS, Point, plain


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
def test_default_collate_matches_torch(kind):
    samples = [SAMPLE_KINDS[kind](i) for i in range(4)]
    assert plain(default_collate(samples)) == plain(torch_collate(samples))


@pytest.mark.parametrize("samples", [
    [np.float32(1.5), np.float32(2.0)], [np.int16(3), np.int16(4)], [np.bool_(True)] * 2,
    [True, False], [True, 2], [1.5, 2], [np.zeros((2, 3), np.float16)] * 2,
    [OrderedDict(a=1, b=2.0), OrderedDict(a=3, b=4.0)], [(1, "a"), (2, "b")],
    [[np.float64(1)], [np.float64(2)]]], ids=str)
def test_default_collate_leaves_match_torch(samples):
    assert plain(default_collate(samples)) == plain(torch_collate(samples))


def test_tensors_are_stacked_as_torch():
    ours = default_collate([dn.tensor([1.0, 2.0]), dn.tensor([3.0, 4.0])])
    theirs = torch_collate([torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])])
    assert plain(ours) == plain(theirs)
    pairs = default_collate([(dn.zeros(2, dtype=dn.float64), dn.tensor(1)),
                             (dn.ones(2, dtype=dn.float64), dn.tensor(0))])
    assert isinstance(pairs, list) and pairs[0].shape == (2, 2) and pairs[1].dtype == dn.int64


def test_named_tuples_keep_their_type():
    batch = default_collate([Point(1.0, 2), Point(3.0, 4)])
    assert type(batch) is Point and batch.label.tolist() == [2, 4]


@pytest.mark.parametrize("samples, error, message", [
    ([np.array(["a", "b"]), np.array(["c", "d"])], TypeError,
     "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found"),
    ([object(), object()], TypeError, "default_collate: batch must contain tensors"),
    ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
])
def test_collate_errors_match_torch(samples, error, message):
    for collate in (default_collate, torch_collate):
        with pytest.raises(error, match=message):
            collate(samples)


@pytest.mark.parametrize("data", [
    np.arange(3), np.float32(2.5), {"a": np.ones(2), "b": "text"}, (np.zeros(1), 3),
    [np.zeros(2), [np.ones(1)]], Point(np.arange(2), 1), "plain", 7, np.array(["s"])], ids=str)
def test_default_convert_matches_torch(data):
    assert plain(default_convert(data)) == plain(torch_convert(data))
