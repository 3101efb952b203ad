"""One network learning a session's data: its model, optimizer and random streams, and what
happens when its loss stops being a number.

A session has one :class:`Run` (two in the compare view). Each run shuffles with its own NumPy
generator and draws dropout masks from its own :class:`deepnum.Generator`, both seeded from the
settings, so a run is the same whatever other tabs train meanwhile.

Divergence: an epoch whose loss or weights stop being finite is undone (the weights go back to
the end of the previous epoch, the optimizer starts afresh) and :meth:`Run.epoch` returns the
message the page shows; the session pauses. Nothing non-finite is kept, so nothing non-finite is
ever drawn or sent.

>>> run = Run(settings, data)
>>> run.epoch(record=True)          # (None, (train loss, test loss)) or (message, None)
"""

from __future__ import annotations

import numpy as np

import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum import random as dn_random
from deepnum.autograd import grad, no_grad
from deepnum.playground import network
from deepnum.playground.points import Split
from deepnum.playground.settings import LOSSES
from deepnum.tensor import Tensor


class Run:
    def __init__(self, settings: dict, data: Split, model=None, name: str = ""):
        p = data.points
        self.settings, self.data, self.name = settings, data, name
        if model is None:
            model = network.build_model(settings, p.num_classes, p.offset, p.scale)
        else:  # a loaded file: its weights are its own, its dropout masks still this seed's
            model.use_generator(dn_random.Generator().manual_seed(settings["seed"]))
        self.model = model
        self.optimizer = network.build_optimizer(settings, model)
        self.params = list(model.parameters())
        self.saved = [p.array.copy() for p in self.params]  # the weights before this epoch
        # The features of the training points never change: computed once, not every batch.
        with no_grad():
            self.features = model[0](Tensor._wrap(data.x_train)).array
        self.shuffle = np.random.Generator(np.random.PCG64(settings["seed"]))
        # The exported script rebuilds a run from its settings; that is exact only for a network
        # trained from its seed with unchanged settings. Anything else clears this.
        self.exact = True
        self.notes: list[str] = []  # what made it inexact, for the script's header
        self.last_batch = np.arange(min(settings["batch_size"], len(data.x_train)))

    # ------------------------------------------------------------------ changes
    def new_optimizer(self, settings: dict, epoch: int) -> None:
        """Same network, new optimizer settings (learning rate, regularization...)."""
        if epoch > 0:
            changed = [k for k in settings if settings[k] != self.settings[k]]
            self.inexact(f"{', '.join(changed)} changed at epoch {epoch}")
        self.settings = settings
        self.optimizer = network.build_optimizer(settings, self.model)

    def inexact(self, why: str) -> None:
        self.exact = False
        self.notes.append(why)

    def linears(self) -> list:
        return [m for m in self.model if isinstance(m, nn.Linear)]

    def set_weight(self, layer: int, to: int, source: int | None, value: float) -> None:
        """Set one weight (``source`` is the input's index) or, with ``source`` None, a bias."""
        linears = self.linears()
        if not 0 <= layer < len(linears):
            raise IndexError(f"layer: this network has weight layers 0 to {len(linears) - 1}")
        m = linears[layer]
        rows, columns = m.weight.shape
        if not 0 <= to < rows or (source is not None and not 0 <= source < columns):
            raise IndexError(f"layer {layer} has {rows} neurons with {columns} inputs each")
        if source is None:
            m.bias.array[to] = value
        else:
            m.weight.array[to, source] = value

    # ------------------------------------------------------------------ training
    def epoch(self, record: bool, number: int = 0) -> tuple[str | None, tuple[float, float] | None]:
        """One pass (epoch ``number``) over the shuffled training points in minibatches.

        Returns ``(None, losses)`` (the losses on all training and test points when ``record``,
        else None), or ``(message, None)`` when the epoch diverged and was undone.
        """
        data, size, params = self.data, self.settings["batch_size"], self.params
        for p, saved in zip(params, self.saved):
            np.copyto(saved, p.array)
        # The model stays in training mode (losses() and predict() switch it back); NumPy's
        # overflow warnings are off for the whole train call (Session.train): detected here.
        order = self.shuffle.permutation(len(data.x_train))
        bad = None
        for first in range(0, len(order), size):
            batch = order[first:first + size]
            loss = self.loss(self.model.head(Tensor._wrap(self.features[batch])),
                             data.y_train[batch])
            extra = network.penalty(self.model, self.settings["regularization"],
                                    self.settings["regularization_rate"])
            if extra is not None:
                loss = loss + extra
            value = loss.item()
            if not np.isfinite(value):
                bad = value
                break
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.last_batch = batch
        # One sum over every weight is NaN or infinite as soon as one of them is.
        if bad is None and np.isfinite(sum(float(p.array.sum()) for p in params)):
            losses = self.losses() if record else None
            if losses is None or all(np.isfinite(losses)):
                return None, losses
            bad = losses[0] if not np.isfinite(losses[0]) else losses[1]
        for p, old in zip(params, self.saved):
            p.array[...] = old
        self.optimizer = network.build_optimizer(self.settings, self.model)  # its state is NaN
        return self._diverged(bad, number), None

    def _diverged(self, value, number: int) -> str:
        what = "infinite" if value is not None and np.isinf(value) else "not a number (NaN)"
        s = self.settings
        cause = f"the learning rate {s['learning_rate']:g} makes steps so large that the " \
                f"weights blow up"
        if s["regularization"] != "none" and s["regularization_rate"] >= 1:
            cause += f" (with {s['regularization'].upper()} at rate {s['regularization_rate']:g})"
        who = f"network {self.name}: " if self.name else ""
        return (f"Training paused: {who}the loss became {what} in epoch {number}; {cause}. The "
                f"picture shows the network before that epoch. Lower the learning rate (or change "
                f"any setting) to start again from fresh weights, or press Reset.")

    def loss(self, output: Tensor, target: np.ndarray) -> Tensor:
        p = self.data.points
        if self.settings["loss"] == "cross_entropy":
            return getattr(F, LOSSES["cross_entropy"])(output, Tensor._wrap(target))
        mse = getattr(F, LOSSES["mse"])
        if p.task == "regression":
            return mse(output, Tensor._wrap(target.reshape(-1, 1)))
        return mse(output, Tensor._wrap(np.eye(p.num_classes, dtype=np.float32)[target]))

    def losses(self) -> tuple[float, float]:
        """The data loss (no penalty, dropout off) on all training and all test points."""
        d = self.data
        with no_grad(), np.errstate(all="ignore"):
            self.model.eval()
            try:
                train = self.loss(self.model(Tensor._wrap(d.x_train)), d.y_train).item()
                test = self.loss(self.model(Tensor._wrap(d.x_test)), d.y_test).item()
            finally:
                self.model.train()
        return float(train), float(test)

    def predict(self, points: np.ndarray) -> np.ndarray:
        """The network's raw outputs (logits or values) for raw points (N, 2)."""
        with no_grad(), np.errstate(all="ignore"):
            self.model.eval()
            try:
                return self.model(Tensor._wrap(np.asarray(points, dtype=np.float32))).array
            finally:
                self.model.train()

    # ------------------------------------------------------------------ one neuron
    def neuron(self, column: int, index: int, feature_names: list[str]) -> dict:
        """What neuron ``index`` of diagram column ``column`` (1 = first hidden layer) does on
        the current batch: its weights in and out, bias, activation, mean input z and output a,
        and its delta dL/dz, the error signal backpropagation sends it (dropout off)."""
        linears = self.linears()
        if not 1 <= column <= len(linears):
            raise IndexError(f"column: neurons are in columns 1 to {len(linears)}")
        if not 0 <= index < linears[column - 1].weight.shape[0]:
            raise IndexError(f"index: column {column} has {linears[column - 1].weight.shape[0]} "
                             f"neurons")
        batch = self.last_batch
        x, y = self.data.x_train[batch], self.data.y_train[batch]
        modules = list(self.model)
        self.model.eval()
        try:
            with np.errstate(all="ignore"):
                h, zs, outs = Tensor._wrap(x), [], []
                for i, module in enumerate(modules):
                    h = module(h)
                    if isinstance(module, nn.Linear):
                        zs.append(h)
                    follows_linear = i > 0 and isinstance(modules[i - 1], nn.Linear)
                    if follows_linear and not isinstance(module, nn.Linear):
                        outs.append(h)
                loss = self.loss(h, y)
                deltas = grad(loss, zs)
        finally:
            self.model.train()
        layer = linears[column - 1]
        is_output = column == len(linears)
        z = zs[column - 1].array[:, index]
        a = z if is_output else outs[column - 1].array[:, index]
        delta = deltas[column - 1].array[:, index].astype(np.float64)
        sources = feature_names if column == 1 else [
            f"neuron {j + 1}" for j in range(layer.weight.shape[1])]
        out = [] if is_output else [float(w) for w in linears[column].weight.array[:, index]]
        activation = "none (the loss applies softmax)" if is_output and \
            self.settings["loss"] == "cross_entropy" else "none (linear output)" if is_output \
            else self.settings["activations"][column - 1]
        return {
            "column": column, "index": index, "activation": activation,
            "bias": float(layer.bias.array[index]),
            "weights_in": [[name, float(w)] for name, w in zip(sources,
                                                                layer.weight.array[index])],
            "weights_out": out, "batch_size": int(len(batch)),
            "z_mean": float(np.mean(z)), "a_mean": float(np.mean(a)),
            "delta_mean": float(delta.mean()), "delta_mean_abs": float(np.abs(delta).mean()),
            "delta": [float(v) for v in delta[:10]],
        }
