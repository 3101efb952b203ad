"""The backprop trace of any model: one forward and backward pass, every module in order.

The lecture's notation: a layer with weights computes z^l = W^l a^{l-1} + b^l, what follows it
(activation, pooling, dropout, flatten) makes a^l, and backpropagation carries

    delta^l = dLoss/dz^l = sigma'(z^l) * (W^{l+1})^T delta^{l+1},   dLoss/dW^l = delta^l (a^{l-1})^T

back from the loss. :func:`backprop_trace` records, for every module in the order its forward
ran: the output (z^l or a^l: shape, mean, std, the fraction of exact zeros and, after a sigmoid
or tanh, the fraction of saturated units), its delta (the gradient of the loss with respect to
that output, so delta^l for a layer with weights and dLoss/da^l for the rest), and each
parameter's gradient norm and its ratio to the parameter's norm. It is built on module forward
hooks (plus a tensor hook on each output for its gradient), so it works for any Module, not only
Sequential MLPs; hooked modules are never fused, so every layer is seen.

>>> t = backprop_trace(model, x, y, loss="cross_entropy")
>>> print(t); t.plot("trace.png"); t.rows[0].delta_norm
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepnum.tensor import Tensor

# A unit is saturated when its local gradient is under a tenth of its largest value:
# sigmoid' = a (1 - a) < 0.025 (peak 0.25), tanh' = 1 - a^2 < 0.1 (peak 1).
SATURATION = 0.1


@dataclass
class ParameterTrace:
    """One parameter after the backward pass: ``grad_norm`` = ||dLoss/dW||, ``ratio`` =
    ||dLoss/dW|| / ||W|| (how far one step of size lr moves it, relative to its size)."""

    name: str  # dotted path in the model, e.g. "2.weight"
    symbol: str  # the lecture's name: W^l, b^l (other names as they are)
    shape: tuple
    norm: float
    grad_norm: float | None  # None: no gradient reached it (e.g. frozen or unused)

    @property
    def ratio(self) -> float | None:
        if self.grad_norm is None:
            return None
        return self.grad_norm / self.norm if self.norm > 0 else math.inf


@dataclass
class LayerTrace:
    """One module call: its output's statistics and the gradient of the loss with respect to it."""

    position: int  # call order, from 1
    name: str  # dotted path in the model ("" for the model itself)
    layer: str  # class name
    symbol: str  # z^l after a layer with weights, a^l otherwise
    shape: tuple
    mean: float
    std: float
    zeros: float  # fraction of output entries exactly 0 (dead ReLUs, dropped units)
    saturated: float | None  # sigmoid/tanh only: fraction of units with sigma' < 10% of its peak
    delta_norm: float | None = None  # ||dLoss/d output|| over the batch; None: no gradient
    delta_rms: float | None = None  # the same per entry: sqrt(mean(delta^2))
    params: list[ParameterTrace] = field(default_factory=list)

    @property
    def delta_symbol(self) -> str:
        return "delta" + self.symbol[1:] if self.symbol.startswith("z") else "dL/d" + self.symbol


