"""GradientStats: the backprop trace's numbers per epoch, and the "gradient flow" plot.

Every step, after the backward pass, it adds up each parameter's gradient norm ||dL/dW^l||; at
the end of each epoch it keeps their mean over the epoch's steps and the ratio to the weight's
norm ||W^l||. Given a ``probe`` batch, it also runs :func:`backprop_trace` on it at each
epoch's end (in eval mode, so it draws no random numbers and the run stays exactly the run
without it) and keeps every module's ||delta^l|| and its fraction of zero and saturated
outputs. Vanishing gradients show as the first layers' lines falling decades below the last's.

>>> stats = GradientStats(probe=(x_train[:256], y_train[:256]), out_dir="runs/a")
>>> trainer.fit(train, epochs=20, callbacks=[stats])   # runs/a/gradient_flow.png + .csv
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from deepnum.train.callbacks import Callback


class GradientStats(Callback):
    """Per-epoch gradient norms of every parameter (and, with ``probe``, every module's delta).

    ``columns`` maps a key to its list of per-epoch values: ``grad_norm/NAME`` (mean over the
    epoch's steps of ||dL/dNAME||), ``ratio/NAME`` (that over ||NAME|| at the epoch's end), and
    with a probe ``delta/MODULE``, ``zeros/MODULE``, ``saturated/MODULE``. With ``out_dir``,
    ``gradient_stats.csv`` and ``gradient_flow.png`` are rewritten after every epoch, and at the
    end of training (with a probe) the final model's trace goes to ``trace.txt`` and
    ``trace.png``.
    """

    def __init__(self, probe=None, out_dir=None, loss=None):
        self.probe, self.loss = probe, loss
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.epoch: list[int] = []
        self.columns: dict[str, list[float]] = {}
        self._sums: dict[str, float] = {}
        self._steps = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._sums, self._steps = {}, 0

    def on_after_backward(self):
        for name, p in self.model.named_parameters():
            if p.grad is not None:
                g = p.grad.array.reshape(-1).astype(np.float64)
                self._sums[name] = self._sums.get(name, 0.0) + math.sqrt(g @ g)
        self._steps += 1

    def on_epoch_end(self, epoch, logs=None):
        values = {}
        for name, p in self.model.named_parameters():
            if name in self._sums:
                mean = self._sums[name] / max(self._steps, 1)
                w = p.array.reshape(-1).astype(np.float64)
                norm = math.sqrt(w @ w)
                values[f"grad_norm/{name}"] = mean
                values[f"ratio/{name}"] = mean / norm if norm > 0 else math.inf
        if self.probe is not None:
            values.update(self._probe())
        self._append(epoch, values)
        if self.out_dir is not None:
            self.write(self.out_dir)

    def on_train_end(self, logs=None):
        if self.out_dir is not None and self.probe is not None:
            trace = self.trace()
            (self.out_dir / "trace.txt").write_text(str(trace) + "\n", encoding="utf-8")
            trace.plot(self.out_dir / "trace.png", title="Backprop trace of the trained model")

    def trace(self):
        """The backprop trace of the probe batch now, in eval mode (no dropout, no randomness)."""
        from deepnum.train.trace import backprop_trace

        was_training = self.model.training
        self.model.eval()
        try:
            loss = self.loss or getattr(self.trainer, "loss_fn", None)
            return backprop_trace(self.model, *self.probe, loss=loss)
        finally:
            self.model.train(was_training)

    def _probe(self) -> dict:
        trace = self.trace()
        values = {}
        for row in trace.rows:
            label = f"{row.symbol} {row.name or 'model'}"
            if row.delta_norm is not None:
                values[f"delta/{label}"] = row.delta_norm
            values[f"zeros/{label}"] = row.zeros
            if row.saturated is not None:
                values[f"saturated/{label}"] = row.saturated
        return values

    def _append(self, epoch: int, values: dict) -> None:
        self.epoch.append(int(epoch))
        for key in values:  # a key first seen late is padded with NaN
            self.columns.setdefault(key, [math.nan] * (len(self.epoch) - 1))
        for key, column in self.columns.items():
            column.append(float(values.get(key, math.nan)))

    def series(self, kind: str) -> dict[str, list[float]]:
        """The columns of one kind (grad_norm, ratio, delta, zeros, saturated), by name."""
        prefix = kind + "/"
        return {k[len(prefix):]: v for k, v in self.columns.items() if k.startswith(prefix)}

    # ------------------------------------------------------------------ files
    def write(self, out_dir) -> tuple[Path, Path]:
        """``gradient_stats.csv`` (one row per epoch) and ``gradient_flow.png`` in ``out_dir``."""
        from deepnum.serialization import atomic_write

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["epoch", *self.columns])
        for i, e in enumerate(self.epoch):
            writer.writerow([e + 1, *(repr(v[i]) for v in self.columns.values())])
        atomic_write(out_dir / "gradient_stats.csv", text.getvalue().encode())
        return out_dir / "gradient_stats.csv", self.plot(out_dir / "gradient_flow.png")

    def plot(self, path) -> Path:
        """Gradient flow over epochs, log scale: mean ||dL/dW|| of each weight (biases left out
        to keep it readable) and, with a probe, ||delta|| of each layer with weights."""
        from deepnum.train.plots import _pyplot, _save

        plt = _pyplot()
        deltas = {k: v for k, v in self.series("delta").items() if k.startswith("z^")}
        panels = 2 if deltas else 1
        fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 3.8), squeeze=False)
        epochs = [e + 1 for e in self.epoch]
        weights = {k: v for k, v in self.series("grad_norm").items()
                   if not k.endswith("bias")} or self.series("grad_norm")
        colors = plt.cm.viridis(np.linspace(0, 0.9, max(len(weights), len(deltas), 1)))
        for color, (name, values) in zip(colors, weights.items()):
            axes[0][0].semilogy(epochs, values, "o-", ms=3, color=color, label=name)
        axes[0][0].set_title("mean ||dLoss/dW|| over each epoch's steps", fontsize=9)
        for color, (name, values) in zip(colors, deltas.items()):
            axes[0][1].semilogy(epochs, values, "o-", ms=3, color=color, label=name)
        if deltas:
            axes[0][1].set_title("||delta^l|| on the probe batch (eval mode)", fontsize=9)
        for ax in axes[0]:
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.set_xlabel("epoch")
            ax.legend(fontsize=6)
        fig.suptitle("Gradient flow", fontsize=10)
        return _save(fig, path)

    # ------------------------------------------------------------------ resume
    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "columns": {k: list(v) for k, v in self.columns.items()}}

    def load_state_dict(self, state: dict) -> None:
        epochs = [int(e) for e in state.get("epoch", [])]
        columns = {str(k): [float(x) for x in v] for k, v in state.get("columns", {}).items()}
        if any(len(v) != len(epochs) for v in columns.values()):
            raise ValueError("GradientStats: the saved epochs and columns do not line up")
        self.epoch, self.columns = epochs, columns


__all__ = ["GradientStats"]
