"""One Playground session per browser tab: its data, network, optimizer and training history.

A :class:`Session` is plain synchronous Python; the server calls it from worker threads, and its
lock makes every call atomic, so a settings change never lands in the middle of an epoch. The
:class:`SessionManager` hands out sessions by random id, caps their number, and reaps the ones
whose tab went away without saying so.

>>> session = Session(validate_settings({"dataset": "xor"}))
>>> session.train(epochs=10); session.history[-1]     # [10, train loss, test loss]
"""

from __future__ import annotations

import secrets
import threading
import time

import numpy as np

import deepnum.nn.functional as F
from deepnum.autograd import no_grad
from deepnum.playground import network, render
from deepnum.playground.points import Points, make_points, split_indices
from deepnum.playground.settings import (
    DATA_KEYS,
    NETWORK_KEYS,
    SettingsError,
    validate_settings,
)
from deepnum.tensor import Tensor


class Session:
    """A data set, a network on it, and the state of training."""

    def __init__(self, settings: dict, session_id: str | None = None):
        self.id = session_id or secrets.token_urlsafe(12)
        self.lock = threading.RLock()
        self.last_seen = time.monotonic()
        self.sockets = 0  # open WebSocket connections; a session with none may be reaped
        self.settings = settings
        self.uploaded: Points | None = None
        self.generation = 0  # bumped on every reset, so the page drops frames of an old network
        self._load_data()
        self._new_network()

    # ------------------------------------------------------------------ changing it
    def update(self, raw: dict) -> dict:
        """Apply changed settings: new data and network, a new network, or a new optimizer only."""
        with self.lock:
            new = validate_settings(raw, base=self.settings)
            if new["dataset"] == "csv" and self.uploaded is None:
                raise SettingsError("dataset: csv needs a CSV file; upload one first")
            changed = {k for k in new if new[k] != self.settings[k]}
            self._check_fits(new, self.uploaded if new["dataset"] == "csv" else None)
            self.settings = new
            if changed & set(DATA_KEYS):
                self._load_data()
            if changed & (set(DATA_KEYS) | set(NETWORK_KEYS)):
                self._new_network()
            elif changed:
                self.optimizer = network.build_optimizer(self.settings, self.model)
            return self.settings

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
            self._new_network()

    def use_model(self, model) -> dict:
        """Replace the network by a loaded one that fits this data; return the new settings."""
        with self.lock:
            try:
                found = network.describe_model(model)
            except ValueError as error:
                raise SettingsError(str(error)) from None
            if found["num_outputs"] != self.points.num_classes:
                what = ("1 output (regression)" if self.points.task == "regression"
                        else f"{self.points.num_classes} outputs (one per class)")
                raise SettingsError(f"the model has {found['num_outputs']} outputs, but this "
                                    f"data needs {what}")
            keys = ("features", "hidden", "activations", "dropout")
            self.settings = validate_settings({k: found[k] for k in keys}, base=self.settings)
            self.model = model
            self._restart()
            return self.settings

    def reset(self) -> None:
        """Fresh weights from the seed, epoch 0, empty curves."""
        with self.lock:
            self._new_network()

    # ------------------------------------------------------------------ training
    def train(self, epochs: int = 1, seconds: float | None = None) -> int:
        """Run whole epochs: ``epochs`` of them, or as many as fit in ``seconds`` (at least one).

        One epoch is one pass over the shuffled training points in minibatches; after it the
        losses on all training and test points are recorded. Returns the epochs run.
        """
        start, done = time.monotonic(), 0
        with self.lock:
            while True:
                self._epoch()
                done += 1
                if seconds is None and done >= epochs:
                    break
                if seconds is not None and time.monotonic() - start >= seconds:
                    break
        return done

    def _epoch(self) -> None:
        settings, model = self.settings, self.model
        model.train()
        order = self.rng.permutation(len(self.x_train))
        size = settings["batch_size"]
        for first in range(0, len(order), size):
            batch = order[first:first + size]
            loss = self._loss(model(Tensor._wrap(self.x_train[batch])), self.y_train[batch])
            extra = network.penalty(model, settings["regularization"],
                                    settings["regularization_rate"])
            if extra is not None:
                loss = loss + extra
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.epoch += 1
        train_loss, test_loss = self.losses()
        if not (np.isfinite(train_loss) and np.isfinite(test_loss)):
            self.diverged = True
        self.history.append([self.epoch, train_loss, test_loss])

    def _loss(self, output: Tensor, target: np.ndarray) -> Tensor:
        if self.settings["loss"] == "cross_entropy":
            return F.cross_entropy(output, Tensor._wrap(target))
        if self.points.task == "regression":
            return F.mse_loss(output, Tensor._wrap(target.reshape(-1, 1)))
        one_hot = np.eye(self.points.num_classes, dtype=np.float32)[target]
        return F.mse_loss(output, Tensor._wrap(one_hot))

    def losses(self) -> tuple[float, float]:
        """The data loss (no penalty, dropout off) on all training and all test points."""
        with self.lock, no_grad():
            self.model.eval()
            train = self._loss(self.model(Tensor._wrap(self.x_train)), self.y_train).item()
            test = self._loss(self.model(Tensor._wrap(self.x_test)), self.y_test).item()
            self.model.train()
        return float(train), float(test)

    def predict(self, points: np.ndarray) -> np.ndarray:
        """The network's raw outputs (logits or values) for raw points (N, 2)."""
        with self.lock, no_grad():
            self.model.eval()
            out = self.model(Tensor._wrap(np.asarray(points, dtype=np.float32))).array
            self.model.train()
        return out

    # ------------------------------------------------------------------ what the page draws
    def data_payload(self) -> dict:
        with self.lock:
            p = self.points
            square = (p.x - np.float32(p.offset)) * np.float32(p.scale)
            x_train, x_test = square[self.train_index], square[self.test_index]
            return {
                "task": p.task, "num_classes": p.num_classes, "class_names": p.class_names,
                "source": p.source,
                "train": _rows(x_train, self.y_train), "test": _rows(x_test, self.y_test),
            }

    def frame(self, since: int = 0) -> dict:
        """The network's current picture: losses, the boundary, every neuron, every weight."""
        with self.lock:
            frame = render.frame(self.model, self.points, self.settings)
            last = self.history[-1] if self.history else [0, *self.losses()]
            frame.update(
                generation=self.generation, epoch=self.epoch,
                train_loss=last[1], test_loss=last[2], diverged=self.diverged,
                history=self.history[since:], history_from=since,
            )
            return frame

    def state(self) -> dict:
        """Everything the page needs after loading or a change: settings, data and a frame."""
        with self.lock:
            return {"id": self.id, "settings": self.settings, "data": self.data_payload(),
                    "frame": self.frame(0)}

    # ------------------------------------------------------------------ internals
    def _check_fits(self, settings: dict, uploaded: Points | None) -> None:
        points = uploaded
        if points is None:
            return
        if points.task == "regression" and settings["loss"] == "cross_entropy":
            raise SettingsError(f"loss: cross-entropy needs class labels, but {points.source} "
                                f"has numeric targets: choose mse")

    def _load_data(self) -> None:
        s = self.settings
        self.points = self.uploaded if s["dataset"] == "csv" else make_points(s)
        self.train_index, self.test_index = split_indices(len(self.points.x), s["train_ratio"],
                                                          s["seed"])
        p = self.points
        self.x_train, self.y_train = p.x[self.train_index], p.y[self.train_index]
        self.x_test, self.y_test = p.x[self.test_index], p.y[self.test_index]

    def _new_network(self) -> None:
        p = self.points
        self.model = network.build_model(self.settings, p.num_classes, p.offset, p.scale)
        self._restart()

    def _restart(self) -> None:
        self.optimizer = network.build_optimizer(self.settings, self.model)
        self.rng = np.random.Generator(np.random.PCG64(self.settings["seed"]))
        self.epoch, self.history, self.diverged = 0, [], False
        self.generation += 1


def _rows(x: np.ndarray, y: np.ndarray) -> list:
    """[[x1, x2, label], ...] rounded for a compact JSON answer."""
    return [[round(float(a), 4), round(float(b), 4), (int(c) if y.dtype.kind in "iu"
             else round(float(c), 4))] for (a, b), c in zip(x, y)]


class SessionManager:
    """All sessions by id, at most ``max_sessions``; idle ones without a socket are reaped."""

    def __init__(self, max_sessions: int = 32, idle_timeout: float = 900.0):
        self.max_sessions, self.idle_timeout = max_sessions, idle_timeout
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, settings: dict) -> Session:
        self.reap()
        session = Session(settings)
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                raise LookupError(f"the server already runs {self.max_sessions} sessions; "
                                  f"close another Playground tab and try again")
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is not None:
            session.last_seen = time.monotonic()
        return session

    def remove(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def reap(self, now: float | None = None) -> list[str]:
        """Drop sessions with no open socket that were not used for ``idle_timeout`` seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            gone = [sid for sid, s in self._sessions.items()
                    if s.sockets == 0 and now - s.last_seen > self.idle_timeout]
            for sid in gone:
                del self._sessions[sid]
        return gone

    def __len__(self) -> int:
        return len(self._sessions)
