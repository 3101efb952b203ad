"""Demo 7: softmax and the two losses in the lecture's worked numbers, and dLoss/dz = p - q.

Slides: softmax([1.2, 0.9, 0.4]) = [0.46, 0.34, 0.20]; for outputs y = [0.4, 0.6] and one-hot target
t = [0, 1], mean squared error E = (1/k) sum_k (y_k - t_k)^2 = 0.16 and cross-entropy
E = -sum_k t_k log y_k = 0.736. The slide's 0.736 is -log2(0.6) = 0.73697 (cut, not rounded, to
three decimals); with the natural log it is 0.5108. (The slide's 0.20 for 0.2052 keeps its three
softmax numbers summing to 1.) deepnum, like PyTorch, uses the natural log: then the
gradient of cross-entropy after softmax is exactly p - q (in base 2 it would be (p - q) / ln 2), and
the base only scales the loss, so the minimiser is the same.
"""

from __future__ import annotations

import math

import numpy as np

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo


@demo("softmax", "the lecture's softmax, MSE and cross-entropy numbers; dLoss/dz = p - q")
def run(ctx) -> None:
    z = dn.tensor([1.2, 0.9, 0.4], dtype=np.float64)
    p = F.softmax(z, dim=0).array
    y, t = dn.tensor([0.4, 0.6], dtype=np.float64), dn.tensor([0.0, 1.0], dtype=np.float64)
    mse = nn.MSELoss()(y, t).item()
    # Cross-entropy from probabilities: deepnum's loss takes logits, and softmax(log y) = y when y
    # sums to 1, so log y are logits whose softmax is the slide's y.
    ce_natural = F.cross_entropy(y.log().unsqueeze(0), np.array([1])).item()
    ce_bits, ce_log10 = -math.log2(0.6), -math.log10(0.6)

    # The gradient: autograd's dLoss/dz against the lecture's p - q, for random logits (float64).
    rng = np.random.default_rng(0)
    n, c = (8, 5) if ctx.fast else (64, 10)
    logits = dn.tensor(rng.normal(0, 2, (n, c)), dtype=np.float64, requires_grad=True)
    labels = rng.integers(0, c, n)
    F.cross_entropy(logits, labels, reduction="sum").backward()
    probs = F.softmax(logits.detach(), dim=1).array
    grad_gap = float(np.max(np.abs(logits.grad.array - (probs - np.eye(c)[labels]))))
    # ... and the softmax Jacobian dp_k/dy_j = p_k (delta_kj - p_j) from the slide.
    jac = np.zeros((3, 3))
    for k in range(3):
        zk = dn.tensor([1.2, 0.9, 0.4], dtype=np.float64, requires_grad=True)
        F.softmax(zk, dim=0)[k].backward()
        jac[k] = zk.grad.array
    jac_gap = float(np.max(np.abs(jac - (np.diag(p) - np.outer(p, p)))))

    rows = [
        dict(quantity="softmax([1.2, 0.9, 0.4])", deepnum=str(np.round(p, 3).tolist()),
             slide="[0.46, 0.34, 0.20]"),
        dict(quantity="MSE, mean over k of (y_k - t_k)^2", deepnum=f"{mse:.4f}", slide="0.16"),
        dict(quantity="cross-entropy, natural log (deepnum, PyTorch)", deepnum=f"{ce_natural:.4f}",
             slide=""),
        dict(quantity="cross-entropy, log base 2", deepnum=f"{ce_bits:.5f}", slide="0.736"),
        dict(quantity="cross-entropy, log base 10", deepnum=f"{ce_log10:.4f}", slide=""),
        dict(quantity="max |autograd dL/dz - (p - q)|", deepnum=f"{grad_gap:.1e}", slide="0"),
        dict(quantity="max |autograd dp/dz - (diag p - p p^T)|", deepnum=f"{jac_gap:.1e}",
             slide="0"),
    ]
    ctx.table(rows, "numbers", "The lecture's worked numbers, computed by deepnum")

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    axes[0].bar(["1.2", "0.9", "0.4"], p, color="tab:blue")
    for i, v in enumerate(p):
        axes[0].text(i, v + 0.01, f"{v:.3f}", ha="center")
    axes[0].set_title("softmax of the logits [1.2, 0.9, 0.4]", fontsize=9)
    axes[0].set_ylabel("probability")
    names = ["MSE", "CE (ln)", "CE (log2)", "CE (log10)"]
    values = [mse, ce_natural, ce_bits, ce_log10]
    axes[1].bar(names, values, color=["tab:gray", "tab:blue", "tab:orange", "tab:green"])
    for i, v in enumerate(values):
        axes[1].text(i, v + 0.01, f"{v:.3f}", ha="center")
    axes[1].set_title("losses of y = [0.4, 0.6] against t = [0, 1]", fontsize=9)
    ctx.figure(fig, "softmax", "Left: softmax turns logits into probabilities. Right: the two "
                               "losses of the slide, cross-entropy in three log bases.")
    ctx.say(f"softmax([1.2, 0.9, 0.4]) = {np.round(p, 3).tolist()} (slide: 0.46, 0.34, 0.20); "
            f"MSE = {mse:.2f}; cross-entropy = {ce_natural:.4f} in nats (deepnum, PyTorch) or "
            f"{ce_bits:.4f} bits, the slide's 0.736; autograd's gradient equals p - q to "
            f"{grad_gap:.0e}.")
    ctx.check("softmax matches [0.457, 0.338, 0.205]",
              np.allclose(np.round(p, 3), [0.457, 0.338, 0.205]), f"{np.round(p, 4).tolist()}")
    # 0.2052 rounds to 0.21; the slide prints 0.20, presumably so that its three numbers sum to 1.
    slide_gap = float(np.max(np.abs(p - [0.46, 0.34, 0.20])))
    ctx.check("the slide's [0.46, 0.34, 0.20] agree to within 0.006", slide_gap < 0.006,
              f"largest gap {slide_gap:.4f} (0.2052 would round to 0.21; the slide's numbers sum "
              f"to 1)")
    ctx.check("MSE is 0.16", abs(mse - 0.16) < 1e-12, f"{mse:.6f}")
    ctx.check("cross-entropy is -ln 0.6 in deepnum", abs(ce_natural + math.log(0.6)) < 1e-12,
              f"{ce_natural:.6f}")
    ctx.check("the slide's 0.736 is -log2 0.6 (to 3 decimals, truncated)",
              math.floor(ce_bits * 1000) / 1000 == 0.736, f"-log2 0.6 = {ce_bits:.6f}")
    ctx.check("dLoss/dz = p - q", grad_gap < 1e-12, f"max gap {grad_gap:.1e} over {n}x{c} logits")
    ctx.check("softmax Jacobian = diag(p) - p p^T", jac_gap < 1e-12, f"max gap {jac_gap:.1e}")
