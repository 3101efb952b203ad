"""Real PyTorch one-liners, written as PyTorch code and run twice, once with ``torch`` and once
with ``deepnum`` bound to the name ``torch`` ("imports changed only"), comparing the results
(values, dtypes, shapes, gradients, named tuples; see tests.helpers.compare).

A line is an expression, or statements that leave their result in ``out``. Each runs in a fresh
namespace made by PRELUDE, so in-place lines do not leak into the next.
"""

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import compare

PRELUDE = """
x = torch.tensor([[0.5, -1.2, 2.0, 0.1], [1.5, 0.3, -0.7, 2.2], [-0.4, 1.1, 0.9, -2.0]])
v = torch.tensor([1.0, -2.0, 3.0, 0.5])
i = torch.tensor([2, 0, 1])
n = torch.tensor([3, 1, 4, 1, 5])
b = torch.tensor([True, False, True, False])
w = torch.tensor([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6], [-0.7, 0.8]], requires_grad=True)
a = torch.tensor([0.5, 1.5, -0.5], requires_grad=True)
"""

CREATION = [
    "torch.zeros(2, 3)", "torch.ones(2, 3, dtype=torch.int64)", "torch.zeros((4,))",
    "torch.full((2, 2), 3.5)", "torch.full((2,), 7)", "torch.eye(3)", "torch.eye(2, 4)",
    "torch.arange(10)", "torch.arange(0, 1, 0.25)", "torch.arange(10, 0, -3)",
    "torch.linspace(0, 1, steps=5)", "torch.logspace(0, 2, steps=3)",
    "torch.tensor([[1, 2], [3, 4]])", "torch.tensor([1.0, 2.0], dtype=torch.float64)",
    "torch.tensor(3.14)", "torch.tensor([])", "torch.as_tensor([1, 2, 3])",
    "torch.from_numpy(np.arange(4))", "torch.zeros_like(x)", "torch.ones_like(i)",
    "torch.full_like(x, -1)", "torch.empty(2, 5).shape", "torch.empty_like(x).dtype",
    "x.new_zeros(2)", "x.new_ones((1, 2))", "i.new_full((3,), 9)", "x.new_tensor([1, 2])",
    "torch.randn(3, 4).shape", "torch.rand(2, 2).dtype", "torch.randint(0, 10, (5,)).dtype",
    "torch.randn_like(x).shape", "torch.randperm(6).sort().values", "torch.zeros(2, 3).size()",
    "torch.stack([torch.zeros(2), torch.ones(2)])", "torch.cat([x, x]).shape",
    "torch.tensor([[1.0]] * 3)", "torch.tril(torch.ones(3, 3))", "torch.triu(torch.ones(3, 4), 1)",
    "torch.diag(torch.tensor([1, 2, 3]))", "torch.zeros(2, requires_grad=True)",
]

POINTWISE = [
    "x + 1", "x * v", "x / 2", "1 / (1 + torch.exp(-x))", "x ** 2", "2 ** v", "x - v",
    "torch.sigmoid(x)", "torch.tanh(x)", "torch.relu(x)", "x.clamp(min=0)", "x.clamp(-1, 1)",
    "torch.abs(x)", "x.sign()", "torch.sqrt(x.abs())", "torch.log(x.abs() + 1)", "x.exp()",
    "torch.sin(x) + torch.cos(x)", "torch.atan2(x, x + 1)", "torch.erf(x)", "x.floor()",
    "x.ceil()", "x.round()", "torch.round(x * 10) / 10", "torch.where(x > 0, x, 0.0)",
    "torch.where(x > 0, x, torch.zeros_like(x))", "torch.maximum(x, torch.zeros_like(x))",
    "torch.minimum(x, v)", "x > 0", "(x > 0) & (x < 1)", "~(x > 0)", "x == x", "x != 0.5",
    "torch.isnan(x / 0)", "torch.isfinite(x / 0)", "torch.allclose(x, x + 1e-9)",
    "torch.lerp(x, v, 0.5)", "torch.tensor([1, 2]) + 0.5", "torch.tensor([1, 2]) / 2",
    "torch.tensor([7, -7]) // 2", "torch.tensor([7, -7]) % 3", "n * 2 + 1", "-x",
    "torch.reciprocal(v)", "torch.rsqrt(v.abs())", "torch.log1p(x.abs())", "torch.expm1(x)",
    "x.pow(3)", "torch.pow(v.abs(), v)", "torch.nan_to_num(x / 0)", "torch.square(x)",
    "torch.softmax(x, dim=1)", "torch.log_softmax(x, -1)", "torch.frac(x)",
    "torch.tensor([True, False]) | torch.tensor([False, False])", "torch.fmod(x, 1.0)",
    "x.remainder(1.0)", "torch.fmod(torch.tensor([-7, 7]), 3)", "x.fmod(-0.5)",
    "torch.clamp(x, min=-0.5, max=torch.tensor(0.5))", "x.clamp(min=torch.tensor(0.0))",
    "torch.div(x, 2, rounding_mode='floor')", "torch.add(x, v, alpha=0.5)", "x.sub(1, alpha=2)",
    "torch.addcmul(x, x, x, value=0.5)", "x.addcdiv(x, x.abs() + 1)", "torch.hypot(x, x)",
    "torch.logaddexp(x, v)", "torch.xlogy(x.abs(), v.abs())", "torch.clamp_max(x, 0.5)",
]

