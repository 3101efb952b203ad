"""The progress display: a live bar per epoch with the running loss and metrics (rich).

``verbose`` follows Keras: 0 prints nothing, 1 draws a bar per epoch that fills as batches finish,
2 prints one plain line per epoch. ``"auto"`` is 1 on a terminal and 2 otherwise, so logs written to
a file or a pipe get one readable line per epoch instead of bar animation.

>>> trainer.fit(train, epochs=10, verbose=1)
Epoch 3/10 ━━━━━━━━━━━━━━━━━━━━ 45/45 0:00:01 loss 0.0912 · accuracy 0.9744 · val_loss 0.1203
"""

from __future__ import annotations

import sys

from deepnum.train.callbacks import Callback


def resolve_verbose(verbose, stream=None) -> int:
    if verbose == "auto":
        stream = stream or sys.stdout
        return 1 if getattr(stream, "isatty", lambda: False)() else 2
    if verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def format_logs(logs: dict) -> str:
    """``loss 0.1234 · accuracy 0.9712`` (learning rates in short scientific form)."""
    parts = []
    for key, value in logs.items():
        text = f"{value:.3g}" if key == "lr" else f"{value:.4f}"
        parts.append(f"{key} {text}")
    return " · ".join(parts)


class ProgressBar(Callback):
    """Shows training progress; see the module docstring for ``verbose``."""

    def __init__(self, verbose="auto", stream=None):
        self.stream = stream
        self.verbose = resolve_verbose(verbose, stream)
        self._progress = None

    def on_train_begin(self, logs=None):
        self.epochs = self.trainer.epochs

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose != 1:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(file=self.stream or sys.stdout, highlight=False)
        self._progress = Progress(
            TextColumn(f"Epoch {epoch + 1}/{self.epochs}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[logs]}"), console=console,
            transient=False)
        self._task = self._progress.add_task("", total=self.trainer.steps_per_epoch, logs="")
        self._progress.start()

    def implements(self, hook: str) -> bool:
        # only the live bar (verbose 1) shows anything per batch
        return self.verbose == 1 if hook == "on_train_batch_end" else super().implements(hook)

    def on_train_batch_end(self, batch, logs=None):
        if self._progress is not None:
            self._progress.update(self._task, advance=1, logs=format_logs(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        shown = {k: v for k, v in (logs or {}).items() if k != "lr"}
        if self._progress is not None:
            self._progress.update(self._task, logs=format_logs(shown))
            self._progress.stop()
            self._progress = None
        elif self.verbose == 2:
            seconds = self.trainer.epoch_seconds
            print(f"Epoch {epoch + 1}/{self.epochs} ({seconds:.1f}s) {format_logs(shown)}",
                  file=self.stream or sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        if self._progress is not None:  # training stopped mid-epoch (an error)
            self._progress.stop()
            self._progress = None