@dataclass
class BackpropTrace:
    """What :func:`backprop_trace` returns; ``print`` it, ``plot`` it, or read ``rows``."""

    rows: list[LayerTrace]
    loss: float
    batch_size: int

    def layer(self, name: str) -> LayerTrace:
        """The first row of the module called ``name`` (its dotted path in the model)."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no module named {name!r} in the trace; modules: "
                       f"{', '.join(r.name for r in self.rows)}")

    def weights(self) -> list[ParameterTrace]:
        """The parameters of the layers with weights, in forward order (W^1, b^1, W^2, ...)."""
        return [p for row in self.rows for p in row.params]

    def table_rows(self) -> list[dict]:
        """One dict per module and per parameter, for CSV files and markdown tables."""
        out = []
        for row in self.rows:
            out.append({"module": _label(row), "output": row.symbol, "shape": _shape(row.shape),
                        "mean": row.mean, "std": row.std, "zeros": row.zeros,
                        "saturated": _blank(row.saturated), "delta": row.delta_symbol,
                        "delta_norm": _blank(row.delta_norm), "parameter": "", "grad_norm": "",
                        "grad/weight": ""})
            for p in row.params:
                out.append({"module": "", "output": "", "shape": _shape(p.shape), "mean": "",
                            "std": "", "zeros": "", "saturated": "", "delta": "",
                            "delta_norm": "", "parameter": p.symbol,
                            "grad_norm": _blank(p.grad_norm), "grad/weight": _blank(p.ratio)})
        return out

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        header = ["module", "output", "shape", "mean", "std", "zeros", "saturated", "delta",
                  "||delta||", "param", "||dL/dW||", "/||W||"]
        body = [[_text(v) for v in row.values()] for row in self.table_rows()]
        return header, body

    def __str__(self) -> str:
        header, body = self._cells()
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        fmt = "  ".join(f"{{:{'<' if _left(i) else '>'}{w}}}" for i, w in enumerate(widths))
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        return "\n".join([f"Backprop trace: loss {self.loss:.6g} on a batch of "
                          f"{self.batch_size}", rule, fmt.format(*header), rule,
                          *(fmt.format(*r) for r in body), rule])

    def __rich__(self):
        from rich.table import Table

        header, body = self._cells()
        table = Table(title=f"Backprop trace: loss {self.loss:.6g} on a batch of "
                            f"{self.batch_size}", title_justify="left")
        unicode = {"||delta||": "‖δ‖", "||dL/dW||": "‖∂L/∂W‖", "/||W||": "/‖W‖"}
        for i, name in enumerate(header):
            table.add_column(unicode.get(name, name), justify="left" if _left(i) else "right")
        for r in body:
            table.add_row(*map(_greek, r))
        return table

    def plot(self, path, title: str | None = None) -> Path:
        """Two panels on log scales: ||delta|| of every module, and ||dL/dW|| of every
        parameter (with its ratio to ||W||), in forward order. Returns the PNG's path."""
        from deepnum.train.plots import _pyplot, _save

        plt = _pyplot()
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
        rows = [r for r in self.rows if r.delta_norm]
        left.semilogy(range(len(rows)), [r.delta_norm for r in rows], "o-")
        left.set_xticks(range(len(rows)), [_tick(r) for r in rows], rotation=60, fontsize=7)
        left.set_ylabel("||dLoss / d output||")
        left.set_title("delta of each module's output", fontsize=9)
        params = [p for p in self.weights() if p.grad_norm]
        x = range(len(params))
        right.semilogy(x, [p.grad_norm for p in params], "o-", label="||dL/dW||")
        right.semilogy(x, [p.ratio for p in params], "s--", label="||dL/dW|| / ||W||")
        right.set_xticks(x, [_math(p.symbol) for p in params], rotation=60, fontsize=7)
        right.set_title("gradient of each parameter", fontsize=9)
        right.legend(fontsize=7)
        fig.suptitle(title or f"Backprop trace (loss {self.loss:.4g})", fontsize=10)
        return _save(fig, path)


def _left(column: int) -> bool:
    """The text columns (module, output, shape, delta, param) are left-aligned."""
    return column < 3 or column in (7, 9)


def _label(row: LayerTrace) -> str:
    return f"{row.name or 'model'} ({row.layer})"


def _math(symbol: str) -> str:
    """"W^12" as matplotlib mathtext, "$W^{12}$"."""
    base, _, power = symbol.partition("^")
    return f"${base}^{{{power}}}$" if power else symbol


def _tick(row: LayerTrace) -> str:
    return f"{_math(row.symbol)} {row.layer}"


def _greek(text: str) -> str:
    """The lecture's letters for the rich table: delta^1 -> δ^1, dL/da^1 -> ∂L/∂a^1."""
    return text.replace("delta^", "δ^").replace("dL/d", "∂L/∂")


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def _blank(value):
    return "" if value is None else value


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if math.isfinite(value) else str(value)
    return str(value)