REDUCTION = [
    "x.sum()", "x.sum(0)", "x.sum(dim=1, keepdim=True)", "x.mean()", "x.mean(-1)",
    "x.max()", "x.max(dim=1)", "x.max(1)[0]", "x.max(1).indices", "x.min(0)", "x.argmax()",
    "x.argmax(dim=1)", "torch.argmin(x, 0)", "x.amax((0, 1))", "x.prod(1)", "x.cumsum(0)",
    "x.cumprod(1)", "x.std()", "x.var(0)", "x.std(1, unbiased=False)", "x.norm()",
    "x.norm(dim=1)", "x.norm(p=1)", "torch.dist(x, x * 2)", "torch.logsumexp(x, 1)",
    "x.sort()", "x.sort(0, descending=True)", "torch.sort(v)[1]", "x.topk(2)",
    "torch.topk(v, 2, largest=False)", "x.median()", "x.median(1)", "n.mode()",
    "x.kthvalue(2, 1)", "torch.unique(n)", "torch.unique(n, return_counts=True)",
    "torch.bincount(n)", "(x > 0).sum()", "(x > 0).float().mean()", "(x > 0).all()",
    "(x > 0).any(1)", "x.count_nonzero()", "torch.tensor(3.0).sum(0)", "n.sum()",
    "torch.tensor([True, False]).min()", "x.var(correction=0)", "x.argsort(dim=1)",
    "torch.max(x, 1, keepdim=True)[0]", "torch.max(x, v)", "x.sum((0, 1))",
    "torch.mean(x, axis=1)", "torch.sum(x, axis=0)", "x.sum(axis=0)", "x.nansum()",
    "torch.tensor([float('nan'), 1.0]).nansum()", "torch.aminmax(x)", "torch.var_mean(x, 1)",
    "x.mean(dtype=torch.float64)", "torch.std(x, dim=1, correction=0)", "x.abs().max().item()",
    "torch.nanmean(torch.tensor([1.0, float('nan'), 2.0]))", "x.nanmean(1)", "x.msort()",
]

SHAPE = [
    "x.view(-1)", "x.view(4, 3)", "x.reshape(2, 6)", "x.flatten()", "x.t()", "x.T",
    "x.transpose(0, 1)", "x.permute(1, 0)", "x.unsqueeze(0).shape", "x.unsqueeze(-1).shape",
    "x[None].squeeze(0).shape", "x.reshape(3, 1, 4).squeeze(1)", "x.expand(2, 3, 4).shape",
    "v.expand(3, 4)", "x.repeat(2, 1)", "v.repeat_interleave(2)", "x.flip(0)", "x.flip(1)",
    "x.roll(1, 1)", "torch.cat([x, x], dim=1)", "torch.stack([v, v], dim=1)",
    "x.chunk(2, dim=1)", "x.split(1)", "x.split([1, 3], dim=1)", "x.unbind(0)",
    "x.narrow(1, 1, 2)", "x.unfold(1, 2, 1)", "x.contiguous().is_contiguous()",
    "x.t().is_contiguous()", "x.view_as(torch.zeros(4, 3))", "v.expand_as(x)",
    "x.movedim(0, 1).shape", "torch.flatten(x.reshape(3, 2, 2), 1)", "x.unflatten(1, (2, 2))",
    "torch.tril(x)", "torch.triu(x, -1)", "x.numel()", "x.dim()", "x.size(1)", "x.shape",
    "x.ndim", "len(x)", "x.tile((1, 2))", "torch.broadcast_to(v, (2, 4))",
    "torch.hstack([v, v])", "torch.vstack([v, v])", "x.reshape(-1, 2).shape", "x.select(1, 0)",
    "x.flip(dims=(0,))", "torch.flip(x, [0, 1])", "torch.roll(x, shifts=1, dims=0)",
    "torch.diagonal(x)", "x.diagonal(1)", "torch.trace(x[:, :3])",
    "x.permute(1, 0).contiguous().view(-1)", "x[:, :1].expand(-1, 4)",
    "x.unsqueeze(1) - x.unsqueeze(0)", "torch.diff(v)", "x.diff(dim=0)", "x.ravel()",
    "torch.meshgrid(v, v[:2], indexing='ij')", "torch.meshgrid(v, v[:2], indexing='xy')",
    "x.stride()", "x.t().stride()", "torch.atleast_2d(v).shape", "x.moveaxis(0, 1).shape",
]

