"""Shape ops, indexing (basic, advanced: scatter-add backward), pad, cat/stack vs PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
from tests.helpers import check_against_torch

DTYPES = [np.float64, np.float32]
IDX = np.array([2, 0, 2, 1])  # a repeated index: its gradient must accumulate

CASES = {
    "reshape": (lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
    "reshape_infer": (lambda x: x.reshape(-1, 3), lambda x: x.reshape(-1, 3)),
    "view_tuple": (lambda x: x.view((2, 12)), lambda x: x.view(2, 12)),
    "T": (lambda x: x.reshape(6, 4).T, lambda x: x.reshape(6, 4).T),
    "transpose": (lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2)),
    "permute": (lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1)),
    "permute_negative": (lambda x: x.permute(-1, 0, -2), lambda x: x.permute(-1, 0, -2)),
    "flatten": (lambda x: x.flatten(), lambda x: x.flatten()),
    "flatten_1": (lambda x: x.flatten(1), lambda x: x.flatten(1)),
    "unsqueeze_squeeze": (lambda x: x.unsqueeze(1).unsqueeze(-1).squeeze(),
                          lambda x: x.unsqueeze(1).unsqueeze(-1).squeeze()),
    "squeeze_dim": (lambda x: x[:, :1].squeeze(1), lambda x: x[:, :1].squeeze(1)),
    "expand": (lambda x: x[:, :1].expand(2, 5, 4), lambda x: x[:, :1].expand(2, 5, 4)),
    "slice": (lambda x: x[1:, ::2, -1], lambda x: x[1:, ::2, -1]),
    "int_index": (lambda x: x[1], lambda x: x[1]),
    "ellipsis_none": (lambda x: x[..., None, 1], lambda x: x[..., None, 1]),
    "int_array": (lambda x: x[:, IDX], lambda x: x[:, torch.tensor(IDX)]),
    "two_arrays": (lambda x: x[np.array([0, 1, 1]), np.array([2, 2, 0])],
                   lambda x: x[torch.tensor([0, 1, 1]), torch.tensor([2, 2, 0])]),
    "bool_mask": (lambda x: x[x.data > 0], lambda x: x[x > 0]),
    "tensor_index": (lambda x: x[dn.tensor(IDX[1:2])], lambda x: x[torch.tensor(IDX[1:2])]),
    "pad": (lambda x: dn.pad(x, (1, 2)), lambda x: TF.pad(x, (1, 2))),
    "pad_two_dims_value": (lambda x: dn.pad(x, (1, 0, 0, 2), value=0.5),
                           lambda x: TF.pad(x, (1, 0, 0, 2), value=0.5)),
    "cat": (lambda x: dn.cat([x, x * 2, x[:, :1]], dim=1),
            lambda x: torch.cat([x, x * 2, x[:, :1]], dim=1)),
    "cat_last": (lambda x: dn.cat([x, x.exp()], axis=-1), lambda x: torch.cat([x, x.exp()], -1)),
    "stack": (lambda x: dn.stack([x, x * x], dim=1), lambda x: torch.stack([x, x * x], dim=1)),
    "stack_last": (lambda x: dn.stack([x, -x], -1), lambda x: torch.stack([x, -x], -1)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_movement_against_torch(name, dtype, rng):
    check_against_torch(*CASES[name], [rng.standard_normal((2, 3, 4))], dtype)


@pytest.mark.parametrize("name", sorted(CASES))
def test_movement_gradcheck(name, rng):
    assert dn.gradcheck(CASES[name][0], [dn.tensor(rng.standard_normal((2, 3, 4)))])


def test_cast_keeps_gradient_dtype():
    x = dn.tensor(np.ones(3), requires_grad=True)
    (x.float() * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("call, message", [
    (lambda m: m.ones(2, 3).reshape(4, 2), r"shape '\[4, 2\]' is invalid for input of size 6"),
    (lambda m: m.cat([m.ones(2, 3), m.ones(3, 3)], dim=1), "Sizes of tensors must match"),
    (lambda m: m.stack([m.ones(2), m.ones(3)]), "stack expects each tensor to be equal size"),
    (lambda m: m.ones(2, 3).permute(0, 0), "permute"),
])
def test_bad_shapes_raise_what_torch_raises(call, message):
    with pytest.raises(RuntimeError, match=message):
        call(dn)
    with pytest.raises(RuntimeError):
        call(torch)


def test_setitem_refuses_tensors_that_require_grad():
    x = dn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 1.0
    with dn.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]
