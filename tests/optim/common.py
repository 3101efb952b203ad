"""Run a deepnum optimizer and its torch.optim twin on the same model, data and weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, kernels_on

TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def make_models(dtype):
    dn.manual_seed(0)
    ours = nn.Sequential(nn.Linear(3, 4, dtype=dtype), nn.Tanh(), nn.Linear(4, 2, dtype=dtype))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    theirs.to(TORCH_DTYPE[dtype])
    with torch.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            q.copy_(torch.tensor(p.numpy()))
    return ours, theirs


def batch(step: int, dtype):
    rng = np.random.default_rng(100 + step)
    return rng.standard_normal((8, 3)).astype(dtype), rng.standard_normal((8, 2)).astype(dtype)


def groups(model, split: bool, lrs=(0.05, 0.01)):
    if not split:
        return model.parameters()
    return [{"params": list(model[0].parameters()), "lr": lrs[0]},
            {"params": list(model[2].parameters()), "lr": lrs[1]}]


def train_ours(model, opt, steps: range, dtype):
    for step in steps:
        x, y = batch(step, dtype)
        opt.zero_grad()
        F.mse_loss(model(dn.tensor(x)), dn.tensor(y)).backward()
        opt.step()


def train_theirs(model, opt, steps: range, dtype):
    for step in steps:
        x, y = batch(step, dtype)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(torch.tensor(x)), torch.tensor(y)).backward()
        opt.step()


def compare_with_torch(ours_cls, theirs_cls, kwargs: dict, dtype, split: bool = False,
                       steps: int = 20):
    """20 steps of each optimizer; the weights must agree after every step."""
    ours, theirs = make_models(dtype)
    opt = ours_cls(groups(ours, split), **kwargs)
    ref = theirs_cls(groups(theirs, split), **kwargs)
    for step in range(steps):
        train_ours(ours, opt, range(step, step + 1), dtype)
        train_theirs(theirs, ref, range(step, step + 1), dtype)
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert_close(p, q, dtype, f"{name} after step {step + 1}")


def check_resume(ours_cls, kwargs: dict, dtype=np.float64, split: bool = True):
    """Saving model + optimizer state after 10 steps and loading both into fresh objects continues
    bit-for-bit like the uninterrupted run."""
    straight, _ = make_models(dtype)
    opt = ours_cls(groups(straight, split), **kwargs)
    train_ours(straight, opt, range(20), dtype)

    first, _ = make_models(dtype)
    opt = ours_cls(groups(first, split), **kwargs)
    train_ours(first, opt, range(10), dtype)
    weights = {k: v.clone() for k, v in first.state_dict().items()}
    saved = opt.state_dict()
    train_ours(first, opt, range(10, 12), dtype)  # keep going: the saved copy must not change

    resumed, _ = make_models(dtype)
    resumed.load_state_dict(weights)
    opt2 = ours_cls(groups(resumed, split, lrs=(0.5, 0.5)), **kwargs)  # lrs come from the save
    opt2.load_state_dict(saved)
    train_ours(resumed, opt2, range(10, 20), dtype)
    for (name, p), (_, q) in zip(resumed.named_parameters(), straight.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


def check_kernel_matches_numpy(ours_cls, kwargs: dict, dtype, steps: int = 20):
    """The compiled update (deepnum.jit) and the NumPy update give the same weights and state
    bit for bit after every one of ``steps`` steps."""
    pytest.importorskip("numba")
    runs = []
    for use_jit in (False, True):
        with kernels_on(use_jit):
            model, _ = make_models(dtype)
            opt = ours_cls(model.parameters(), **kwargs)
            history = []
            for step in range(steps):
                train_ours(model, opt, range(step, step + 1), dtype)
                history.append([p.numpy().copy() for p in model.parameters()]
                               + [b.copy() for s in opt.state.values() for b in s.values()
                                  if isinstance(b, np.ndarray)])
            runs.append(history)
    for step, (plain, compiled) in enumerate(zip(*runs)):
        for a, b in zip(plain, compiled):
            np.testing.assert_array_equal(a, b, err_msg=f"after step {step + 1}")