INDEXING = [
    "x[0]", "x[:, 1]", "x[1, 2]", "x[-1]", "x[:2, 1:3]", "x[::2]", "x[..., 0]", "x[None, 0]",
    "x[[0, 2]]", "x[i]", "x[i, i]", "x[x > 0]", "x[:, b]", "x[b.nonzero().squeeze(1)[:1]]",
    "x.gather(1, i.unsqueeze(1))", "x.index_select(1, torch.tensor([0, 3]))",
    "x.masked_fill(x < 0, 0.0)", "x.masked_select(x > 1)", "torch.nonzero(x > 0)",
    "torch.where(x > 1)", "x.argmax(1).unsqueeze(1)", "torch.zeros(3, 4).scatter(1, "
    "i.unsqueeze(1), 1.0)", "torch.zeros(5).scatter_add(0, n % 5, torch.ones(5))",
    "torch.zeros(3, 5).scatter_(1, i.unsqueeze(1), 1)", "x[torch.arange(3), i]",
    "torch.take_along_dim(x, x.argsort(1), 1)", "x[1][2].item()", "x[0, 0].item()",
    "x[torch.tensor(1)]", "x[:, -2:]", "x[1:, ::-1] if False else x[1:, 1::2]",
    "out = x.clone(); out[0] = 0",
    "out = x.clone(); out[:, 1] = torch.tensor([1.0, 2.0, 3.0])",
    "out = x.clone(); out[out > 0] = -1",
    "out = x.clone(); out[i, torch.tensor([0, 1, 2])] = 9",
    "out = torch.zeros(4); out[n[:2]] += 1",
    "out = x.clone(); out[..., 0] *= 10",
    "x.index_fill(1, torch.tensor([0]), -1)", "torch.index_select(v, 0, torch.tensor([3, 3]))",
    "v.masked_fill(b, 1e9)",
]

LINALG = [
    "x @ w", "torch.matmul(x, w)", "x.mm(w)", "torch.mm(x, w)", "x @ v", "v @ v",
    "torch.dot(v, v)", "torch.mv(x, v)", "torch.outer(v, v)", "torch.bmm(x[None], w[None])",
    "torch.einsum('ij,jk->ik', x, w)", "torch.einsum('ij->j', x)", "torch.einsum('i,i->', v, v)",
    "torch.einsum('bi,bj->bij', x, x).shape", "torch.einsum('ij,ij->i', x, x)",
    "torch.addmm(torch.zeros(3, 2), x, w)", "torch.addmm(torch.ones(2), x, w, beta=0.5, alpha=2)",
    "torch.baddbmm(torch.zeros(1, 3, 2), x[None], w[None])", "x @ x.t()",
    "(x.unsqueeze(0) @ w.unsqueeze(0)).shape", "torch.nn.functional.linear(x, w.t())",
    "torch.nn.functional.linear(x, w.t(), torch.tensor([1.0, -1.0]))", "x.matmul(w).sum(1)",
    "torch.einsum('...j,jk->...k', x, w)", "torch.inner(v, v)", "torch.ger(v, v).shape",
    "torch.addmv(torch.zeros(3), x, v)", "torch.cat([x @ w, x @ w], 1)",
]

