"""What a demo writes through: figures, tables, its one- or two-sentence summary, and its checks.

>>> ctx = DemoContext("softmax", out_dir, fast=True)
>>> ctx.check("softmax sums to 1", abs(p.sum() - 1) < 1e-6, f"sum = {p.sum():.6f}")
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from deepnum.demos.registry import Check


def pyplot():
    """matplotlib's pyplot on the Agg backend (files only: demos never open a window)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def columns(rows: list[dict]) -> list[str]:
    """Every key of every row, in first-seen order (rows may leave some out)."""
    return list(dict.fromkeys(k for row in rows for k in row))


def _cell(value) -> str:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.6g}"
    return str(value)


class DemoContext:
    """Collects a demo's outputs in ``out_dir`` and keeps the record of its checks."""

    def __init__(self, name: str, out_dir, fast: bool = False):
        self.name = name
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.fast = fast
        self.interactive = False  # may the demo wait for the user (e.g. serve the Playground)?
        self.figures: list[tuple[str, str]] = []
        self.tables: list[tuple[str, str, list[dict]]] = []
        self.checks: list[Check] = []
        self.lines: list[str] = []

    def say(self, text: str) -> None:
        """What the demo shows, in a sentence; printed and put in the report."""
        self.lines.append(text)

    @property
    def summary(self) -> str:
        return " ".join(self.lines)

    def check(self, name: str, passed, detail: str = "") -> bool:
        """State a claim with the measured numbers that decide it; a false one fails the demo."""
        self.checks.append(Check(name, bool(passed), detail))
        return bool(passed)

    def figure(self, fig, stem: str, caption: str) -> Path:
        """Save a matplotlib figure as ``<stem>.png`` and close it."""
        path = self.out_dir / f"{stem}.png"
        fig.savefig(path, dpi=90, bbox_inches="tight")
        pyplot().close(fig)
        self.figures.append((path.name, caption))
        return path

    def table(self, rows: list[dict], stem: str, caption: str) -> Path:
        """Write rows (dicts with the same keys) as ``<stem>.csv``; the report shows them too."""
        path = self.out_dir / f"{stem}.csv"
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns(rows))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in row.items()})
        self.tables.append((path.name, caption, rows))
        return path


def markdown_table(rows: list[dict]) -> str:
    """Rows as a markdown table, for the terminal and the demo's notes."""
    if not rows:
        return ""
    names = columns(rows)
    cells = [[_cell(row.get(c, "")) for c in names] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(names)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    return "\n".join([line(names), line(["-" * w for w in widths]), *map(line, cells)])
