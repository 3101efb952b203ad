"""Callbacks: code that runs at fixed points of training, with Keras' hook names.

A callback overrides any of ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)`` and
``on_train_batch_begin/end(batch, logs)``, and ``on_after_backward()`` between each step's
backward and its update. ``logs`` is a dict of the current values ("loss",
"accuracy", "val_loss", "lr", ...). ``self.trainer`` (and ``self.model``) are set before training;
a callback stops training by setting ``self.trainer.stop_training = True``. Callbacks that carry
state across epochs (EarlyStopping's patience counter...) return it from ``state_dict()``, so a
resumed run continues exactly where the interrupted one was.

>>> trainer.fit(train, val=val, epochs=50,
...             callbacks=[EarlyStopping(patience=5, restore_best_weights=True),
...                        CSVLogger("runs/a/history.csv")])
"""

from __future__ import annotations

import copy
import csv
import io
import math
from pathlib import Path

import numpy as np


class Callback:
    """Base class: every hook does nothing."""

    trainer = None
    model = None

    def set_trainer(self, trainer) -> None:
        self.trainer, self.model = trainer, trainer.model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_after_backward(self): ...  # gradients computed, the update not yet made

    def implements(self, hook: str) -> bool:
        """Whether ``hook`` does anything here (it is overridden): the per-batch hooks are only
        called on callbacks that implement them, as in Keras."""
        return getattr(type(self), hook) is not getattr(Callback, hook) or hook in vars(self)

    def state_dict(self) -> dict:
        """What must survive a kill-and-resume (JSON values or ndarrays)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


PER_BATCH = ("on_train_batch_begin", "on_train_batch_end", "on_after_backward")


class CallbackList(Callback):
    """Calls each hook on every callback in order; a per-batch hook only on the callbacks that
    implement it (a call that does nothing, per callback and batch, cost ~1 us a step in a
    batch-32 MLP's step of ~0.9 ms: measured, see benchmarks/README.md)."""

    def __init__(self, callbacks=()):
        self.callbacks = list(callbacks)
        self._per_batch = {hook: [getattr(c, hook) for c in self.callbacks if c.implements(hook)]
                           for hook in PER_BATCH}

    def implements(self, hook: str) -> bool:
        return bool(self._per_batch[hook]) if hook in PER_BATCH else True

    def set_trainer(self, trainer) -> None:
        for c in self.callbacks:
            c.set_trainer(trainer)

    def _call(self, hook, *args):
        for c in self.callbacks:
            getattr(c, hook)(*args)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_train_batch_begin(self, batch, logs=None):
        for hook in self._per_batch["on_train_batch_begin"]:
            hook(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for hook in self._per_batch["on_train_batch_end"]:
            hook(batch, logs)

    def on_after_backward(self):
        for hook in self._per_batch["on_after_backward"]:
            hook()


class History(Callback):
    """Every logged value per epoch: ``history.history["val_accuracy"][-1]``, ``history.epoch``."""

    def __init__(self):
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            # A key first seen late (e.g. lr) is padded so every column has one value per epoch.
            column = self.history.setdefault(key, [math.nan] * (len(self.epoch) - 1))
            column.append(float(value))

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        epochs, columns = state.get("epoch", []), state.get("history", {})
        if not isinstance(epochs, list) or not isinstance(columns, dict) or not all(
                isinstance(v, list) for v in columns.values()):
            raise ValueError("History: the saved state is not lists of epochs and values")
        epochs = [int(e) for e in epochs]
        history = {str(k): [float(x) for x in v] for k, v in columns.items()}
        if epochs != list(range(len(epochs))) or any(len(v) != len(epochs)
                                                     for v in history.values()):
            raise ValueError("History: the saved epochs and columns do not line up")
        self.epoch, self.history = epochs, history

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def _improvement(monitor: str, mode: str):
    """``better(current, best)`` for ``mode`` min/max/auto ("auto": max for accuracy-like keys)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if ("acc" in monitor or "f1" in monitor) else "min"
    return mode


def _monitored(callback, logs):
    if callback.monitor not in logs:
        available = ", ".join(logs) or "none"
        raise ValueError(f"{type(callback).__name__}: monitored value {callback.monitor!r} is not "
                         f"in the logs (available: {available}); give validation data or "
                         f"monitor='loss'")
    return float(logs[callback.monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights=True`` the model ends training with the weights of its best epoch.

    >>> EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0,
                 patience: int = 0, restore_best_weights: bool = False):
        if patience < 0 or min_delta < 0:
            raise ValueError(f"EarlyStopping: patience and min_delta must be >= 0, got "
                             f"{patience}, {min_delta}")
        self.monitor, self.min_delta, self.patience = monitor, float(min_delta), int(patience)
        self.mode = _improvement(monitor, mode)
        self.restore_best_weights = restore_best_weights
        self.reset()

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.best_epoch, self.stopped_epoch = 0, -1, -1
        self.best_weights = None

    def _better(self, current: float) -> bool:
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(self, logs or {})
        if self._better(current):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.clone() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:  # Keras: stop after `patience` epochs without progress
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict:
        return {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        best, wait = float(state["best"]), int(state["wait"])
        best_epoch, stopped_epoch = int(state["best_epoch"]), int(state["stopped_epoch"])
        weights = state.get("best_weights")
        if weights is not None:  # they must fit the model they will be put back into
            own = self.model.state_dict()
            if not isinstance(weights, dict) or set(weights) != set(own) or any(
                    getattr(weights[k], "shape", None) != v.shape for k, v in own.items()):
                raise ValueError("EarlyStopping: the saved best weights do not fit the model")
        if wait < 0 or math.isnan(best):
            raise ValueError(f"EarlyStopping: invalid saved state (best {best}, wait {wait})")
        self.best, self.wait, self.best_epoch, self.stopped_epoch = (best, wait, best_epoch,
                                                                     stopped_epoch)
        self.best_weights = weights


class ModelCheckpoint(Callback):
    """Save the model file (``dn.save``) when ``monitor`` improves, or after every epoch.

    ``path`` may contain ``{epoch}`` (1-based) and any log key, e.g.
    ``"runs/a/model-{epoch:02d}-{val_accuracy:.3f}.safetensors"``.
    """

    def __init__(self, path, monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = True, metadata: dict | None = None):
        self.path, self.monitor, self.save_best_only = str(path), monitor, save_best_only
        self.mode = _improvement(monitor, mode)
        self.metadata = metadata
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        from deepnum.serialization import save

        logs = logs or {}
        if self.save_best_only:
            current = _monitored(self, logs)
            better = current < self.best if self.mode == "min" else current > self.best
            if not better:
                return
            self.best = current
        path = self.path.format(epoch=epoch + 1, **logs)
        save(self.model, path, metadata={**(self.metadata or {}), "epoch": epoch + 1,
                                         **{k: v for k, v in logs.items() if math.isfinite(v)}})
        self.saved.append(path)

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])


class LearningRateScheduler(Callback):
    """Change the learning rate between epochs.

    ``schedule`` is either a scheduler from :mod:`deepnum.optim.lr_scheduler` (stepped once after
    each epoch, as in PyTorch; ``ReduceLROnPlateau`` is given the ``monitor`` value) or Keras'
    ``schedule(epoch, lr) -> new_lr``, applied at the start of each epoch.

    >>> LearningRateScheduler(StepLR(optimizer, step_size=10, gamma=0.5))
    >>> LearningRateScheduler(lambda epoch, lr: lr * 0.95)
    """

    def __init__(self, schedule, monitor: str = "val_loss"):
        self.schedule, self.monitor = schedule, monitor

    def _optimizer(self):
        return getattr(self.schedule, "optimizer", None) or self.trainer.optimizer

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.schedule, "step"):
            for group in self._optimizer().param_groups:
                group["lr"] = float(self.schedule(epoch, group["lr"]))

    def on_epoch_end(self, epoch, logs=None):
        if not hasattr(self.schedule, "step"):
            return
        if type(self.schedule).__name__ == "ReduceLROnPlateau":
            self.schedule.step(_monitored(self, logs or {}))
        else:
            self.schedule.step()

    def state_dict(self) -> dict:
        if hasattr(self.schedule, "state_dict"):
            return {"scheduler": copy.deepcopy(self.schedule.state_dict())}
        return {}

    def load_state_dict(self, state: dict) -> None:
        if "scheduler" in state and hasattr(self.schedule, "load_state_dict"):
            self.schedule.load_state_dict(state["scheduler"])


class CSVLogger(Callback):
    """Write the history as CSV (one row per epoch) after every epoch.

    The whole file is rewritten atomically from the trainer's history each time, so a run that is
    killed and resumed never has a half-written or repeated row.
    """

    def __init__(self, path, separator: str = ","):
        self.path, self.separator = Path(path), separator

    def on_epoch_end(self, epoch, logs=None):
        from deepnum.serialization import atomic_write

        history = self.trainer.history
        keys = list(history.history)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.separator, lineterminator="\n")
        writer.writerow(["epoch", *keys])
        for row, e in enumerate(history.epoch):
            writer.writerow([e + 1, *(_fmt(history.history[k][row]) for k in keys)])
        atomic_write(self.path, out.getvalue().encode())


def _fmt(value: float) -> str:
    return "" if not np.isfinite(value) else repr(float(value))
