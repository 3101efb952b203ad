"""A captured training step: forward, loss, backward and update of a model that is a chain of
layers (a Sequential, or any forward that calls its layers one after another: see
:mod:`deepnum.fast.trace`) replayed on NumPy arrays from a plan made at the first call, with
buffers allocated once.

The eager step builds a Tensor for every intermediate, records a graph node per op and walks the
graph backwards; for a small network at a small batch that bookkeeping costs as much as the
arithmetic. A plan is the same arithmetic without it: one *stage* per step of the fusion plan
(``Linear, ReLU`` is one stage), each running the same NumPy operations as the eager ops, in the
same order, into arrays it keeps between steps (matrix products with ``out=``); then the fused
log-softmax + NLL and its gradient; then the optimizer's rule for each parameter, through the
speed wing's dispatch. So the parameters after any number of captured steps are the eager
step's, bit for bit (tested).

A plan is made for one batch shape and one model structure: it is made again when either
changes, and the step falls back to eager (with the reason in ``CapturedStep.reason``) when a
module has hooks, the forward is not a chain of its layers, a layer or loss has no stage, or
the optimizer has no rule here.

>>> step = CapturedStep(model, nn.CrossEntropyLoss())
>>> loss, outputs = step(x, y)         # every .grad set, as after loss.backward()
"""

from __future__ import annotations

import numpy as np

from deepnum import fast
from deepnum.fast import jit
from deepnum.fast import linear as linear_kernels
from deepnum.ops import conv as conv_ops
from deepnum.ops import elementwise as ew
from deepnum.ops import norm as norm_ops
from deepnum.ops import pool as pool_ops
from deepnum.tensor import Tensor


class NotCapturable(Exception):
    """This model, loss or optimizer has no captured form (the reason is the message)."""


# ---------------------------------------------------------------------------- stages
# Below this many outputs NumPy's two passes (+ b, then max(0, .)) beat the compiled pass's call
# and thread launch (measured, 1 thread, float32 rows of 256: 1 row 1.7 vs 3.0 us, 8 rows 2.8
# vs 3.0, 16 rows 3.9 vs 3.2, 128 rows 18.4 vs 4.9); both give the same numbers.
KERNEL_MIN_ELEMENTS = 4096


class LinearStage:
    """y = act(x W^T + b) into a kept buffer; backward writes gW, gb and (if wanted) gx into
    buffers too. The same operations as ops.linalg.Linear and fast.linear.LinearReLU."""

    def __init__(self, linear, act: str | None, needs_input_grad: bool):
        self.weight, self.bias, self.act = linear.weight, linear.bias, act
        self.needs_input_grad = needs_input_grad
        self.out = self.gx = self.w = self.x_shape = self.x_dtype = None

    def _prepare(self, x, w) -> None:
        """New input shape or dtype, or a weight array not seen before: new buffers."""
        self.w, self.x_shape, self.x_dtype = w, x.shape, x.dtype
        self.out = np.empty(x.shape[:-1] + (w.shape[0],), dtype=np.result_type(x, w))
        self.scratch = linear_kernels.product_scratch(self.out)
        self.big = self.out.ndim == 2 and self.out.size >= KERNEL_MIN_ELEMENTS
        self.buffers = {}

    def forward(self, x):
        w = self.weight.array
        if w is not self.w or x.shape != self.x_shape or x.dtype != self.x_dtype:
            self._prepare(x, w)
        out = linear_kernels.linear_product(x, w, self.out, self.scratch)  # x @ W^T
        self.kernels = (self.big and jit.enabled() and self.bias is not None
                        and out.dtype == self.bias.array.dtype and x.flags.c_contiguous)
        if self.kernels:  # bias and ReLU in one compiled pass
            linear_kernels.bias_relu_rows(out, self.bias.array, self.act == "relu")
        else:
            if self.bias is not None:
                out += self.bias.array
            if self.act == "relu":
                np.maximum(out, 0, out=out)
        self.x = x
        return out

    def _buffer(self, name, shape, dtype):
        array = self.buffers.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self.buffers[name] = np.empty(shape, dtype=dtype)
        return array

    def backward(self, g):
        x, w = self.x, self.weight.array
        grads = []
        if self.kernels and self.act == "relu" and g.flags.c_contiguous:
            # the ReLU mask and the bias gradient in one compiled pass
            gm = self._buffer("gm", g.shape, g.dtype)
            gb = self._buffer("gb", (g.shape[1],), g.dtype)
            zero = g.dtype.type(0)
            linear_kernels.relu_grad_bias_rows(g, self.out, gm, gb, zero, zero + 1)
            g = gm
            grads.append((self.bias, gb))
        elif self.act == "relu":
            g = g * (self.out > 0)  # 0 at 0, as PyTorch's ReLU; a new array, as eager's
        g2 = g.reshape(-1, g.shape[-1])
        x2 = x.reshape(-1, x.shape[-1])
        gw = np.matmul(g2.T, x2, out=self._buffer("gw", w.shape, np.result_type(g2, x2)))
        grads.insert(0, (self.weight, gw))
        if self.bias is not None and len(grads) == 1:
            grads.append((self.bias, g2.sum(axis=0)))
        gx = None
        if self.needs_input_grad:
            gx = np.matmul(g, w, out=self._buffer("gx", g.shape[:-1] + (w.shape[1],),
                                                 np.result_type(g, w)))
        return gx, grads