AUTOGRAD = [
    "y = (w ** 2).sum(); y.backward(); out = w.grad",
    "y = (x @ w).relu().sum(); y.backward(); out = w.grad",
    "y = (x @ w).sigmoid().mean(); y.backward(); out = w.grad",
    "y = torch.softmax(x @ w, 1)[:, 0].sum(); y.backward(); out = w.grad",
    "y = torch.nn.functional.cross_entropy(x @ w, torch.tensor([0, 1, 1])); y.backward(); "
    "out = (y, w.grad)",
    "y = torch.nn.functional.mse_loss(x @ w, torch.zeros(3, 2)); y.backward(); out = w.grad",
    "y = (a * a).sum(); g, = torch.autograd.grad(y, a); out = g",
    "y = a.exp().sum(); g, = torch.autograd.grad(y, a, create_graph=True); "
    "g2, = torch.autograd.grad(g.sum(), a); out = (g, g2)",
    "h = a * 2; h.retain_grad(); (h ** 2).sum().backward(); out = (h.grad, a.grad)",
    "h = a * 3; h.register_hook(lambda g: g * 2); h.sum().backward(); out = a.grad",
    "y = a.max(); y.backward(); out = a.grad",
    "y = a.max(0).values; y.backward(); out = a.grad",
    "y = a.norm(); y.backward(); out = a.grad",
    "y = a.abs().sum(); y.backward(); out = a.grad",
    "y = a.clamp(0, 1).sum(); y.backward(); out = a.grad",
    "y = torch.where(a > 0, a, a * 0.1).sum(); y.backward(); out = a.grad",
    "y = (a[[0, 0, 2]] ** 2).sum(); y.backward(); out = a.grad",
    "y = a.cumsum(0).sum(); y.backward(); out = a.grad",
    "y = a.prod(); y.backward(); out = a.grad",
    "y = a.sort().values[0]; y.backward(); out = a.grad",
    "y = torch.stack([a, a * 2]).sum(); y.backward(); out = a.grad",
    "y = a.detach() * a; y.sum().backward(); out = a.grad",
    "with torch.no_grad(): y = a * 2\nout = y.requires_grad",
    "y = a * 2; y.backward(torch.ones(3)); out = a.grad",
    "y = (a * 2).sum(); y.backward(retain_graph=True); y.backward(); out = a.grad",
    "y = (a ** 2).sum(); y.backward(inputs=[a]); out = a.grad",
    "out = (a * 2).grad_fn is not None, a.is_leaf, (a * 2).is_leaf",
    "y = torch.logsumexp(a, 0); y.backward(); out = a.grad",
    "y = a.std(); y.backward(); out = a.grad",
    "y = torch.nn.functional.leaky_relu(a, 0.1).sum(); y.backward(); out = a.grad",
    "y = (x @ w).tanh().pow(2).sum(); y.backward(); out = w.grad",
    "z = a.clone().requires_grad_(); (z * 3).sum().backward(); out = z.grad",
    "z = torch.autograd.Variable(torch.ones(2), requires_grad=True); (z * 2).sum().backward(); "
    "out = z.grad",
    "y = a.mean(); g, = torch.autograd.grad(y, a, retain_graph=True); out = g",
]

