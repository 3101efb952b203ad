"""The training loop: fit, evaluate and predict, Keras-style, on deepnum's PyTorch-like core.

One step is the lecture's loop: forward, loss, ``zero_grad``, backward, update. The Trainer adds
what a real run needs: train/eval modes, ``no_grad`` for evaluation, exact metric accumulation over
each epoch, a :class:`History`, callbacks, divergence detection (a non-finite loss or gradient stops
training at once, naming the step and the parameter), and checkpoints after every epoch from which
``resume=True`` continues bit-for-bit.

L1/L2 penalties (``l1``, ``l2``) act on weight matrices and kernels (parameters with 2 or more
dimensions, not biases), in the lecture's form: the objective is L_data + l1 * sum|w| +
(l2 / 2) * sum w^2, so the gradients gain l1 * sign(w) + l2 * w (``l2`` is SGD's
``weight_decay`` restricted to the weights; see nn.utils.add_penalty_gradients_). The logged
``loss`` is the data loss L_data.

>>> trainer = Trainer(model, loss="cross_entropy", optimizer="sgd", lr=0.05, metrics=["accuracy"])
>>> history = trainer.fit((x_train, y_train), val=(x_val, y_val), epochs=20, batch_size=32)
>>> trainer.evaluate((x_test, y_test))     # {'loss': 0.08, 'accuracy': 0.975}
"""

from __future__ import annotations

import inspect
import math
import time
from pathlib import Path

import numpy as np

from deepnum.autograd import no_grad
from deepnum.errors import DivergenceError, ModelFileError
from deepnum.fast.denormals import flushing, set_flush_denormal
from deepnum.nn.utils import add_penalty_gradients_
from deepnum.random import get_state, set_state
from deepnum.tensor import Tensor
from deepnum.train.callbacks import Callback, CallbackList, History
from deepnum.train.checkpoint import TRAINER_STATE, load_checkpoint, save_checkpoint
from deepnum.train.losses import get_loss
from deepnum.train.metrics import get_metric
from deepnum.train.progress import ProgressBar


def build_optimizer(name: str, params, lr: float | None = None, momentum: float = 0.9,
                    weight_decay: float = 0.0):
    """An optimizer from :data:`deepnum.optim.OPTIMIZERS` by name, starting at its
    ``suggested_lr`` unless ``lr`` is given; ``momentum`` goes only to those that take it."""
    from deepnum.optim import OPTIMIZERS

    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; available: {', '.join(OPTIMIZERS)}")
    cls = OPTIMIZERS[key]
    accepted = inspect.signature(cls).parameters
    kwargs = {"lr": cls.suggested_lr if lr is None else lr}
    if "momentum" in accepted:
        kwargs["momentum"] = momentum
    if weight_decay:
        kwargs["weight_decay"] = weight_decay
    return cls(params, **kwargs)


def as_loader(data, batch_size: int = 32, shuffle: bool = False, seed: int | None = None,
              shard=None):
    """A DataLoader from a DataLoader, a Dataset, or an ``(x, y)`` pair of arrays/Tensors.

    ``shard=(rank, world_size, training)`` gives this rank its share: in training a
    DistributedSampler's (equal shares, padded, reshuffled each epoch from one seed that all ranks
    share), in evaluation every world_size-th sample from ``rank`` (uneven, none counted twice)."""
    from deepnum.data import DataLoader, Dataset, TensorDataset
    from deepnum.random import get_rng
    from deepnum.utils.data import DistributedSampler, Subset

    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        data = TensorDataset(*data)
    if not isinstance(data, Dataset):
        raise TypeError(f"training data must be a DataLoader, a Dataset or an (x, y) pair, "
                        f"got {type(data).__name__}")
    if seed is None and not shuffle:
        seed = 0  # an unshuffled loader needs no randomness: leave deepnum's stream untouched
    if shard is None:
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, seed=seed)
    rank, world, training = shard
    if not training:
        return DataLoader(Subset(data, range(rank, len(data), world)), batch_size=batch_size,
                          seed=0)
    if seed is None:  # one draw of the global stream: the same on every rank seeded alike
        seed = int(get_rng().integers(2**63))
    sampler = DistributedSampler(data, world, rank, shuffle=shuffle, seed=seed)
    return DataLoader(data, batch_size=batch_size, sampler=sampler, seed=0)