class OpStage:
    """One module run as one autograd Function (the reference op, or the speed wing's), called
    on arrays: the Function's own forward and backward, without Tensors or the engine."""

    def __init__(self, op, params, kwargs, needs_input_grad: bool):
        self.op, self.params, self.kwargs = op, params, kwargs
        self.needs_input_grad = needs_input_grad

    def forward(self, x):
        fn = self.fn = self.op()
        fn.needs_input_grad = (self.needs_input_grad,) + tuple(
            p.requires_grad for p in self.params)
        fn.attributes = self.kwargs
        return fn.forward(x, *[p.array for p in self.params], **self.kwargs)

    def backward(self, g):
        out = self.fn.backward(g)
        out = out if type(out) is tuple else (out,)
        return out[0], [(p, pg) for p, pg in zip(self.params, out[1:]) if pg is not None]


class ReshapeStage:
    def __init__(self, module):
        self.module = module

    def forward(self, x):
        self.shape = x.shape
        flat = self.module
        ndim = x.ndim
        start, end = flat.start_dim % ndim, flat.end_dim % ndim
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])

    def backward(self, g):
        return g.reshape(self.shape), []


class DropoutStage:
    """Inverted dropout drawing the same random numbers as F.dropout, in the same order."""

    def __init__(self, module):
        self.module = module

    def forward(self, x):
        from deepnum.random import get_rng

        p = self.module.p
        if not self.module.training or p == 0:
            self.mask = None
            return x
        keep = get_rng().random(x.shape, dtype=x.dtype) >= p
        self.mask = keep.astype(x.dtype) * np.asarray(1 / (1 - p), dtype=x.dtype)
        return x * self.mask

    def backward(self, g):
        return (g if self.mask is None else g * self.mask), []


class BatchNormStage(OpStage):
    """BatchNorm in training, as F.batch_norm: the batch counter first, then the fused op."""

    def __init__(self, bn, needs_input_grad: bool, batch: int):
        super().__init__(fast.choose(norm_ops.BatchNorm, batch=batch),
                         [bn.weight, bn.bias] if bn.affine else [], {}, needs_input_grad)
        self.bn = bn

    def forward(self, x):
        bn = self.bn
        momentum = bn.momentum
        if bn.num_batches_tracked is not None:
            bn.num_batches_tracked.array += 1
            if momentum is None:
                momentum = 1.0 / max(int(bn.num_batches_tracked.array), 1)
        self.kwargs = dict(eps=bn.eps, momentum=0.1 if momentum is None else momentum,
                           running_mean=None if bn.running_mean is None
                           else bn.running_mean.array,
                           running_var=None if bn.running_var is None else bn.running_var.array)
        return super().forward(x)


class BatchNormEvalStage(OpStage):
    """BatchNorm with its running statistics (evaluation): F.batch_norm's fused op."""

    def __init__(self, bn, needs_input_grad: bool, batch: int):
        super().__init__(fast.choose(norm_ops.BatchNormEval, batch=batch),
                         [bn.weight, bn.bias] if bn.affine else [], {}, needs_input_grad)
        self.bn = bn

    def forward(self, x):
        bn = self.bn
        self.kwargs = dict(running_mean=bn.running_mean.array, running_var=bn.running_var.array,
                           eps=bn.eps)
        return super().forward(x)


def _conv_kwargs(conv, x_shape):
    from deepnum.nn.functional_conv import conv_padding, pair

    kernel = conv.weight.shape[2:]
    stride, dilation = pair(conv.stride, "stride"), pair(conv.dilation, "dilation")
    padding = conv_padding(conv.padding, kernel, dilation, stride)
    return dict(stride=stride, padding=padding, dilation=dilation, groups=conv.groups)


def _pool_geometry(pool):
    from deepnum.nn.functional_conv import pair, pool_args

    kernel, stride, padding = pool_args(pool.kernel_size, pool.stride, pool.padding, "max_pool2d")
    return kernel, stride, padding, pair(pool.dilation, "dilation", "max_pool2d")


