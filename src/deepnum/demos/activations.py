"""Demo 4: every activation of the lectures and its derivative, the derivative taken by autograd.

For each activation the demo evaluates deepnum's function on a grid of z in float64, gets
d sigma / d z from ``backward()``, and compares both with the closed forms written out below.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
LEAKY_SLOPE = 0.1  # larger than PyTorch's default 0.01 so the slope is visible in the plot
MAXOUT_PIECES = np.array([[1.0, 0.0], [-1.0, 0.0], [0.5, 1.0]])  # (a_k, b_k): max_k a_k z + b_k


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _maxout(F):
    def f(z):
        pieces = z.reshape(-1, 1) * dn.Tensor(MAXOUT_PIECES[:, 0]) + dn.Tensor(MAXOUT_PIECES[:, 1])
        return F.maxout(pieces, pieces=len(MAXOUT_PIECES)).reshape(-1)

    return f


def _closed_forms():
    """name -> (formula, f(z), f'(z)) in NumPy, straight from the definitions."""
    lin = MAXOUT_PIECES[:, :1].T
    pick = lambda z: np.argmax(z[:, None] * lin + MAXOUT_PIECES[:, 1], axis=1)  # noqa: E731
    return {
        "step": ("1 if z>0, 0.5 if z=0, 0 if z<0", lambda z: np.where(z > 0, 1.0, np.where(
            z < 0, 0.0, 0.5)), lambda z: np.zeros_like(z)),
        "sign": ("1, 0, -1 by the sign of z", np.sign, lambda z: np.zeros_like(z)),
        "linear": ("z", lambda z: z, lambda z: np.ones_like(z)),
        "sigmoid": ("1 / (1 + e^-z)", _sig, lambda z: _sig(z) * (1 - _sig(z))),
        "tanh": ("(e^z - e^-z) / (e^z + e^-z)", np.tanh, lambda z: 1 - np.tanh(z) ** 2),
        "relu": ("max(0, z)", lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
        "leaky_relu": (f"z if z>0 else {LEAKY_SLOPE} z",
                       lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
                       lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE)),
        "elu": ("z if z>0 else e^z - 1", lambda z: np.where(z > 0, z, np.expm1(z)),
                lambda z: np.where(z > 0, 1.0, np.exp(z))),
        "selu": ("1.0507 (z if z>0 else 1.6733 (e^z - 1))",
                 lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(z)),
                 lambda z: SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(z))),
        "softplus": ("log(1 + e^z)", lambda z: np.logaddexp(0, z), _sig),
        "maxout": ("max(z, -z, 0.5 z + 1)", lambda z: np.max(z[:, None] * lin + MAXOUT_PIECES[:, 1],
                                                              axis=1),
                   lambda z: MAXOUT_PIECES[pick(z), 0]),
    }


def _deepnum_functions(names):
    """The lectures' activations as layers from deepnum's registry (nn.ACTIVATIONS), and Maxout
    (a layer with weights of its own)."""
    funcs = {name: dn.nn.ACTIVATIONS[name]() for name in names if name != "maxout"}
    funcs["leaky_relu"] = dn.nn.LeakyReLU(LEAKY_SLOPE)
    funcs["maxout"] = _maxout(dn.nn.functional)
    return funcs


@demo("activations", "every activation and its derivative; autograd matches the closed forms")
def run(ctx) -> None:
    forms = _closed_forms()
    funcs = _deepnum_functions(forms)
    # An even number of points from -4 to 4 never lands on z = 0, where step, sign, ReLU and friends
    # have a kink; maxout's kinks (z = 0, 2, -2/3) are kept off the grid below.
    z = np.linspace(-4, 4, 400 if ctx.fast else 2000)
    z = z[np.min(np.abs(z[:, None] - np.array([0.0, 2.0, -2 / 3])), axis=1) > 1e-6]
    rows, curves = [], {}
    for name, fn in funcs.items():
        zt = dn.tensor(z, dtype=np.float64, requires_grad=True)
        out = fn(zt)
        out.sum().backward()  # d(sum_i f(z_i)) / d z_i = f'(z_i): the whole derivative curve
        formula, f, df = forms[name]
        value_error = float(np.max(np.abs(out.array - f(z))))
        grad_error = float(np.max(np.abs(zt.grad.array - df(z))))
        curves[name] = (out.array.copy(), zt.grad.array.copy())
        rows.append(dict(activation=name, formula=formula, max_value_error=value_error,
                         max_derivative_error=grad_error))

    plt = pyplot()
    fig, axes = plt.subplots(3, 4, figsize=(13, 9))
    for ax, (name, (value, grad)) in zip(axes.ravel(), curves.items()):
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.plot(z, value, label="sigma(z)")
        ax.plot(z, grad, "--", label="sigma'(z) (autograd)")
        ax.set_title(f"{name}: {forms[name][0]}", fontsize=8)
    axes.ravel()[0].legend(fontsize=7)
    axes.ravel()[-1].axis("off")
    ctx.figure(fig, "activations", "Each activation (solid) and its derivative from deepnum's "
                                   "autograd (dashed), on z in [-4, 4].")
    ctx.table(rows, "activations", "Largest gap between deepnum and the closed form, float64")
    worst = max(rows, key=lambda r: max(r["max_value_error"], r["max_derivative_error"]))
    gap = max(worst["max_value_error"], worst["max_derivative_error"])
    ctx.say(f"All {len(rows)} activations and their autograd derivatives match the closed forms on "
            f"{len(z)} points; the largest gap is {gap:.1e} ({worst['activation']}).")
    for r in rows:
        ctx.check(f"{r['activation']}: value and derivative match",
                  r["max_value_error"] < 1e-9 and r["max_derivative_error"] < 1e-9,
                  f"value {r['max_value_error']:.1e}, derivative {r['max_derivative_error']:.1e} "
                  f"< 1e-9")
