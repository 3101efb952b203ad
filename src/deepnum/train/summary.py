"""``summary(model, input_shape)``: a table of layers, output shapes and parameter counts.

Shapes come from one forward pass on zeros (batch of 1, eval mode, no graph), so the table is right
for any model, Sequential or nested, whatever its forward does. Containers are listed with their
children indented; a row's parameter count is the parameters that module owns itself, so the
column adds up to the total.

>>> print(summary(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), (1, 28, 28)))
Layer (type)          Output shape    Param #
...
Total params: 7,850
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepnum.autograd import no_grad
from deepnum.tensor import Tensor


@dataclass
class SummaryRow:
    name: str  # dotted path, "" for the model itself
    layer: str  # class name
    depth: int
    output_shape: str
    num_params: int  # parameters owned directly by this module


@dataclass
class ModelSummary:
    rows: list[SummaryRow]
    input_shape: tuple
    total_params: int
    trainable_params: int
    size_bytes: int

    def _table(self) -> tuple[list[str], list[list[str]], list[str]]:
        header = ["Layer (type)", "Output shape", "Param #"]
        body = []
        for row in self.rows[1:] if len(self.rows) > 1 else self.rows:
            indent = "  " * max(row.depth - 1, 0)
            label = f"{indent}{row.name.split('.')[-1] or 'model'} ({row.layer})"
            body.append([label, row.output_shape, f"{row.num_params:,}" if row.num_params else "-"])
        footer = [f"Input shape: (N, {', '.join(map(str, self.input_shape))})",
                  f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.total_params - self.trainable_params:,}",
                  f"Parameter size: {self.size_bytes / 2**20:.2f} MB"]
        return header, body, footer

    def __str__(self) -> str:
        header, body, footer = self._table()
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(3)]
        line = "-" * (sum(widths) + 6)

        def fmt(r):
            return f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}"

        return "\n".join([f"Model: {self.rows[0].layer}", line, fmt(header), line,
                          *map(fmt, body), line, *footer])

    def __rich__(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        header, body, footer = self._table()
        table = Table(title=f"Model: {self.rows[0].layer}", title_justify="left")
        table.add_column(header[0])
        table.add_column(header[1])
        table.add_column(header[2], justify="right")
        for row in body:
            table.add_row(*row)
        return Group(table, Text("\n".join(footer)))


def _shape(value) -> str:
    if isinstance(value, Tensor):
        return "(N, " + ", ".join(map(str, value.shape[1:])) + ")" if value.ndim > 1 else "(N,)"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_shape(v) for v in value) + "]"
    return type(value).__name__


def summary(model, input_shape, dtype=np.float32) -> ModelSummary:
    """Run ``model`` on zeros of shape ``(1, *input_shape)`` and tabulate every module.

    >>> s = summary(model, (1, 28, 28)); print(s); s.total_params
    """
    input_shape = tuple(int(d) for d in input_shape)
    shapes: dict[int, str] = {}
    # a forward hook on every module records the shape of what it returns (hooked modules
    # are never fused, so each layer is seen on its own)
    def record(module, args, output):
        shapes.setdefault(id(module), _shape(output))  # returns None: the output is unchanged

    handles = [module.register_forward_hook(record) for module in model.modules()]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(Tensor._wrap(np.zeros((1, *input_shape), dtype=dtype)))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    rows = []
    for name, module in model.named_modules():
        own = sum(p.array.size for p in module._parameters.values() if p is not None)
        rows.append(SummaryRow(name, type(module).__name__, name.count(".") + bool(name),
                               shapes.get(id(module), "(not called)"), own))
    params = list(model.parameters())
    return ModelSummary(rows, input_shape, sum(p.array.size for p in params),
                        sum(p.array.size for p in params if p.requires_grad),
                        sum(p.array.nbytes for p in params))