INPLACE = [
    "out = x.clone(); out.add_(1)", "out = x.clone(); out.mul_(2).sub_(1)",
    "out = x.clone(); out.zero_()", "out = x.clone(); out.fill_(3)",
    "out = x.clone(); out.clamp_(0, 1)", "out = x.clone(); out.relu_()",
    "out = x.clone(); out.masked_fill_(out < 0, 0)", "out = x.clone(); out.copy_(x * 2)",
    "out = x.clone(); out.div_(2)", "out = x.clone(); out.add_(v, alpha=2)",
    "out = x.clone(); out += v", "out = x.clone(); out *= 2", "out = x.clone(); out -= 1",
    "out = x.clone(); out /= 4", "out = x.clone(); out.t_()", "out = x.clone(); out[0].zero_()",
    "out = x.clone(); out.view(-1)[0] = 5", "out = x.clone(); out.unsqueeze_(0)",
    "out = x.clone(); out.squeeze_()", "out = x.clone(); out.exp_()",
    "out = x.clone(); out.sigmoid_()", "out = x.clone(); out.tanh_()",
    "out = x.clone(); out.abs_().sqrt_()", "out = x.clone(); out.neg_()",
    "out = x.clone(); out.scatter_(1, i.unsqueeze(1), 0.0)",
    "out = x.clone(); out.index_fill_(0, i[:1], 1)", "out = n.clone(); out.add_(1)",
    "out = x.clone(); out.lerp_(v.expand(3, 4), 0.5)",
    "out = x.clone(); out.addcmul_(x, x, value=0.5)",
    "out = x.clone(); out.addcdiv_(x, x.abs() + 1)",
    "with torch.no_grad(): w -= 0.1 * torch.ones(4, 2)\nout = w",
    "with torch.no_grad(): w.mul_(0)\nout = (w, w.requires_grad)",
    "y = a * 1; y.mul_(2); y.sum().backward(); out = a.grad",
    "y = a * 1; y[0] = 10; (y * y).sum().backward(); out = a.grad",
    "y = a * 1; y[1:].add_(5); (y * y).sum().backward(); out = (y, a.grad)",
    "a.data.mul_(2); out = a",
    "y = a * 1; z = y.exp(); y.add_(1); out = z",
    "y = a.detach(); y.zero_(); out = a",
    "out = x.clone(); out.clamp_(max=0)",
    "out = x.clone(); out.pow_(2)", "out = x.clone(); out.ceil_()",
    "out = x.clone(); out.fmod_(0.5)", "out = x.clone(); out.transpose_(0, 1)",
    "out = x.clone(); out.square_().sign_()", "out = x.clone(); out.cumsum_(1)",
]

DTYPE_DEVICE = [
    "x.dtype", "i.dtype", "b.dtype", "x.float().dtype", "x.double()", "x.long()", "x.int()",
    "x.bool()", "x.half().dtype", "i.float()", "x.to(torch.float64)", "x.to('cpu')",
    "x.to('cpu', torch.int64)", "x.to(i)", "x.type(torch.int32)", "x.type_as(i)",
    "x.device", "torch.device('cpu')", "x.cpu()", "x.is_cuda", "torch.cuda.is_available()",
    "torch.zeros(2, device='cpu').device", "x.to(device=torch.device('cpu'))",
    "torch.get_default_dtype()", "torch.float32 == torch.float", "x.element_size()",
    "i.element_size()", "x.is_floating_point()", "i.is_floating_point()",
    "torch.is_tensor(x)", "torch.promote_types(torch.int64, torch.float32)",
    "torch.result_type(i, 1.0)", "(i + 0.5).dtype", "(i * 2).dtype", "(i / 2).dtype",
    "(b + b).dtype", "(b * 1.5).dtype", "torch.tensor([1, 2], dtype=torch.uint8) + 255",
    "(x.double() + x).dtype", "(x + torch.tensor(1.0, dtype=torch.float64)).dtype",
    "torch.can_cast(torch.float32, torch.int32)", "int(i[0])", "float(x[0, 0])",
    "bool(b[0])", "i.tolist()", "x[0, 0].item()", "torch.tensor(5).item()",
    "x.requires_grad", "w.requires_grad", "torch.LongTensor([1, 2])", "torch.FloatTensor([1])",
    "torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
    "x.type(torch.DoubleTensor)", "x.numpy()", "x.detach().cpu().numpy()", "i.numpy()",
]

FAMILIES = {"creation": CREATION, "pointwise": POINTWISE, "reduction": REDUCTION,
            "shape": SHAPE, "indexing": INDEXING, "linalg": LINALG, "autograd": AUTOGRAD,
            "inplace": INPLACE, "dtype_device": DTYPE_DEVICE}
CASES = [(family, line) for family, lines in FAMILIES.items() for line in lines]


def run(module, line: str):
    space = {"torch": module, "np": np}
    exec(PRELUDE, space)  # noqa: S102 - the lines are this file's own
    if "out =" in line or "\n" in line:
        exec(line, space)  # noqa: S102
        return space["out"]
    return eval(line, space)  # noqa: S307


@pytest.mark.parametrize("family, line", CASES, ids=[f"{f}: {line}" for f, line in CASES])
def test_one_liner_gives_torchs_result(family, line):
    compare(run(dn, line), run(torch, line), line)


def test_each_family_has_a_few_dozen_lines():
    assert all(len(lines) >= 25 for lines in FAMILIES.values()), {
        f: len(lines) for f, lines in FAMILIES.items()}