def stages_for(steps, batch: int, input_needs_grad: bool = False) -> list:
    """A stage for every step of a fusion plan (modules and Fused runs), or NotCapturable."""
    from deepnum.nn.activation import ReLU, Sigmoid, Tanh
    from deepnum.nn.conv import Conv2d
    from deepnum.nn.dropout import Dropout
    from deepnum.nn.fusion import Fused
    from deepnum.nn.linear import Flatten, Identity, Linear
    from deepnum.nn.normalization import _BatchNorm
    from deepnum.nn.pooling import MaxPool2d

    stages, needs = [], input_needs_grad
    for step in steps:
        modules = step.modules if isinstance(step, Fused) else (step,)
        kinds = tuple(type(m) for m in modules)
        if any(m._has_hooks for m in modules):
            raise NotCapturable(f"{type(modules[0]).__name__} has hooks")
        if kinds in ((Linear,), (Linear, ReLU)):
            stages.append(LinearStage(modules[0], "relu" if len(kinds) == 2 else None, needs))
        elif kinds[0] is Conv2d and kinds in ((Conv2d,), (Conv2d, ReLU),
                                               (Conv2d, ReLU, MaxPool2d)):
            conv = modules[0]
            key = {1: conv_ops.Conv2d, 2: ("conv2d", "relu"),
                   3: ("conv2d", "relu", "max_pool2d")}[len(kinds)]
            op = fast.choose(key, batch=batch)
            if isinstance(key, tuple) and op == key:  # no fused op for this batch: one by one
                stages += stages_for(list(modules), batch, needs)
                needs = needs or _learns(modules)
                continue
            kwargs = _conv_kwargs(conv, None)
            if len(kinds) == 3:
                kwargs["pool"] = _pool_geometry(modules[2])
                kwargs["pool_ceil_mode"] = modules[2].ceil_mode
            params = [conv.weight] + ([conv.bias] if conv.bias is not None else [])
            stages.append(OpStage(op, params, kwargs, needs))
        elif kinds == (MaxPool2d,):
            kernel, stride, padding, dilation = _pool_geometry(modules[0])
            op = fast.choose(pool_ops.MaxPool2d, batch=batch)
            stages.append(OpStage(op, [], dict(kernel_size=kernel, stride=stride,
                                               padding=padding, dilation=dilation,
                                               ceil_mode=modules[0].ceil_mode), needs))
        elif kinds in ((ReLU,), (Tanh,), (Sigmoid,)):
            op = fast.choose({ReLU: ew.ReLU, Tanh: ew.Tanh, Sigmoid: ew.Sigmoid}[kinds[0]])
            stages.append(OpStage(op, [], {}, needs))
        elif kinds == (Flatten,):
            stages.append(ReshapeStage(modules[0]))
        elif kinds == (Identity,):
            continue
        elif kinds == (Dropout,):
            stages.append(DropoutStage(modules[0]))
        elif len(kinds) == 1 and issubclass(kinds[0], _BatchNorm):
            bn = modules[0]
            training = bn.training or bn.running_mean is None
            stages.append((BatchNormStage if training else BatchNormEvalStage)(bn, needs, batch))
        else:
            raise NotCapturable(f"no captured form for {', '.join(k.__name__ for k in kinds)}")
        # a later stage's input needs a gradient once a parameter that learns is behind it
        # (not after a Flatten or a ReLU on the data: the first Linear's x @ W product is
        # then skipped, as eager skips it)
        needs = needs or _learns(modules)
    return stages


def _learns(modules) -> bool:
    return any(p.requires_grad for m in modules for p in m.parameters())


# ---------------------------------------------------------------------------- losses
def loss_stage(loss_fn):
    """The captured form of a loss: (loss array, gradient w.r.t. the outputs) from (outputs,
    targets), by the same operations as the eager loss; NotCapturable for others."""
    from deepnum.nn import functional as F
    from deepnum.nn.loss import CrossEntropyLoss, MSELoss
    from deepnum.train import losses

    plain_ce = loss_fn in (F.cross_entropy, losses.cross_entropy_loss) or (
        type(loss_fn) is CrossEntropyLoss and loss_fn.weight is None
        and loss_fn.reduction == "mean" and not loss_fn.label_smoothing)
    if plain_ce:
        return _cross_entropy
    if loss_fn is losses.mse_loss_column_targets or (type(loss_fn) is MSELoss
                                                     and loss_fn.reduction == "mean"):
        return _mse
    raise NotCapturable(f"no captured form for the loss {getattr(loss_fn, '__name__', loss_fn)}")


