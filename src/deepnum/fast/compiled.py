"""The module ``dn.compile(model)`` returns: inference replayed from a captured plan."""

from __future__ import annotations

from deepnum import fast
from deepnum.autograd.grad_mode import _grad_mode, no_grad
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
        shape, dtype = x.array.shape, x.array.dtype
        cached_key, stages = self._inference
        if cached_key != (fast.generation(), shape, dtype, module.training):
            out, stages = self._stages(x)
            # the key after planning: a trace's hooks moved the generation
            key = (fast.generation(), shape, dtype, module.training)
            object.__setattr__(self, "_inference", (key, stages))
            if out is not None:
                return out
        if stages is None:
            return module(x)
        h = x.array
        for stage in stages:
            h = stage.forward(h)
        # the last stage's buffer is reused by the next call: the caller gets its own copy
        return Tensor._wrap(h.copy())

    def _stages(self, x: Tensor):
        """(the module's output if it was traced while running on x, else None; the stages or
        None, with the reason in ``self.reason``)."""
        from deepnum.fast import inference, trace
        from deepnum.nn.fusion import plan

        module, out = self._orig_mod, None
        try:
            layers = trace.sequential_layers(module)
            if layers is None:
                with trace.Trace(module, x) as traced, no_grad():  # as the replays: no graph
                    out = module(x)
                layers = traced.chain(out)
            stages = stages_for(plan(layers), x.array.shape[0])
        except NotCapturable as why:
            object.__setattr__(self, "reason", str(why))
            return out, None
        object.__setattr__(self, "reason", None)
        for stage in stages:  # inference: nothing is kept for a backward
            if hasattr(stage, "needs_input_grad"):
                stage.needs_input_grad = False
        return out, inference.prepare(stages)
