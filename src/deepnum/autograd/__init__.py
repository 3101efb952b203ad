"""Reverse-mode automatic differentiation, as ``torch.autograd``.

* :mod:`~deepnum.autograd.function`: ``Function``, the node of the graph (deepnum's primitives
  and users' own functions), with the in-place version checks;
* :mod:`~deepnum.autograd.engine`: ``backward`` and ``grad`` (also of gradients:
  ``create_graph=True``);
* :mod:`~deepnum.autograd.grad_mode`: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
  ``inference_mode``.

>>> x = dn.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward(); x.grad          # tensor([2., 4.])
"""

from deepnum.autograd import functional
from deepnum.autograd.engine import backward, grad
from deepnum.autograd.function import Function, FunctionCtx, once_differentiable
from deepnum.autograd.grad_mode import (
    _grad_mode,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              **kwargs) -> bool:
    """torch.autograd.gradcheck: deepnum.gradcheck (central differences in float64)."""
    from deepnum.gradcheck import gradcheck as check

    return check(func, inputs, eps=eps, atol=atol, rtol=rtol)


class detect_anomaly:  # noqa: N801 - torch's name
    """Accepted for PyTorch programs; deepnum's backward already names the op whose saved
    value was changed in place, and does not trace forward ops."""

    def __init__(self, check_nan: bool = True):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


set_detect_anomaly = detect_anomaly


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802
    """Deprecated (as in PyTorch since 0.4): a Variable is a Tensor. Returns ``data`` itself,
    marked ``requires_grad`` if asked."""
    if requires_grad:
        data.requires_grad_(True)
    return data


__all__ = ["Function", "FunctionCtx", "Variable", "backward", "detect_anomaly", "enable_grad",
           "functional", "grad", "gradcheck", "once_differentiable", "set_detect_anomaly",
           "inference_mode", "is_grad_enabled", "is_inference_mode_enabled", "no_grad",
           "set_grad_enabled", "_grad_mode"]
