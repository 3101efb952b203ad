"""Optimizer base: parameter groups, per-parameter state, zero_grad and state_dict (as PyTorch)."""

from __future__ import annotations

import copy

import numpy as np

from deepnum.nn.module import Parameter
from deepnum.tensor import Tensor


class Optimizer:
    """Owns the parameters (in groups, each with its own hyperparameters) and their state.

    Subclasses implement ``step()`` as one update rule over ``self.param_groups``.
    """

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
        group["params"] = [params] if isinstance(params, Parameter) else list(params)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one "
                             f"group")
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Hyperparameters that must be non-negative; subclasses add their own checks."""
        for key in ("lr", "weight_decay", "momentum", "eps", "alpha", "lr_decay"):
            if key in group and group[key] < 0:
                raise ValueError(f"{type(self).__name__}: {key} must be >= 0, got {group[key]!r}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _params_with_grad(self, group: dict):
        for p in group["params"]:
            if p.grad is not None:
                yield p, p.grad.data, self.state.setdefault(id(p), {})

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict:
        """Parameters are referred to by their position across groups, as in PyTorch."""
        index, groups, state = 0, [], {}
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                if id(p) in self.state:
                    state[index] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                    for k, v in self.state[id(p)].items()}
                ids.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in groups]
        if sizes != [len(own["params"]) for own in self.param_groups]:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups have "
                             f"{sizes} parameters, this optimizer's groups differ")
        params = [p for group in self.param_groups for p in group["params"]]
        self.state = {}
        for index, buffers in state_dict["state"].items():
            p = params[int(index)]
            self.state[id(p)] = {k: (np.array(v, dtype=p.dtype) if isinstance(v, np.ndarray) else v)
                                 for k, v in buffers.items()}
        for group, saved in zip(self.param_groups, groups):
            group.update(copy.deepcopy({k: v for k, v in saved.items() if k != "params"}))

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


# ---------------------------------------------------------------- compiled updates (deepnum.jit)
def flat(*arrays: np.ndarray) -> list[np.ndarray]:
    """1-D views of C-contiguous arrays: one compiled kernel serves parameters of every shape."""
    return [a.reshape(-1) for a in arrays]


def fits_kernel(*arrays: np.ndarray) -> bool:
    """Whether an update kernel can take these arrays: one float dtype, all C-contiguous."""
    dtype = arrays[0].dtype
    return dtype.char in "fd" and all(a.dtype is dtype and a.flags.c_contiguous for a in arrays)
