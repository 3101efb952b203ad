"""LRScheduler: the base of every learning-rate schedule, with PyTorch's stepping rules.

A scheduler sets each parameter group's ``lr`` on ``step()``. Most schedules are written, as in
PyTorch, as a *chainable* rule (the new lr from the current one), so two schedulers on one
optimizer compose; ``step(epoch)`` (deprecated in PyTorch) uses the closed form instead where
there is one. Construction takes the first step (epoch 0).
"""

from __future__ import annotations

import numbers
import warnings
from collections import Counter

from deepnum.optim.optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available. Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose.")


class LRScheduler:
    """Base class: keeps ``last_epoch`` and sets every group's lr to ``get_lr()`` on ``step()``.

    ``last_epoch=-1`` starts a schedule (and records each group's ``initial_lr``); another value
    resumes one, which needs ``initial_lr`` in every group (a loaded optimizer state has it).
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])  # a second scheduler keeps it
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when "
                               f"resuming scheduler with last_epoch >= 0: load the optimizer's "
                               f"state first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _warn_if_called_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    def step(self, epoch=None) -> None:
        """Advance one epoch (or jump to ``epoch``, PyTorch's deprecated form)."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                values = closed() if closed is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._lrs()

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per group."""
        return list(self._last_lr)

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # ----------------------------------------------------------------- state
    _unsaved = ("optimizer",)  # attributes state_dict leaves out (functions, the optimizer)

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (and functions), as PyTorch."""
        state = {k: v for k, v in self.__dict__.items() if k not in self._unsaved}
        for key in self._unsaved[1:]:  # functions are not saved: None in their place
            value = self.__dict__.get(key)
            state[key] = [None] * len(value) if isinstance(value, list) else None
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict`: only the attributes this scheduler has, each with a value
        of the same kind (a number for a number, a list for a list), so a damaged checkpoint
        cannot replace the optimizer or plant a string where a step count was."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise ValueError(f"{name}: expected a dict, got {type(state_dict).__name__}")
        updates = {}
        for key, value in state_dict.items():
            if key in self._unsaved[1:]:
                continue  # the functions stay those given to the constructor
            if key == "optimizer" or key not in self.__dict__:
                raise ValueError(f"{name}: unknown entry {key!r}")
            current = self.__dict__[key]
            if not _same_kind(current, value):
                raise ValueError(f"{name}: {key} must be like {str(current)[:40]!r}, got "
                                 f"{str(value)[:40]!r}")
            updates[key] = Counter({int(k): int(v) for k, v in value.items()}) \
                if isinstance(current, Counter) else value
        self.__dict__.update(updates)


def _same_kind(current, value) -> bool:
    """Whether ``value`` may replace ``current`` in a scheduler's state."""
    if isinstance(current, bool) or current is None or isinstance(current, str):
        return type(value) is type(current) or (current is None and value is None)
    if isinstance(current, numbers.Real):
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if isinstance(current, Counter):  # MultiStepLR's milestones: epoch -> count
        return isinstance(value, dict) and all(
            _integer(k) and _integer(v) and v >= 0 for k, v in value.items())
    if isinstance(current, dict):
        return isinstance(value, dict) and set(value) == set(current) and all(
            _same_kind(current[k], value[k]) for k in current)
    if isinstance(current, (list, tuple)):
        return isinstance(value, (list, tuple)) and len(value) == len(current) and all(
            _same_kind(c, v) for c, v in zip(current, value))
    return False


def _integer(value) -> bool:
    if isinstance(value, str):
        return value.lstrip("-").isdigit()
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def format_param(name: str, optimizer: Optimizer, value) -> list:
    """``value`` for every group: a list of one per group, or one value for all (PyTorch's)."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has "
                             f"{len(optimizer.param_groups)}.")
        return list(value)
    return [value] * len(optimizer.param_groups)


def positive(name: str, arg: str, value, integer: bool = False):
    kind = numbers.Integral if integer else numbers.Real
    if not isinstance(value, kind) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}: {arg} must be a positive {'integer' if integer else 'number'}, "
                         f"got {value!r}")
    return value
