"""Module hooks, as PyTorch: code that runs around a module's forward and backward.

* ``register_forward_pre_hook(hook)``: ``hook(module, args) -> None or new args`` before forward
  (``with_kwargs=True``: ``hook(module, args, kwargs) -> None or (args, kwargs)``);
* ``register_forward_hook(hook)``: ``hook(module, args, output) -> None or new output`` after it
  (``with_kwargs=True``: ``hook(module, args, kwargs, output)``);
* ``register_full_backward_pre_hook(hook)``: ``hook(module, grad_output) -> None or new
  grad_output`` when the gradients of the outputs are known;
* ``register_full_backward_hook(hook)``: ``hook(module, grad_input, grad_output) -> None or new
  grad_input`` once the gradients of the (tensor) inputs are known too.

Each returns a handle whose ``remove()`` takes the hook out. The backward hooks work the way
PyTorch's do: the module's tensor inputs and outputs pass through an identity op whose backward
sees their gradients all at once (one multi-output node each side).

>>> handle = layer.register_forward_hook(lambda m, args, out: print(type(m).__name__, out.shape))
>>> handle.remove()
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.autograd.grad_mode import _grad_mode
from deepnum.tensor import Tensor


def call_with_hooks(module, args: tuple, kwargs: dict):
    """Module.__call__ when the module has hooks (the common case, without, calls forward)."""
    pre_kwargs = module._hooks_with_kwargs
    for key, hook in list(module._forward_pre_hooks.items()):
        if key in pre_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    backward = None
    if (module._backward_hooks or module._backward_pre_hooks) and _grad_mode.enabled:
        backward = _BackwardHook(module)
        args = backward.hook_inputs(args)
    output = module.forward(*args, **kwargs)
    for key, hook in list(module._forward_hooks.items()):
        result = hook(module, args, kwargs, output) if key in pre_kwargs else \
            hook(module, args, output)
        if result is not None:
            output = result
    if backward is not None:
        output = backward.hook_outputs(output)
    return output


class _Identity(Function):
    """The tensors unchanged; backward hands their gradients to a _BackwardHook."""

    saves = ()
    view = True

    def forward(self, *arrays, hook=None, side="input"):
        self.hook, self.side = hook, side
        return arrays

    def backward(self, *grads):
        wrapped = tuple(None if g is None else Tensor._wrap(g) for g in grads)
        out = self.hook.on_gradients(self.side, wrapped)
        return tuple(None if g is None else (g.array if isinstance(g, Tensor) else np.asarray(g))
                     for g in out)

    def vjp(self, *grads):
        return self.hook.on_gradients(self.side, grads)


class _BackwardHook:
    """One module call's backward hooks: grad_output is caught on the way in, the hooks run
    when grad_input is complete (or at once if no input needs a gradient)."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.inputs_hooked = False
        self.n_inputs = 0

    def hook_inputs(self, args: tuple) -> tuple:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(positions)
        if not any(args[i].requires_grad for i in positions):
            return args
        self.inputs_hooked = True
        outs = _Identity.apply(*[args[i] for i in positions], hook=self, side="input")
        args = list(args)
        for i, t in zip(positions, outs):
            args[i] = t
        return tuple(args)

    def hook_outputs(self, output):
        single = isinstance(output, Tensor)
        outputs = (output,) if single else output
        if not isinstance(outputs, tuple) or not all(isinstance(o, Tensor) for o in outputs):
            return output  # non-tensor outputs: nothing to hook
        if not any(o.requires_grad for o in outputs):
            return output
        hooked = _Identity.apply(*outputs, hook=self, side="output")
        return hooked[0] if single else hooked

    def on_gradients(self, side: str, grads: tuple) -> tuple:
        module = self.module
        if side == "output":
            for hook in list(module._backward_pre_hooks.values()):
                result = hook(module, grads)
                if result is not None:
                    grads = _check_count(result, grads, "backward pre-hook")
            self.grad_output = grads
            if not self.inputs_hooked:  # no input needs a gradient: the hooks run now
                self._run((None,) * self.n_inputs)
            return grads
        return self._run(grads)

    def _run(self, grad_input: tuple) -> tuple:
        module = self.module
        for hook in list(module._backward_hooks.values()):
            result = hook(module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _check_count(result, grad_input, "backward hook")
        return grad_input


def _check_count(result, expected: tuple, what: str) -> tuple:
    result = result if isinstance(result, tuple) else (result,)
    if len(result) != len(expected):
        raise RuntimeError(f"{what} returned an invalid number of grad_input, got "
                           f"{len(result)}, but expected {len(expected)}")
    return result
