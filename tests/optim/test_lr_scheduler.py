import numpy as np
import pytest
import torch

import deepnum as dn
from deepnum.optim import lr_scheduler


def _pair(lrs=(0.1, 0.03)):
    ours = [dn.nn.Parameter(dn.zeros(2)), dn.nn.Parameter(dn.zeros(2))]
    theirs = [torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)]
    opt = dn.optim.SGD([{"params": [ours[0]], "lr": lrs[0]}, {"params": [ours[1]], "lr": lrs[1]}],
                       momentum=0.9)
    ref = torch.optim.SGD([{"params": [theirs[0]], "lr": lrs[0]},
                           {"params": [theirs[1]], "lr": lrs[1]}], momentum=0.9)
    return opt, ref


SCHEDULES = [("StepLR", dict(step_size=3, gamma=0.5)), ("ExponentialLR", dict(gamma=0.9)),
             ("CosineAnnealingLR", dict(T_max=7)), ("CosineAnnealingLR", dict(T_max=5,
                                                                              eta_min=0.001))]


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=str)
def test_schedule_matches_torch(name, kwargs):
    opt, ref = _pair()
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(ref, **kwargs)
    for _ in range(25):  # past T_max: the cosine comes back up, as torch's does
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups],
                                   [g["lr"] for g in ref.param_groups], rtol=1e-12)
        ref.step()
        opt.step()
        ours.step()
        theirs.step()


def test_scheduler_state_dict_resumes():
    opt, _ = _pair()
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    opt2, _ = _pair()
    sched2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.1)
    sched2.load_state_dict(state)
    opt2.load_state_dict(opt.state_dict())
    for _ in range(4):
        sched.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.1),
                                    dict(factor=0.5, patience=2, cooldown=2, min_lr=0.02),
                                    dict(patience=1, min_lr=[0.05, 0.0])], ids=str)
def test_reduce_on_plateau_matches_torch(kwargs):
    opt, ref = _pair()
    ours = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(ref, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9] * 3 + [0.5] + [0.6] * 15
    for m in metrics:
        ours.step(m)
        theirs.step(m)
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
    assert ours.get_last_lr() != [0.1, 0.03] or kwargs.get("mode") == "max"


def test_scheduler_validation():
    opt, _ = _pair()
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive integer, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: factor must be in"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: mode"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="lowest")
    assert dn.optim.StepLR is lr_scheduler.StepLR