class Trainer:
    """Trains ``model``; holds its loss, optimizer, metrics and history.

    ``optimizer`` is an Optimizer instance or a name for :func:`build_optimizer` (with ``lr``,
    ``momentum``). ``loss`` is a name (cross_entropy, mse, perceptron, hinge) or a callable; when
    omitted, a model's ``default_loss`` attribute is used, else cross-entropy.
    """

    def __init__(self, model, loss=None, optimizer="sgd", metrics=("accuracy",), lr=None,
                 momentum: float = 0.9, l1: float = 0.0, l2: float = 0.0,
                 weight_decay: float = 0.0, compile: bool = False,  # noqa: A002
                 distributed: bool | None = None, check_gradients: bool = True,
                 flush_denormal: bool = True):
        """``compile=True`` runs each step's forward, loss and backward from a captured plan
        (deepnum.fast.capture; the same numbers, eager where a model has no captured form).
        ``distributed`` (default: when started by mpiexec with several ranks) trains data-
        parallel: gradients averaged over the ranks, each rank on its share of the data, rank
        0 printing and writing files (see deepnum.train.distributed). ``check_gradients``
        (default) stops training before a non-finite gradient reaches the weights; False
        checks only the loss, so such a step is applied and the next step's loss stops the
        run, for one read of every gradient less a step (measured on the MLP at batch 32,
        1 thread: ~4% of the step; see benchmarks/README.md). ``flush_denormal`` (default)
        treats subnormal floats (below ~1.2e-38 in float32) as 0 in the thread running
        ``fit``, as Keras/TensorFlow do and ``torch.set_flush_denormal(True)`` would: a
        momentum buffer whose gradient stays 0 (an always-blank pixel's weights) decays into
        that range and stays there, where every multiply costs a CPU tens of cycles (measured:
        the MLP's update 80 -> 250 us a step once 1.7% of its first-layer buffer is
        subnormal). Needs Numba and an x86 CPU; elsewhere nothing changes."""
        if l1 < 0 or l2 < 0:
            raise ValueError(f"Trainer: l1 and l2 must be >= 0, got l1={l1}, l2={l2}")
        self.model = model
        self.loss_fn = get_loss(loss or getattr(model, "default_loss", "cross_entropy"))
        if isinstance(optimizer, str):
            optimizer = build_optimizer(optimizer, model.parameters(), lr, momentum,
                                        weight_decay)
        self.optimizer = optimizer
        self.metrics = [get_metric(m) for m in metrics]
        self.l1, self.l2 = float(l1), float(l2)
        self.check_gradients = bool(check_gradients)
        self.flush_denormal = bool(flush_denormal)
        from deepnum.train import distributed as ddp_support

        self.parallel = ddp_support.wrap(model, distributed)
        self.captured = None
        if compile:
            from deepnum.fast.capture import CapturedStep

            self.captured = CapturedStep(model, self.loss_fn)
        self.history = History()
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self.stop_training = False
        self.epochs = 0
        self.steps_per_epoch = 0
        self.epoch_seconds = 0.0
        self._names = {id(p): n for n, p in model.named_parameters()}

    # ------------------------------------------------------------------ fit
    def fit(self, train, val=None, epochs: int = 10, batch_size: int = 32, callbacks=(),
            verbose="auto", shuffle: bool = True, seed: int | None = None, checkpoint=None,
            resume: bool = False) -> History:
        """Train for ``epochs`` epochs (counting those already done when resuming).

        ``checkpoint`` is a path written after every epoch; with ``resume=True`` and an existing
        checkpoint, training continues from it and ends with exactly the weights an uninterrupted
        run would have. Returns the :class:`History`.
        """
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        shard = self.parallel.shard(training=True)
        loader = as_loader(train, batch_size, shuffle, seed, shard)
        val_loader = None if val is None else as_loader(val, max(batch_size, 256))
        progress = ProgressBar(verbose if self.parallel.is_main else 0)
        chain = CallbackList([self.history, *callbacks, progress])
        chain.set_trainer(self)
        self.epochs, self.steps_per_epoch = epochs, len(loader)
        self.stop_training = False
        if resume and checkpoint is not None and Path(checkpoint).exists():
            state = load_checkpoint(checkpoint, TRAINER_STATE)
            self._restore(state, loader, chain.callbacks, checkpoint)
        chain.on_train_begin()
        logs: dict = {}
        flushed = self.flush_denormal and not flushing() and set_flush_denormal(True)
        try:
            while self.epoch < epochs and not self.stop_training:
                if hasattr(loader.sampler, "set_epoch"):  # a DistributedSampler's new shuffle
                    loader.sampler.set_epoch(self.epoch)
                logs = self._train_epoch(loader, chain)
                if val_loader is not None:
                    logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
                logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
                chain.on_epoch_end(self.epoch, logs)
                self.epoch += 1
                if checkpoint is not None:
                    self.save_checkpoint(checkpoint, loader, chain.callbacks)
        except BaseException:
            progress.on_train_end()  # leave the terminal clean before the error is shown
            raise
        finally:
            if flushed:  # the thread's mode as it was before fit
                set_flush_denormal(False)
        chain.on_train_end(logs)
        return self.history

    def _train_epoch(self, loader, chain) -> dict:
        start = time.perf_counter()
        chain.on_epoch_begin(self.epoch, {})
        self.model.train()
        for metric in self.metrics:
            metric.reset()
        total_loss, seen = 0.0, 0
        self._chain = chain
        batch_logs = chain.implements("on_train_batch_end")  # else no logs to build a batch
        for batch, (x, y) in enumerate(loader):
            chain.on_train_batch_begin(batch, {})
            self._batch = batch
            loss, outputs = self.train_step((x, y))
            n = len(y)
            total_loss += float(loss.array) * n
            seen += n
            for metric in self.metrics:
                metric.update(outputs.array, y.array)
            if batch_logs:
                chain.on_train_batch_end(batch, self._logs(total_loss / seen))
        self.epoch_seconds = time.perf_counter() - start
        total_loss, seen = self.parallel.reduce_sums(total_loss, seen, self.metrics)
        return self._logs(total_loss / max(seen, 1))

    def train_step(self, batch) -> tuple:
        """One update on one batch (x, y): forward, loss, backward, the callbacks'
        ``on_after_backward`` (where a data-parallel trainer averages the gradients), the
        finite check, the penalties, the optimizer step. Returns (loss, outputs). Override it
        (or wrap it) to change what a step does; fit() calls it for every batch."""
        x, y = batch
        if self.captured is not None:
            loss, outputs = self.captured(x, y)  # sets every .grad, as zero_grad + backward
            self.parallel.average_gradients()  # no hooks ran: average them all now
        else:
            outputs = self.parallel.model(x)
            loss = self.loss_fn(outputs, y)
            self.optimizer.zero_grad()
            loss.backward()
        chain = getattr(self, "_chain", None)
        if chain is not None:
            chain.on_after_backward()
        self._check_finite(loss, getattr(self, "_batch", 0))
        self._apply_penalties()
        self.optimizer.step()
        self.step += 1
        return loss, outputs

    def _logs(self, loss: float) -> dict:
        return {"loss": loss, **{m.name: m.result() for m in self.metrics}}

    def _check_finite(self, loss: Tensor, batch: int) -> None:
        """Stop before a non-finite update reaches the weights, naming where it came from."""
        value = loss.array
        loss_ok = math.isfinite(value.item()) if value.size == 1 else bool(
            np.isfinite(value).all())
        # The parameters the step is about to change (the optimizer's: walking the module tree
        # every step costs more than the check itself on a small network).
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        bad = _first_non_finite_grad(params) if self.check_gradients else None
        if loss_ok and bad is None:
            return
        first_bad = None if bad is None else self._names.get(id(bad), "?")
        where = f"epoch {self.epoch + 1}, step {self.step + 1} (batch {batch + 1} of the epoch)"
        what = f"the loss is {float(loss.array)}" if not loss_ok else "the loss is finite"
        grad = (f"first parameter with a non-finite gradient: '{first_bad}'" if first_bad
                else "all gradients are finite")
        raise DivergenceError(f"training diverged at {where}: {what}; {grad}. The weights were "
                              f"not updated; try a smaller learning rate")

    def _apply_penalties(self) -> None:
        add_penalty_gradients_(self.model.parameters(), self.l1, self.l2)

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, data, batch_size: int = 256) -> dict:
        """Loss and metrics over ``data`` in eval mode, without recording the graph."""
        loader = as_loader(data, batch_size, shard=self.parallel.shard(training=False))
        was_training = self.model.training
        self.model.eval()
        metrics = [_fresh(m) for m in self.metrics]
        total, seen = 0.0, 0
        try:
            with no_grad():
                for x, y in loader:
                    outputs = self.model(x)
                    total += float(self.loss_fn(outputs, y).array) * len(y)
                    seen += len(y)
                    for metric in metrics:
                        metric.update(outputs.array, y.array)
        finally:
            self.model.train(was_training)
        total, seen = self.parallel.reduce_sums(total, seen, metrics)
        return {"loss": total / max(seen, 1), **{m.name: m.result() for m in metrics}}

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """The model's outputs (logits for classifiers) for inputs ``x``, as one array."""
        return predict(self.model, x, batch_size)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self, loader=None, callbacks=()) -> dict:
        return {
            "model": dict(self.model.state_dict()),
            "optimizer": self.optimizer.state_dict(),
            "rng": get_state(),
            **self.parallel.checkpoint_fields(),
            "loader": None if loader is None else loader.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "stop_training": self.stop_training,
            "callbacks": [{"class": type(c).__name__, "state": c.state_dict()} for c in callbacks],
        }

    def save_checkpoint(self, path, loader=None, callbacks=()) -> None:
        state = self.state_dict(loader, callbacks)  # every rank: it gathers their RNG states
        if self.parallel.is_main:
            save_checkpoint(path, state)

    def _restore(self, state: dict, loader, callbacks, path) -> None:
        """Continue from a checkpoint's state, all or nothing: anything that does not fit this
        trainer (weights, optimizer buffers, counters, callbacks) raises ModelFileError naming
        the file, and leaves the model, the optimizer and the random stream as they were."""
        backup = self.state_dict(loader, callbacks)
        backup["model"] = {k: v.clone() for k, v in backup["model"].items()}
        try:
            self._load_state(state, loader, callbacks)
        except (KeyError, TypeError, ValueError, OverflowError, IndexError) as error:
            self._load_state(backup, loader, callbacks)
            raise ModelFileError(f"{path}: the checkpoint does not fit this run: "
                                 f"{str(error)[:300]}") from None

    def _load_state(self, state: dict, loader, callbacks) -> None:
        for key, value in state["model"].items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" \
                    and not np.isfinite(value).all():
                raise ValueError(f"weight '{key}' holds non-finite values")
        self.model.load_state_dict(state["model"])  # both check everything before changing
        self.optimizer.load_state_dict(state["optimizer"])
        set_state(self.parallel.own_rng_state(state))
        epoch, step = int(state["epoch"]), int(state["step"])
        if state.get("loader") is not None:
            if int(state["loader"]["epochs_started"]) != epoch:
                raise ValueError(f"the data loader started {state['loader']['epochs_started']} "
                                 f"epochs, the trainer completed {epoch}")
            loader.load_state_dict(state["loader"])
        self.epoch, self.step = epoch, step
        self.stop_training = bool(state.get("stop_training", False))
        for callback, entry in zip(callbacks, state.get("callbacks", [])):
            if not isinstance(entry["state"], dict):
                raise ValueError(f"the state of callback {entry['class']!r} is not a dict")
            if entry["class"] == type(callback).__name__:
                callback.load_state_dict(entry["state"])
        if callbacks and len(self.history.epoch) != epoch:
            raise ValueError(f"the history holds {len(self.history.epoch)} epochs, the trainer "
                             f"completed {epoch}")


