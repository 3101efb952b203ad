"""Optimizer base: parameter groups, per-parameter state, zero_grad and state_dict (as PyTorch)."""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from deepnum.tensor import Tensor

_NON_NEGATIVE = ("lr", "weight_decay", "momentum", "eps", "alpha", "lr_decay",
                 "initial_accumulator_value", "initial_lr", "momentum_decay", "tolerance_grad",
                 "tolerance_change", "max_lr", "min_lr", "max_momentum", "base_momentum")
_REAL = ("dampening",)
_FLAGS = ("nesterov", "amsgrad", "maximize", "centered", "decoupled_weight_decay")
# what the learning-rate schedulers write into a group (PyTorch's names), allowed in a saved one
_SCHEDULER_KEYS = {"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"}


class Optimizer:
    """Owns the parameters (in groups, each with its own hyperparameters) and their state.

    Subclasses implement ``step()`` as one update rule over ``self.param_groups``.
    """

    # The buffers this optimizer keeps per parameter, checked when a state dict is loaded:
    # "param" is an array of the parameter's shape, "count" a non-negative integer (steps),
    # "scalar" a 0-d float array (NAdam's running product); LBFGS's flat history: "vector" (all
    # the group's parameters flattened), "vectors" (a list of those), "number" (a float or 0-d
    # array), "numbers" (a list of numbers or None).
    state_kinds: dict[str, str] = {}
    # the learning rate the Trainer, the deepnum command and the Playground start from when
    # none is given (the constructors keep PyTorch's defaults)
    suggested_lr = 1e-3

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        if isinstance(params, Tensor):  # list() would silently iterate over its rows
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors or "
                            f"of dicts, got a single tensor of shape {params.shape}; "
                            f"wrap it in a list")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        self.param_groups: list[dict] = []
        self.state: dict[int, dict] = {}  # id(param) -> that parameter's buffers
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if params and all(isinstance(p, tuple) and len(p) == 2 for p in params):
            # model.named_parameters(), as PyTorch accepts: the names go in the state dict and
            # in error messages
            group["param_names"] = [str(name) for name, _ in params]
            params = [p for _, p in params]
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one "
                             f"group")
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Hyperparameters of the right type and range; subclasses add their own checks."""
        for key, value in group.items():
            if key in _NON_NEGATIVE or key in _REAL:
                if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                        or not math.isfinite(value):
                    raise ValueError(f"{type(self).__name__}: {key} must be a finite number, "
                                     f"got {value!r}")
                if key in _NON_NEGATIVE and value < 0:
                    raise ValueError(f"{type(self).__name__}: {key} must be >= 0, got {value!r}")
            elif key in _FLAGS and not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{type(self).__name__}: {key} must be True or False, "
                                 f"got {value!r}")

    def required_state(self, group: dict) -> tuple[str, ...]:
        """The buffers a parameter's state must hold once it is not empty (for this group's
        options); a loaded state missing one is refused."""
        return ()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.array[...] = 0

    def step(self, closure=None):  # pragma: no cover - abstract
        """One update of every parameter; ``closure`` (re-evaluating the loss, with backward)
        is called first when given, and its loss returned, as in PyTorch."""
        raise NotImplementedError

    @staticmethod
    def _evaluate(closure):
        if closure is None:
            return None
        from deepnum.autograd import enable_grad

        with enable_grad():  # step() runs under no_grad, the closure needs its graph
            return closure()

    def _params_with_grad(self, group: dict):
        for p in group["params"]:
            if p.grad is not None:
                yield p, p.grad.array, self.state.setdefault(id(p), {})

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict:
        """Parameters are referred to by their position across groups, as in PyTorch."""
        index, groups, state = 0, [], {}
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                if id(p) in self.state:  # copies: later steps must not change a saved state
                    state[index] = {k: _copy(v) for k, v in self.state[id(p)].items()}
                ids.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict`, refusing (ValueError, nothing changed) one that does not
        fit these parameters: other group sizes, unknown or missing buffers, a buffer whose shape
        is not its parameter's, bad hyperparameters. The buffers are cast to the parameters'
        dtypes, as PyTorch does."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict) \
                or not isinstance(state_dict.get("param_groups"), list):
            raise ValueError(f"{name}: expected a dict with 'state' (a dict) and 'param_groups' "
                             f"(a list), got {_describe(state_dict)}")
        groups = state_dict["param_groups"]
        if not all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups):
            raise ValueError(f"{name}: every parameter group must be a dict with a 'params' list")
        sizes = [len(g["params"]) for g in groups]
        if sizes != [len(own["params"]) for own in self.param_groups]:
            raise ValueError(f"{name}: the saved groups have {sizes} parameters, this "
                             f"optimizer's groups have "
                             f"{[len(own['params']) for own in self.param_groups]}")
        # saved parameter ids -> this optimizer's parameters, group by group (PyTorch's rule)
        slot, merged = {}, []
        for own, saved in zip(self.param_groups, groups):
            for position, (index, p) in enumerate(zip(saved["params"], own["params"])):
                if isinstance(index, bool) or not isinstance(index, numbers.Integral) \
                        or int(index) in slot:
                    raise ValueError(f"{name}: parameter ids must be distinct integers, got "
                                     f"{index!r}")
                names = own.get("param_names")
                slot[int(index)] = (p, len(slot), names[position] if names else None)
            group = {**own, **copy.deepcopy({k: v for k, v in saved.items() if k != "params"})}
            group["params"] = own["params"]
            unknown = sorted(set(group) - set(own) - {"param_names"} - _SCHEDULER_KEYS)
            if unknown:
                raise ValueError(f"{name}: unknown hyperparameters {unknown} in a saved group")
            self._validate(group)
            merged.append(group)
        state = {}
        for index, buffers in state_dict["state"].items():
            key = int(index) if isinstance(index, numbers.Integral) and \
                not isinstance(index, bool) else None
            if key not in slot:
                raise ValueError(f"{name}: state for parameter id {index!r}, which no group lists")
            p, position, pname = slot[key]
            group = next(g for g in merged if any(q is p for q in g["params"]))
            state[id(p)] = self._checked_state(buffers, p, group, position, pname, name)
        self.state = state
        for own, group in zip(self.param_groups, merged):
            own.clear()
            own.update(group)

    def _checked_state(self, buffers, p, group, position, pname, name) -> dict:
        """One parameter's saved buffers, checked against it and cast to its dtype."""
        label = f"parameter {position}" + (f" ({pname!r})" if pname else "")
        if not isinstance(buffers, dict):
            raise ValueError(f"{name}: the state of {label} is not a dict")
        checked = {}
        for key, value in buffers.items():
            kind = self.state_kinds.get(key)
            if kind is None:
                raise ValueError(f"{name}: unknown buffer {key!r} for {label} (a "
                                 f"{type(self).__name__} keeps {sorted(self.state_kinds)})")
            if isinstance(value, Tensor):
                value = value.array
            checked[key] = _checked_buffer(kind, value, p, group, f"{key} of {label}", name)
        missing = [k for k in self.required_state(group) if k not in checked]
        if checked and missing:
            raise ValueError(f"{name}: the state of {label} lacks {missing}")
        return checked

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _checked_buffer(kind: str, value, p, group: dict, what: str, name: str):
    """One saved buffer of kind ``kind`` (see Optimizer.state_kinds), checked and converted."""
    if kind == "param":
        return _checked_array(value, p.array.shape, p.array.dtype, what, name)
    if kind == "vector":
        size = sum(q.array.size for q in group["params"])
        return _checked_array(value, (size,), p.array.dtype, what, name)
    if kind == "vectors":
        if not isinstance(value, (list, tuple)) or len(value) > group.get("history_size", 0):
            raise ValueError(f"{name}: {what} must be a list of at most "
                             f"{group.get('history_size', 0)} vectors, got {_describe(value)}")
        return [_checked_buffer("vector", v, p, group, what, name) for v in value]
    if kind == "numbers":
        if not isinstance(value, (list, tuple)) or len(value) > group.get("history_size", 0):
            raise ValueError(f"{name}: {what} must be a list of at most "
                             f"{group.get('history_size', 0)} numbers, got {_describe(value)}")
        return [None if v is None else _checked_buffer("number", v, p, group, what, name)
                for v in value]
    if isinstance(value, Tensor):
        value = value.array
    if isinstance(value, np.ndarray) and value.size == 1:  # 0-d arrays keep their dtype
        value = value.reshape(()).copy() if kind in ("scalar", "number") else value.item()
    if kind in ("scalar", "number"):
        real = (isinstance(value, np.ndarray) and value.dtype.kind == "f" and not value.ndim) or (
            isinstance(value, numbers.Real) and not isinstance(value, bool))
        if not real:
            raise ValueError(f"{name}: {what} must be a number, got {_describe(value)}")
        return np.asarray(value, dtype=getattr(value, "dtype", np.float64)) if kind == "scalar" \
            else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or not 0 <= value < 2**62:
        raise ValueError(f"{name}: {what} must be a non-negative integer, got "
                         f"{_describe(value)}")
    return int(value)