def _norm(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    return float(np.sqrt(a @ a))


def _first_tensor(value):
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _saturating(module) -> str | None:
    from deepnum.nn import Sigmoid, Tanh

    if isinstance(module, Sigmoid):
        return "sigmoid"
    if isinstance(module, Tanh):
        return "tanh"
    return None


def output_stats(a: np.ndarray, kind: str | None = None) -> dict:
    """mean, std, fraction of zeros, and for ``kind`` sigmoid/tanh the fraction saturated."""
    a = np.asarray(a, dtype=np.float64)
    saturated = None
    if kind == "sigmoid":
        saturated = float(np.mean(a * (1 - a) < SATURATION * 0.25))
    elif kind == "tanh":
        saturated = float(np.mean(1 - a * a < SATURATION))
    return {"mean": float(a.mean()), "std": float(a.std()), "zeros": float(np.mean(a == 0)),
            "saturated": saturated}


def _traced_modules(model) -> list[tuple[str, object]]:
    """The modules a trace records: those with no children (the layers) and any container
    that owns parameters itself; the model alone if it is a single layer."""
    chosen = [(n, m) for n, m in model.named_modules()
              if not m._modules or m._parameters]
    return chosen or [("", model)]


def _as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def backprop_trace(model, x, y, loss=None) -> BackpropTrace:
    """Run ``loss(model(x), y)`` forward and backward once and record every module on the way.

    ``loss`` is a name (cross_entropy, mse, ...), a callable ``(outputs, targets) -> scalar`` or
    None (the model's ``default_loss``, else cross-entropy). The model runs in its current mode
    (call ``model.eval()`` first to trace without dropout); its parameters' ``.grad`` are left
    as they were. Rows are in the order the modules ran; a module called twice has two rows.

    >>> t = backprop_trace(model, x[:64], y[:64]); print(t)
    >>> [p.grad_norm for p in t.weights()]     # ||dL/dW^1||, ||dL/db^1||, ||dL/dW^2||, ...
    """
    from deepnum.train.losses import get_loss

    loss_fn = get_loss(loss or getattr(model, "default_loss", "cross_entropy"))
    modules = _traced_modules(model)
    names = {id(m): n for n, m in modules}
    rows: list[LayerTrace] = []
    outputs: list[Tensor] = []
    counter = {"l": 0}

    def record(module, args, output):
        tensor = _first_tensor(output)
        if tensor is None:
            return None
        own = [(n, p) for n, p in module._parameters.items() if p is not None]
        if own:
            counter["l"] += 1
        l = counter["l"]
        symbol = f"z^{l}" if own else f"a^{l}"
        stats = output_stats(tensor.array, _saturating(module))
        prefix = names[id(module)] + "." if names[id(module)] else ""
        params = [ParameterTrace(prefix + n, _symbol(n, l), tuple(p.shape), _norm(p.array), None)
                  for n, p in own]
        row = LayerTrace(len(rows) + 1, names[id(module)], type(module).__name__, symbol,
                         tuple(tensor.shape), params=params, **stats)
        rows.append(row)
        if tensor.requires_grad:
            # A tensor hook on this call's own output: the gradient arrives matched to its row,
            # even for a module called twice (a module backward hook cannot tell the calls apart).
            def catch(grad, row=row):
                row.delta_norm = _norm(grad.array)
                row.delta_rms = row.delta_norm / math.sqrt(max(grad.array.size, 1))

            tensor.register_hook(catch)
            outputs.append(tensor)
        return None

    parameters = [p for _, m in modules for p in m._parameters.values() if p is not None]
    saved = [p.grad for p in parameters]
    for p in parameters:
        p.grad = None
    handles = [m.register_forward_hook(record) for _, m in modules]
    try:
        x, y = _as_tensor(x), _as_tensor(y)
        value = loss_fn(model(x), y)
        value.backward()
        by_id = {id(p): p for p in parameters}
        for row in rows:
            module = dict(modules)[row.name]
            for trace, (_, p) in zip(row.params, [(n, p) for n, p in module._parameters.items()
                                                  if p is not None]):
                grad = by_id[id(p)].grad
                trace.grad_norm = None if grad is None else _norm(grad.array)
    finally:
        for handle in handles:
            handle.remove()
        for p, grad in zip(parameters, saved):
            p.grad = grad
    return BackpropTrace(rows, float(value.array), int(x.shape[0]) if x.ndim else 1)


def _symbol(name: str, l: int) -> str:
    """The lecture's symbol of a layer's parameter: W^l for the weight, b^l for the bias."""
    return {"weight": f"W^{l}", "bias": f"b^{l}"}.get(name, f"{name}^{l}")


__all__ = ["SATURATION", "BackpropTrace", "LayerTrace", "ParameterTrace", "backprop_trace",
           "output_stats"]
