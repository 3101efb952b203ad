"""Demo 8: backpropagation by hand, layer by layer in the lecture's notation, checked by autograd.

Forward:   z^l = W^l a^{l-1} + b^l,   a^l = sigma(z^l)   (a^0 = x; the last layer is softmax)
Output:    delta^L = p - q            (cross-entropy after softmax)
Backward:  delta^l = sigma'(z^l) * (W^{l+1})^T delta^{l+1}
Gradients: dLoss/dW^l = delta^l (a^{l-1})^T,   dLoss/db^l = delta^l
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
import deepnum.nn.functional as F
from deepnum.demos._train import mlp
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo


def _fmt(v: np.ndarray) -> str:
    return np.array2string(np.asarray(v), precision=4, suppress_small=True, max_line_width=200)


def by_hand(weights, biases, x: np.ndarray, label: int):
    """The lecture's algorithm for one sample; returns the per-layer trace and the gradients."""
    a, zs, acts = x, [], [x]
    for l, (w, b) in enumerate(zip(weights, biases)):
        z = w @ a + b
        a = np.exp(z - z.max()) / np.exp(z - z.max()).sum() if l == len(weights) - 1 \
            else 1 / (1 + np.exp(-z))
        zs.append(z)
        acts.append(a)
    q = np.eye(len(a))[label]
    deltas = [None] * len(weights)
    deltas[-1] = acts[-1] - q  # delta^L = p - q
    for l in range(len(weights) - 2, -1, -1):
        s = acts[l + 1]  # sigma(z^l), so sigma'(z^l) = s (1 - s)
        deltas[l] = s * (1 - s) * (weights[l + 1].T @ deltas[l + 1])
    grads_w = [np.outer(d, a_prev) for d, a_prev in zip(deltas, acts[:-1])]
    return zs, acts, deltas, grads_w, list(deltas)


@demo("backprop", "backpropagation by hand, layer by layer in the lecture's notation, = autograd")
def run(ctx) -> None:
    sizes = (3, 4, 3, 2)
    dn.manual_seed(0)
    model = mlp(sizes, activation=dn.nn.Sigmoid, dtype=np.float64)
    layers = [m for m in model if isinstance(m, dn.nn.Linear)]
    weights = [layer.weight.array for layer in layers]
    biases = [layer.bias.array for layer in layers]
    rng = np.random.default_rng(0)
    num_samples = 4 if ctx.fast else 32
    xs, labels = rng.normal(size=(num_samples, sizes[0])), rng.integers(0, sizes[-1], num_samples)

    # Autograd: sum of the per-sample losses, so its gradient is the sum of the per-sample ones.
    F.cross_entropy(model(dn.tensor(xs, dtype=np.float64)), labels, reduction="sum").backward()
    total_w = [np.zeros_like(w) for w in weights]
    total_b = [np.zeros_like(b) for b in biases]
    for i in range(num_samples):
        zs, acts, deltas, gw, gb = by_hand(weights, biases, xs[i], int(labels[i]))
        if i == 0:
            trace = (zs, acts, deltas, gw)
        for l in range(len(weights)):
            total_w[l] += gw[l]
            total_b[l] += gb[l]

    zs, acts, deltas, gw = trace
    rows = [dict(layer=0, quantity="a^0 = x", shape=str(acts[0].shape), value=_fmt(acts[0]))]
    for l in range(len(weights)):
        name = "softmax" if l == len(weights) - 1 else "sigmoid"
        rows += [dict(layer=l + 1, quantity=f"z^{l + 1} = W^{l + 1} a^{l} + b^{l + 1}",
                      shape=str(zs[l].shape), value=_fmt(zs[l])),
                 dict(layer=l + 1, quantity=f"a^{l + 1} = {name}(z^{l + 1})",
                      shape=str(acts[l + 1].shape), value=_fmt(acts[l + 1]))]
    for l in range(len(weights) - 1, -1, -1):
        rule = "p - q" if l == len(weights) - 1 else \
            f"sigma'(z^{l + 1}) * (W^{l + 2})^T delta^{l + 2}"
        rows += [dict(layer=l + 1, quantity=f"delta^{l + 1} = {rule}", shape=str(deltas[l].shape),
                      value=_fmt(deltas[l])),
                 dict(layer=l + 1, quantity=f"dLoss/dW^{l + 1} = delta^{l + 1} (a^{l})^T",
                      shape=str(gw[l].shape), value=_fmt(gw[l]).replace("\n", ""))]
    ctx.table(rows, "trace", f"Backpropagation through a {'-'.join(map(str, sizes))} network for "
                             f"sample 0 (label {labels[0]})")
    gaps = []
    for l, layer in enumerate(layers):
        gaps.append(dict(layer=l + 1, W_shape=str(weights[l].shape),
                         max_gap_dW=float(np.max(np.abs(total_w[l] - layer.weight.grad.array))),
                         max_gap_db=float(np.max(np.abs(total_b[l] - layer.bias.grad.array))),
                         largest_dW=float(np.max(np.abs(total_w[l])))))
    ctx.table(gaps, "autograd_gap", f"By-hand gradients summed over {num_samples} samples vs "
                                    f"deepnum autograd (float64)")

    plt = pyplot()
    fig, axes = plt.subplots(1, len(weights), figsize=(4 * len(weights), 3.2))
    for l, ax in enumerate(axes):
        ax.scatter(layers[l].weight.grad.array.ravel(), total_w[l].ravel(), s=18)
        lim = np.max(np.abs(total_w[l])) * 1.1 + 1e-12
        ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8)
        ax.set_xlabel("autograd dLoss/dW")
        ax.set_ylabel("by hand delta a^T")
        ax.set_title(f"layer {l + 1}: W{weights[l].shape}", fontsize=9)
    ctx.figure(fig, "backprop", "Every weight gradient by the lecture's formulas against deepnum's "
                                "autograd: all points lie on the diagonal.")
    worst = max(max(g["max_gap_dW"], g["max_gap_db"]) for g in gaps)
    ctx.say(f"The lecture's recursion delta^l = sigma'(z^l) * (W^(l+1))^T delta^(l+1), run by hand "
            f"through a {'-'.join(map(str, sizes))} sigmoid/softmax network, gives the same "
            f"gradients as autograd (largest gap {worst:.1e} over {num_samples} samples).")
    for g in gaps:
        ctx.check(f"layer {g['layer']}: dLoss/dW and dLoss/db by hand = autograd",
                  g["max_gap_dW"] < 1e-12 and g["max_gap_db"] < 1e-12 and g["largest_dW"] > 1e-6,
                  f"gaps {g['max_gap_dW']:.1e} (W), {g['max_gap_db']:.1e} (b); "
                  f"gradient size {g['largest_dW']:.2e}")
