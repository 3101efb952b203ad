"""Shape functions against PyTorch: reshape/view/permute/transpose/movedim, squeeze/unsqueeze (also
of 0-d tensors), expand/expand_as/view_as, repeat/repeat_interleave/tile, flip/roll, cat/stack,
chunk/split/unbind/tensor_split, narrow, unfold, tril/triu/diag, pad; values, gradients (float64,
float32), finite differences, views sharing memory, and the errors torch raises."""

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import check_against_torch, check_op, raises_both, run_both


def _x(rng, shape=(2, 3, 4)):
    return rng.standard_normal(shape)


SHAPE = {
    "reshape": lambda m, x: x.reshape(4, -1),
    "reshape_tuple": lambda m, x: m.reshape(x, (6, 4)),
    "view": lambda m, x: x.view(-1),
    "view_as": lambda m, x: x.view_as(m.zeros(4, 6)),
    "reshape_as": lambda m, x: x.reshape_as(m.zeros(3, 8)),
    "flatten": lambda m, x: x.flatten(1),
    "flatten_function": lambda m, x: m.flatten(x, 0, 1),
    "unflatten": lambda m, x: x.unflatten(2, (2, 2)),
    "permute": lambda m, x: x.permute(2, 0, 1),
    "permute_tuple": lambda m, x: m.permute(x, (1, 2, 0)),
    "transpose": lambda m, x: x.transpose(0, 2),
    "transpose_negative": lambda m, x: m.transpose(x, -1, -2),
    "swapaxes": lambda m, x: x.swapaxes(0, 1),
    "movedim": lambda m, x: x.movedim(0, -1),
    "movedim_many": lambda m, x: m.movedim(x, (0, 1), (2, 0)),
    "T_2d": lambda m, x: x[0].T,
    "mT": lambda m, x: x.mT,
    "t": lambda m, x: x[0].t(),
    "squeeze": lambda m, x: x[:, :1].squeeze(),
    "squeeze_dim": lambda m, x: x[:, :1].squeeze(1),
    "squeeze_other_dim": lambda m, x: m.squeeze(x, 0),
    "unsqueeze": lambda m, x: x.unsqueeze(1),
    "unsqueeze_negative": lambda m, x: m.unsqueeze(x, -1),
    "expand": lambda m, x: x[:, :1].expand(2, 3, 4),
    "expand_minus_one": lambda m, x: x[None].expand(5, -1, -1, -1),
    "expand_as": lambda m, x: x[0, 0].expand_as(x),
    "broadcast_to": lambda m, x: m.broadcast_to(x[:, :1], (2, 3, 4)),
    "repeat": lambda m, x: x.repeat(2, 1, 3),
    "repeat_more_dims": lambda m, x: x[0].repeat(2, 1, 2),
    "repeat_interleave": lambda m, x: x.repeat_interleave(2, dim=1),
    "repeat_interleave_flat": lambda m, x: m.repeat_interleave(x[0], 3),
    "repeat_interleave_counts": lambda m, x: x.repeat_interleave(m.tensor([1, 0, 2]), dim=1),
    "tile": lambda m, x: m.tile(x, (2,)),
    "flip": lambda m, x: x.flip(0),
    "flip_many": lambda m, x: m.flip(x, (0, 2)),
    "fliplr": lambda m, x: m.fliplr(x[0]),
    "roll": lambda m, x: x.roll(1, 2),
    "roll_flat": lambda m, x: m.roll(x, 5),
    "roll_many": lambda m, x: x.roll((1, -2), (0, 2)),
    "narrow": lambda m, x: x.narrow(2, 1, 2),
    "narrow_function": lambda m, x: m.narrow(x, 1, -2, 2),
    "select": lambda m, x: x.select(1, 2),
    "unfold": lambda m, x: x.unfold(2, 2, 1),
    "unfold_step": lambda m, x: x.unfold(1, 2, 2),
    "tril": lambda m, x: x.tril(),
    "tril_diagonal": lambda m, x: m.tril(x, -1),
    "triu": lambda m, x: m.triu(x, 1),
    "triu_method": lambda m, x: x.triu(),
    "diag_of_matrix": lambda m, x: m.diag(x[0]),
    "diag_offset": lambda m, x: x[0].diag(1),
    "diag_of_vector": lambda m, x: m.diag(x[0, 0], -1),
    "diagonal": lambda m, x: m.diagonal(x),
    "diagonal_dims": lambda m, x: x.diagonal(1, 0, 2),
    "trace": lambda m, x: m.trace(x[0]),
    "diff": lambda m, x: m.diff(x),
    "diff_dim0": lambda m, x: x.diff(n=1, dim=0),
    "diff_twice": lambda m, x: x.diff(2),
    "diff_prepend": lambda m, x: m.diff(x, dim=1, prepend=x[:, :1] * 2),
    "ravel": lambda m, x: x.transpose(0, 2).ravel(),
    "chunk": lambda m, x: m.cat([c * (i + 1) for i, c in enumerate(x.chunk(2, 2))], 2),
    "chunk_uneven": lambda m, x: m.stack([c.sum() for c in m.chunk(x, 2, 1)]),
    "split": lambda m, x: m.cat([c * (i + 1) for i, c in enumerate(x.split(3, 2))], 2),
    "split_sizes": lambda m, x: m.cat([c.sum(2) for c in m.split(x, [1, 3], dim=2)], 1),
    "unbind": lambda m, x: m.stack([c * (i + 1) for i, c in enumerate(x.unbind(1))], 0),
    "tensor_split": lambda m, x: m.cat([c.sum(1) for c in m.tensor_split(x, 3, dim=2)], 1),
    "cat": lambda m, x: m.cat([x, x * 2], 1),
    "cat_negative": lambda m, x: m.cat((x, x[..., :1]), dim=-1),
    "concat": lambda m, x: m.concat([x, x], 0),
    "stack": lambda m, x: m.stack([x, -x]),
    "stack_dim": lambda m, x: m.stack([x, x * 3], dim=2),
    "hstack": lambda m, x: m.hstack([x[0], x[1]]),
    "vstack": lambda m, x: m.vstack([x[0], x[1, 0]]),
    "clone": lambda m, x: x.clone(),
    "contiguous": lambda m, x: x.transpose(0, 1).contiguous(),
    "getitem_view": lambda m, x: x[1:, ::2, -1],
}


