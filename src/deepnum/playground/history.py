"""The loss curve of a session: bounded, so an hour of training still draws and travels cheaply.

Rows are ``[epoch, train loss, test loss]`` (two more columns for the compare view's second
network). Until :data:`MAX_POINTS` rows are held every epoch is kept; when the table is full every
other row goes and from then on only every ``stride``-th epoch is recorded (``stride`` doubles
each time), epoch 1 always kept. The curve keeps its shape at any length, the table never holds
more than :data:`MAX_POINTS` rows, and the page, which only ever receives these rows, is bounded
with it.

>>> history = History(limit=4)
>>> for epoch in range(1, 9):
...     if history.due(epoch): history.add([epoch, 0.5, 0.6])
>>> [row[0] for row in history.rows]            # [1, 4, 8]: stride 4 after two thinnings
"""

from __future__ import annotations

MAX_POINTS = 1000


class History:
    def __init__(self, limit: int = MAX_POINTS):
        self.limit = limit
        self.rows: list[list] = []
        self.stride = 1
        self.version = 0  # bumped when rows are dropped: the page must then take the whole table

    def due(self, epoch: int) -> bool:
        """Whether ``epoch`` is one the table records."""
        return epoch % self.stride == 0

    def add(self, row: list) -> None:
        self.rows.append(row)
        if len(self.rows) > self.limit:
            self.stride *= 2
            # Epoch 1 stays: where a curve starts is what a class looks at first.
            self.rows = [r for r in self.rows if r[0] % self.stride == 0 or r[0] == 1]
            self.version += 1

    def since(self, start: int) -> list[list]:
        return self.rows[start:]

    def __len__(self) -> int:
        return len(self.rows)