def _fresh(metric):
    """A new, empty metric of the same kind (so evaluation never disturbs training's sums)."""
    clone = object.__new__(type(metric))
    clone.__dict__.update(metric.__dict__)
    clone.reset()
    return clone


def predict(model, x, batch_size: int = 256) -> np.ndarray:
    """Model outputs for ``x`` (array or Tensor), in eval mode and batches, as an ndarray."""
    x = np.asarray(x.array if isinstance(x, Tensor) else x)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            chunks = [model(Tensor(x[i:i + batch_size])).array
                      for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(chunks) if chunks else np.empty((0,))


def fit(model, train, val=None, *, epochs: int = 10, loss=None, optimizer="sgd",
        metrics=("accuracy",), callbacks=(), lr=None, **fit_options) -> History:
    """Train ``model`` in one call (a :class:`Trainer` underneath); returns the History.

    >>> history = fit(model, (x, y), val=(xv, yv), epochs=20, optimizer="sgd", lr=0.05)
    """
    trainer = Trainer(model, loss=loss, optimizer=optimizer, metrics=metrics, lr=lr)
    return trainer.fit(train, val=val, epochs=epochs, callbacks=callbacks, **fit_options)


def evaluate(model, data, loss=None, metrics=("accuracy",), batch_size: int = 256) -> dict:
    """Loss and metrics of ``model`` on ``data`` (DataLoader, Dataset or ``(x, y)``)."""
    trainer = Trainer.__new__(Trainer)
    trainer.model = model
    trainer.loss_fn = get_loss(loss or getattr(model, "default_loss", "cross_entropy"))
    trainer.metrics = [get_metric(m) for m in metrics]
    from deepnum.train import distributed as ddp_support

    trainer.parallel = ddp_support.wrap(model, False)
    return trainer.evaluate(data, batch_size)


__all__ = ["Callback", "Trainer", "build_optimizer", "evaluate", "fit", "predict"]


def _first_non_finite_grad(params):
    """The first parameter whose gradient holds a NaN or an infinity, or None; at about the cost
    of one dot product per gradient for the usual all-finite case: a NaN or inf anywhere makes
    the sum of squares non-finite; only then (or if the squares overflow) is each element looked
    at."""
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is expected, and handled
        for p in params:
            if p.grad is not None:
                flat = p.grad.array.reshape(-1)
                total += flat.dot(flat)  # the method: 1 us less than `@` a call
    if math.isfinite(total):
        return None
    return next((p for p in params if p.grad is not None
                 and not np.isfinite(p.grad.array).all()), None)