@pytest.mark.parametrize("name", sorted(SHAPE))
def test_shape_function_against_torch_and_finite_differences(name, rng):
    check_op(SHAPE[name], [_x(rng)])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_against_torch_nn_functional_pad(mode, rng):
    """deepnum.pad is torch.nn.functional.pad."""
    for dtype in (np.float64, np.float32):
        check_against_torch(lambda t: dn.pad(t, (1, 2, 2, 1), mode=mode),
                            lambda t: torch.nn.functional.pad(t, (1, 2, 2, 1), mode=mode),
                            [_x(rng, (2, 3, 4))], dtype)
    assert dn.gradcheck(lambda t: dn.pad(t, (2, 1), mode=mode), [_x(rng, (2, 3))])


def test_functions_of_two_tensors_with_different_dtypes_promote():
    run_both(lambda m: (m.cat([m.tensor([1, 2]), m.tensor([0.5])]),
                        m.stack([m.tensor([1, 2], dtype=m.int32), m.tensor([3, 4])]),
                        m.cat([m.ones(1, dtype=m.float64), m.ones(1)])))


def test_split_chunk_return_tuples_of_the_right_sizes():
    run_both(lambda m: (m.arange(10).split(3), m.arange(10).chunk(3), m.arange(10).chunk(4),
                        m.arange(5).chunk(10), m.arange(6).reshape(2, 3).unbind(1),
                        m.arange(7).tensor_split(3), m.arange(7).tensor_split([1, 5]),
                        m.split(m.arange(6), [2, 4])))


