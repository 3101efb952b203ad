"""One Playground session per browser tab: its data, its network (two in the compare view), the
shared clock and the loss history.

A :class:`Session` is plain synchronous Python; the server calls it from worker threads, and its
lock makes every call atomic, so a settings change never lands in the middle of an epoch. The
networks live in :mod:`~deepnum.playground.run`; the :class:`~deepnum.playground.manager.
SessionManager` owns the sessions.

>>> session = Session(validate_settings({"dataset": "xor"}))
>>> session.train(epochs=10); session.history.rows[-1]     # [10, train loss, test loss]
"""

from __future__ import annotations

import secrets
import threading
import time

import numpy as np

from deepnum.playground import network, render
from deepnum.playground.history import History
from deepnum.playground.points import Points, make_points, split
from deepnum.playground.run import Run
from deepnum.playground.settings import (
    COMPARE_KEYS,
    DATA_KEYS,
    NETWORK_KEYS,
    SettingsError,
    validate_settings,
)


class Session:
    """A data set, one or two networks on it, and the state of training."""

    def __init__(self, settings: dict, session_id: str | None = None):
        self.id = session_id or secrets.token_urlsafe(12)
        self.lock = threading.RLock()
        self.last_seen = time.monotonic()
        self.sockets = 0  # open WebSocket connections (the manager counts them)
        self.closed = False  # set when the manager lets the session go
        self.settings = settings
        self.compare: dict | None = None  # network B's own values of COMPARE_KEYS
        self.uploaded: Points | None = None
        self.generation = 0  # bumped on every restart, so the page drops frames of old networks
        self._load_data()
        self._restart()

    # ------------------------------------------------------------------ changing it
    def update(self, raw: dict) -> dict:
        """Apply changed settings: new data and networks, new networks, or a new optimizer."""
        with self.lock:
            new = validate_settings(raw, base=self.settings)
            if new["dataset"] == "csv" and self.uploaded is None:
                raise SettingsError("dataset: your CSV data needs its file; upload it again")
            self._check_fits(new, self.uploaded if new["dataset"] == "csv" else None)
            changed = {k for k in new if new[k] != self.settings[k]}
            self.settings = new
            if changed & set(DATA_KEYS):
                self._load_data()
            if changed & (set(DATA_KEYS) | set(NETWORK_KEYS)) or self.stopped:
                # A diverged network is not worth keeping: any change starts afresh.
                self._restart()
            elif changed:
                self.runs[0].new_optimizer(new, self.epoch)
                if self.compare is not None:
                    self.runs[1].new_optimizer(self.settings_b(), self.epoch)
            return self.settings

    def set_compare(self, raw: dict | None) -> None:
        """Turn the compare view on with network B's settings (``{}``: a copy of A's), change
        them, or turn it off (None). Both networks then start again on the same clock."""
        with self.lock:
            if raw is None:
                self.compare = None
            else:
                unknown = sorted(set(raw) - set(COMPARE_KEYS))
                if unknown:
                    raise SettingsError(f"compare: network B shares {', '.join(unknown)} with "
                                        f"A; it can differ in {', '.join(COMPARE_KEYS)}")
                base = {k: self.settings[k] for k in COMPARE_KEYS} if self.compare is None \
                    else self.compare
                merged = validate_settings(raw, base=dict(self.settings, **base))
                self.compare = {k: merged[k] for k in COMPARE_KEYS}
            self._restart()

    def settings_b(self) -> dict:
        return dict(self.settings, **self.compare)

    def use_upload(self, points: Points) -> None:
        """Switch to uploaded data; the loss becomes MSE when the labels are numbers."""
        with self.lock:
            settings = dict(self.settings, dataset="csv")
            if points.task == "regression":
                settings["loss"] = "mse"
            else:
                settings["num_classes"] = max(2, min(points.num_classes, 8))
            self._check_fits(settings, points)
            self.uploaded, self.settings = points, settings
            self._load_data()
            self._restart()

    def use_model(self, model, saved: dict) -> dict:
        """Replace network A by a loaded one, with the settings saved beside it (data set,
        optimizer, rate...) where they fit; return the new settings."""
        with self.lock:
            try:
                found = network.describe_model(model)
            except ValueError as error:
                raise SettingsError(str(error)) from None
            restore = {k: v for k, v in saved.items() if k in self.settings}
            if restore.get("dataset") == "csv" and self.settings["dataset"] != "csv":
                restore.pop("dataset")  # the file's points did not travel with the model
            restore.update({k: found[k] for k in ("features", "hidden", "activations",
                                                  "dropout")})
            new = validate_settings(restore, base=self.settings)
            old = (self.settings, self.points, self.data)
            self.settings = new
            if any(new[k] != old[0][k] for k in DATA_KEYS):
                self._load_data()
            if found["num_outputs"] != self.points.num_classes:
                self.settings, self.points, self.data = old
                what = ("1 output (regression)" if self.points.task == "regression"
                        else f"{self.points.num_classes} outputs (one per class)")
                raise SettingsError(f"the model has {found['num_outputs']} output"
                                    f"{'s' if found['num_outputs'] != 1 else ''}, but this data "
                                    f"needs {what}")
            self._restart(model)
            self.runs[0].inexact("its weights were loaded from a file")
            return self.settings

    def reset(self) -> None:
        """Fresh weights from the seed, epoch 0, empty curves."""
        with self.lock:
            self._restart()

    def set_weight(self, run: int, layer: int, to: int, source: int | None,
                   value: float) -> None:
        with self.lock:
            self._run(run).set_weight(layer, to, source, value)
            self._run(run).inexact(f"a weight was edited at epoch {self.epoch}")

    # ------------------------------------------------------------------ training
    def train(self, epochs: int | None = 1, seconds: float | None = None) -> int:
        """Run whole epochs on every network: ``epochs`` of them, or as many as fit in
        ``seconds`` (at least one), whichever ends first. Stops early, with :attr:`stopped`
        set, when a network diverges. Returns the epochs run."""
        if epochs is None and seconds is None:
            raise ValueError("train: give epochs, seconds or both")
        start, done = time.monotonic(), 0
        with self.lock, np.errstate(all="ignore"):  # a diverging epoch is detected, not printed
            while not self.stopped:
                self._epoch()
                done += not self.stopped
                if epochs is not None and done >= epochs:
                    break
                if seconds is not None and time.monotonic() - start >= seconds:
                    break
        return done

    def _epoch(self) -> None:
        record = self.history.due(self.epoch + 1)
        row = [self.epoch + 1]
        for run in self.runs:
            message, losses = run.epoch(record, self.epoch + 1)
            if message:
                self.stopped = message
                return
            if record:
                row += losses
        self.epoch += 1
        if record:
            self.history.add(row)

    def losses(self) -> list[float]:
        """[train, test] of A, then of B in the compare view, at the current epoch."""
        with self.lock:
            if self.history.rows and self.history.rows[-1][0] == self.epoch:
                return self.history.rows[-1][1:]
            return [v for run in self.runs for v in run.losses()]

    def predict(self, points: np.ndarray, run: int = 0) -> np.ndarray:
        with self.lock:
            return self._run(run).predict(points)

    def neuron(self, run: int, column: int, index: int) -> dict:
        with self.lock:
            return self._run(run).neuron(column, index, self._run(run).settings["features"])

    # ------------------------------------------------------------------ what the page draws
    def data_payload(self) -> dict:
        with self.lock:
            p, d = self.points, self.data
            square = p.on_square()
            return {
                "task": p.task, "num_classes": p.num_classes, "class_names": p.class_names,
                "source": p.source,
                "train": _rows(square[d.train_index], d.y_train),
                "test": _rows(square[d.test_index], d.y_test),
            }

    def frame(self, since: int | tuple | None = 0) -> dict:
        """The networks' current picture: losses, boundaries, every neuron, every weight, and
        history rows. ``since`` is 0 (the whole history) or what the receiver holds,
        ``(generation, history version, rows)``: only rows after those are sent, unless the
        networks restarted or the history was thinned since, when it gets the whole table."""
        with self.lock:
            if isinstance(since, tuple):
                generation, version, rows = since
                current = (generation, version) == (self.generation, self.history.version)
                since = rows if current and rows <= len(self.history) else 0
            since = since or 0
            losses = self.losses()
            frame = render.frame(self.runs[0].model, self.points, self.settings)
            frame.update(
                generation=self.generation, epoch=self.epoch, train_loss=losses[0],
                test_loss=losses[1], stopped=self.stopped, diverged=self.stopped is not None,
                history=[_short(row) for row in self.history.since(since)],
                history_from=since, history_version=self.history.version,
                history_stride=self.history.stride,
            )
            if self.compare is not None:
                frame["compare"] = {
                    "output": render.output(self.runs[1].model, self.points,
                                            self.settings_b()),
                    "train_loss": losses[2], "test_loss": losses[3],
                    "settings": self.settings_b(),
                }
            return frame

    def state(self) -> dict:
        """Everything the page needs after loading or a change: settings, data and a frame."""
        with self.lock:
            return {"id": self.id, "settings": self.settings, "compare": self.compare,
                    "data": self.data_payload(), "frame": self.frame(0)}

    # ------------------------------------------------------------------ internals
    def _run(self, index: int) -> Run:
        if not 0 <= index < len(self.runs):
            raise IndexError("run: 0 is network A, 1 network B (compare view only)")
        return self.runs[index]

    def _check_fits(self, settings: dict, uploaded: Points | None) -> None:
        if uploaded is not None and uploaded.task == "regression" and \
                settings["loss"] == "cross_entropy":
            raise SettingsError(f"loss: cross-entropy needs class labels, but {uploaded.source} "
                                f"has numeric targets; use MSE")

    def _load_data(self) -> None:
        s = self.settings
        self.points = self.uploaded if s["dataset"] == "csv" else make_points(s)
        self.data = split(self.points, s["train_ratio"], s["seed"])

    def _restart(self, model=None) -> None:
        """New networks (or ``model`` as A) at epoch 0, an empty history, a new generation."""
        self.runs = [Run(self.settings, self.data, model, name="A" if self.compare else "")]
        if self.compare is not None:
            self.runs.append(Run(self.settings_b(), self.data, name="B"))
        self.epoch, self.history, self.stopped = 0, History(), None
        self.generation += 1


def _rows(x: np.ndarray, y: np.ndarray) -> list:
    """[[x1, x2, label], ...] rounded for a compact JSON answer."""
    return [[round(float(a), 4), round(float(b), 4), (int(c) if y.dtype.kind in "iu"
             else round(float(c), 4))] for (a, b), c in zip(x, y)]


def _short(row: list) -> list:
    """A history row with its losses to 6 significant digits (the page draws 3)."""
    return [row[0], *(float(f"{v:.6g}") for v in row[1:])]