def _checked_array(value, shape, dtype, what: str, name: str) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.array
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        raise ValueError(f"{name}: {what} must be a numeric array, got {_describe(value)}")
    if value.shape != shape:
        raise ValueError(f"{name}: {what} has shape {value.shape}, but the parameter has shape "
                         f"{shape}")
    return np.array(value, dtype=dtype, order="C")


def lerp_(a: np.ndarray, b: np.ndarray, weight: float) -> None:
    """a <- a + weight (b - a), in place, computed as PyTorch's lerp_ (exp_avg.lerp_(g, 1-b1))."""
    if abs(weight) < 0.5:
        a += weight * (b - a)
    else:
        np.subtract(b, (b - a) * (1 - weight), out=a)


def scalar_dtype():
    """The dtype PyTorch keeps an optimizer's scalar state in (step, mu_product): float64 when
    that is the default dtype, else float32."""
    from deepnum import dtypes

    return np.float64 if dtypes.default_float() == np.float64 else np.float32


def check_options(name: str, differentiable: bool = False, capturable: bool = False) -> None:
    """PyTorch's options that have no meaning here: accepted when off, refused when on."""
    if differentiable:
        raise ValueError(f"{name}: differentiable=True is not supported (deepnum's updates are "
                         f"not recorded for autograd)")
    if capturable not in (False, True):
        raise ValueError(f"{name}: capturable must be True or False, got {capturable!r}")


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    return [_copy(v) for v in value] if isinstance(value, list) else value


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {str(value)[:40]}"