def test_views_share_memory_like_torch():
    def f(m):
        x = m.zeros(2, 3)
        x.view(-1)[0] = 1
        x.t()[1, 0] = 2
        x[1].fill_(3)
        x.narrow(1, 2, 1).zero_()
        x.unsqueeze(0)[0, 0, 1] = 4
        x.reshape(6)[4] = 5  # reshape of a contiguous tensor is a view
        x.select(0, 0).add_(10)
        x.expand(2, 2, 3)  # expand is a view; not written
        return x

    run_both(f)


def test_copies_do_not_share_memory():
    def f(m):
        x = m.zeros(2, 3)
        x.clone()[0, 0] = 1
        x.flip(0)[0, 0] = 2
        x.repeat(1, 1)[0, 0] = 3
        x.t().contiguous()[0, 0] = 4
        x[m.tensor([0])][0, 0] = 5
        m.cat([x, x])[0, 0] = 6
        return x

    run_both(f)


def test_squeeze_and_unsqueeze_of_zero_dimensional_tensors():
    run_both(lambda m: (m.tensor(3.0).squeeze(0), m.tensor(3.0).squeeze(-1),
                        m.tensor(3.0).squeeze(), m.tensor(3.0).unsqueeze(0),
                        m.tensor(3.0).unsqueeze(-1), m.tensor(3.0).reshape(1, 1),
                        m.tensor(3.0).flatten(), m.tensor([3.0]).squeeze(0),
                        m.ones(1, 2, 1).squeeze((0, 2)), m.ones(2, 1).squeeze(0),
                        m.tensor(3.0).view(1), m.tensor(3.0).expand(2, 2),
                        m.tensor(3.0).t(), m.tensor(3.0).T, m.tensor(2.0).flip(0)))


def test_sizes_and_strides_views_report():
    run_both(lambda m: (m.ones(2, 3).t().is_contiguous(), m.ones(2, 3).is_contiguous(),
                        m.ones(2, 3)[:, 1].is_contiguous(), m.ones(2, 3).t().shape,
                        m.ones(2, 3).view(3, 2).size(), m.ones(2, 3, 4).flatten(1).size(1)))


@pytest.mark.parametrize("case, match", [
    (lambda m: m.ones(2, 3).view(4), "invalid for input of size 6"),
    (lambda m: m.ones(2, 3).reshape(-1, 4), "invalid for input of size 6"),
    (lambda m: m.ones(2, 3).t().view(6), "view size is not compatible"),
    (lambda m: m.ones(2, 3).permute(0), None),
    (lambda m: m.ones(2, 3).permute(0, 0), "duplicate dims"),
    (lambda m: m.ones(2, 3).transpose(0, 2), "Dimension out of range"),
    (lambda m: m.ones(2, 3).squeeze(2), "Dimension out of range"),
    (lambda m: m.ones(2, 3).unsqueeze(3), "Dimension out of range"),
    (lambda m: m.ones(2, 3).expand(3, 3), "must match the existing size"),
    (lambda m: m.ones(2, 3).expand(3), "must be greater or equal"),
    (lambda m: m.ones(2, 3).repeat(2), "can not be smaller"),
    (lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]), "Sizes of tensors must match"),
    (lambda m: m.cat([]), None),
    (lambda m: m.stack([m.ones(2), m.ones(3)]), "stack expects each tensor to be equal size"),
    (lambda m: m.ones(2, 3).split([1, 2], 0), "split_with_sizes"),
    (lambda m: m.ones(5).narrow(0, 3, 4), None),
    (lambda m: m.ones(2, 2, 2).t(), "expects a tensor with <= 2 dimensions"),
    (lambda m: m.ones(5).unfold(0, 6, 1), "maximum size for tensor at dimension 0 is 5"),
    (lambda m: m.ones(2, 3).flatten(1, 0), "start_dim cannot come after end_dim"),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_double_backward(mode, rng):
    x = _x(rng, (1, 2, 4))

    def f(m):
        t = m.tensor(x, requires_grad=True)
        pad = dn.pad if m is dn else torch.nn.functional.pad
        (g,) = m.autograd.grad((pad(t, (2, 1), mode=mode) ** 3).sum(), t, create_graph=True)
        (g * t).sum().backward()
        return g, t.grad

    run_both(f)
