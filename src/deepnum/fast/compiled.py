"""The module ``dn.compile(model)`` returns: inference replayed from a captured plan."""

from __future__ import annotations

import numpy as np

from deepnum.autograd.grad_mode import _grad_mode
from deepnum.fast.capture import NotCapturable, stages_for
from deepnum.nn.module import Module
from deepnum.tensor import Tensor


class Compiled(Module):
    """Wraps ``module``: its parameters and state dict are the module's (``_orig_mod``, as
    PyTorch names it); inference without gradients runs the captured stages."""

    def __init__(self, module: Module):
        super().__init__()
        self._orig_mod = module
        object.__setattr__(self, "_inference", (None, None))
        object.__setattr__(self, "reason", None)

    def forward(self, x):
        module = self._orig_mod
        needs_graph = _grad_mode.enabled and module.training and any(
            p.requires_grad for p in module.parameters())
        if needs_graph or not isinstance(x, Tensor):
            return module(x)
        from deepnum import fast

        key = (fast.generation(), x.array.shape, x.array.dtype, module.training)
        cached_key, stages = self._inference
        if cached_key != key:
            stages = self._stages(x.array.shape[0])
            object.__setattr__(self, "_inference", (key, stages))
        if stages is None:
            return module(x)
        h = x.array
        for stage in stages:
            h = stage.forward(h)
        # the last stage's buffer is reused by the next call: the caller gets its own copy
        return Tensor._wrap(np.array(h, copy=True))

    def _stages(self, batch: int):
        from deepnum.nn.container import Sequential
        from deepnum.nn.fusion import plan

        module = self._orig_mod
        try:
            if not isinstance(module, Sequential) or module._has_hooks:
                raise NotCapturable("only a Sequential without hooks is captured")
            stages = stages_for(plan(module._modules.values()), batch)
        except NotCapturable as why:
            object.__setattr__(self, "reason", str(why))
            return None
        for stage in stages:  # inference: nothing is kept for a backward
            if hasattr(stage, "needs_input_grad"):
                stage.needs_input_grad = False
        return stages