def _cross_entropy(logits, target):
    from deepnum.ops.loss import CrossEntropy

    if logits.ndim != 2:
        raise NotCapturable("cross-entropy of outputs that are not (N, C)")
    fn = CrossEntropy()
    fn.needs_input_grad = (True,)
    loss = fn.forward(logits, target=np.asarray(target).reshape(-1).astype(np.int64, copy=False))
    return loss, fn.backward(np.ones((), dtype=logits.dtype))


def _mse(outputs, target):
    """mean((y - t)^2) and its gradient as the eager graph sums it: the product's two
    branches (g * d and g * d) added, then through the subtraction."""
    t = np.asarray(target)
    if t.shape != outputs.shape and t.size == outputs.size:
        t = t.reshape(outputs.shape)
    t = t.astype(outputs.dtype, copy=False)
    if t.shape != outputs.shape:
        raise NotCapturable("MSE with outputs and targets of different shapes")
    diff = outputs - t
    loss = np.asarray(np.mean(diff * diff))
    g = np.broadcast_to(np.ones((), outputs.dtype) / diff.size, diff.shape)
    return loss, g * diff + g * diff


# ---------------------------------------------------------------------------- the step
class CapturedStep:
    """Forward, loss and backward of ``model`` on arrays, replayed from a plan: after a call
    every parameter's ``.grad`` holds its gradient, as after the eager ``loss.backward()``.

    Returns ``(loss, outputs)`` as Tensors without a graph. The plan is remade when the batch
    shape, the model's structure, its mode or the speed wing's settings change; ``reason`` says
    why a model runs eagerly instead (then the step is the eager one)."""

    def __init__(self, model, loss_fn):
        self.model, self.loss_fn = model, loss_fn
        self.key = self.stages = self.loss = None
        self.reason = None

    def _plan(self, x: Tensor, y):
        """Make the stages for this batch. A model that is not a plain Sequential is traced
        while its eager step runs (see deepnum.fast.trace): that step's (loss, outputs) is
        returned, to be used as this call's result; else None."""
        from deepnum.fast import trace
        from deepnum.nn.fusion import plan

        self.stages, result = None, None
        try:
            self.loss = loss_stage(self.loss_fn)
            layers = trace.sequential_layers(self.model)
            if layers is None:
                with trace.Trace(self.model, x) as traced:
                    result = self._eager(x, y)
                layers = traced.chain(result[1])
            self.stages = stages_for(plan(layers), x.shape[0])
            self.reason = None
        except NotCapturable as why:
            self.reason = str(why)
        return result

    def _key(self, x):
        return (fast.generation(), x.shape, x.dtype, self.model.training,
                tuple(id(p.array) for p in self.model.parameters()))

    def __call__(self, x, y):
        from deepnum.autograd import no_grad

        x = x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))
        array = x.array
        if self._key(array) != self.key:
            result = self._plan(x, y)
            self.key = self._key(array)  # after planning: a trace's hooks moved the generation
            if result is not None:
                return result
        if self.stages is None:
            return self._eager(x, y)
        with no_grad():  # nothing here is recorded; the plan is the graph
            h = array
            for stage in self.stages:
                h = stage.forward(h)
            target = y.array if isinstance(y, Tensor) else y
            loss, g = self.loss(h, target)
            for p in self.model.parameters():
                p.grad = None
            for stage in reversed(self.stages):
                g, grads = stage.backward(g)
                for p, pg in grads:
                    pg = pg.astype(p.array.dtype, copy=False)
                    p.grad = Tensor._wrap(pg if p.grad is None else p.grad.array + pg)
                if g is None:  # no stage before this one has a parameter that learns
                    break
        return Tensor._wrap(np.asarray(loss)), Tensor._wrap(h)

    def _eager(self, x, y):
        outputs = self.model(x)
        loss = self.loss_fn(outputs, y)
        for p in self.model.parameters():
            p.grad = None
        loss.backward()
        return loss, outputs


# ---------------------------------------------------------------------------- inference
def compile(model, *, mode: str | None = None, fullgraph: bool = False, dynamic=None,
            backend=None):  # noqa: A001 - PyTorch's name
    """``model`` whose inference (eval mode, or under ``no_grad``) replays a captured plan:
    one call per layer on arrays, no Tensors or graph in between; training calls run it
    eagerly (the captured training step is ``Trainer(compile=True)``). Arguments of
    ``torch.compile`` are accepted.

    >>> fast_model = dn.compile(model).eval()
    >>> fast_model(x)                  # the same numbers as model(x)
    """
    from deepnum.fast.compiled import Compiled

    return Compiled(model)
