"""Every learning-rate schedule against torch.optim.lr_scheduler: the same lrs (and momenta /
betas for the cyclic ones) at each of 40 steps, with two parameter groups; step(epoch)'s closed
forms; state dicts that resume; the composite schedulers; the registry."""

import json
import math
import warnings

import numpy as np
import pytest
import torch

import deepnum as dn
from deepnum.optim import lr_scheduler


def _pair(optimizer="SGD", lrs=(0.1, 0.03), **kwargs):
    ours = [dn.nn.Parameter(dn.zeros(2)), dn.nn.Parameter(dn.zeros(2))]
    theirs = [torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)]
    kwargs = kwargs or (dict(momentum=0.9) if optimizer == "SGD" else {})
    opt = getattr(dn.optim, optimizer)([{"params": [ours[0]], "lr": lrs[0]},
                                        {"params": [ours[1]], "lr": lrs[1]}], **kwargs)
    ref = getattr(torch.optim, optimizer)([{"params": [theirs[0]], "lr": lrs[0]},
                                           {"params": [theirs[1]], "lr": lrs[1]}], **kwargs)
    return opt, ref


def _same_groups(opt, ref, what):
    for ours, theirs in zip(opt.param_groups, ref.param_groups):
        np.testing.assert_allclose(ours["lr"], theirs["lr"], rtol=1e-12, atol=1e-15, err_msg=what)
        for key in ("momentum", "betas"):
            if key in theirs:
                np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=what)


LAMBDA = lambda epoch: 0.5 ** (epoch // 3) + 0.01 * epoch  # noqa: E731

SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5), "SGD"),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3), "SGD"),
    ("ExponentialLR", dict(gamma=0.9), "SGD"),
    ("CosineAnnealingLR", dict(T_max=7), "SGD"),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.001), "SGD"),
    ("LambdaLR", dict(lr_lambda=LAMBDA), "SGD"),
    ("LambdaLR", dict(lr_lambda=[LAMBDA, lambda e: 1.0 / (e + 1)]), "SGD"),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95), "SGD"),
    ("ConstantLR", dict(factor=0.25, total_iters=4), "SGD"),
    ("LinearLR", dict(start_factor=0.2, end_factor=1.0, total_iters=6), "SGD"),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=30), "SGD"),
    ("PolynomialLR", dict(total_iters=12, power=2.0), "SGD"),
    ("CosineAnnealingWarmRestarts", dict(T_0=4), "SGD"),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.002), "SGD"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4), "SGD"),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5,
                      mode="triangular2"), "SGD"),
    ("CyclicLR", dict(base_lr=0.001, max_lr=0.01, step_size_up=5, mode="exp_range",
                      gamma=0.97), "Adam"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, cycle_momentum=False,
                      scale_fn=lambda x: 0.8**x, scale_mode="iterations"), "SGD"),
    ("OneCycleLR", dict(max_lr=0.2, total_steps=40), "SGD"),
    ("OneCycleLR", dict(max_lr=[0.2, 0.05], epochs=4, steps_per_epoch=10, pct_start=0.25,
                        anneal_strategy="linear", three_phase=True), "Adam"),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=40, cycle_momentum=False, div_factor=10.0,
                        final_div_factor=100.0), "Adam"),
]


@pytest.mark.parametrize("name, kwargs, optimizer", SCHEDULES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULES)])
def test_schedule_matches_torch(name, kwargs, optimizer):
    opt, ref = _pair(optimizer)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(ref, **kwargs)
    for step in range(40):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
        _same_groups(opt, ref, f"{name} before step {step + 1}")
        ref.step()
        opt.step()
        if step < 39:  # OneCycleLR refuses a step past total_steps, as torch's
            ours.step()
            theirs.step()
    assert getattr(dn.optim, name) is getattr(lr_scheduler, name)


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", dict(step_size=3, gamma=0.5)), ("MultiStepLR", dict(milestones=[2, 5, 5])),
    ("ExponentialLR", dict(gamma=0.9)), ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("ConstantLR", dict(factor=0.25, total_iters=4)), ("LinearLR", dict(total_iters=6)),
    ("PolynomialLR", dict(total_iters=12, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2))], ids=str)
def test_step_with_an_epoch_uses_the_closed_form_like_torch(name, kwargs):
    opt, ref = _pair()
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(ref, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [5, 2, 9, 9, 0, 14, 3.5 if "Warm" in name else 3]:
            ours.step(epoch)
            theirs.step(epoch)
            np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
    if "Warm" not in name:  # its step(epoch) is the documented way: no warning, as torch
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
            getattr(lr_scheduler, name)(_pair()[0], **kwargs).step(1)


def test_calling_get_lr_directly_warns_like_torch():
    opt, ref = _pair()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        lr_scheduler.StepLR(opt, step_size=2).get_lr()


@pytest.mark.parametrize("name, kwargs, optimizer", SCHEDULES[::2],
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULES[::2])])
def test_state_dict_resumes_mid_schedule_through_json(name, kwargs, optimizer):
    def build():
        opt, _ = _pair(optimizer)
        return opt, getattr(lr_scheduler, name)(opt, **kwargs)

    opt, sched = build()
    for _ in range(9):
        opt.step()
        sched.step()
    opt_state, state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in state
    state = json.loads(json.dumps(state, default=lambda v: None))  # the way a checkpoint goes
    opt2, sched2 = build()
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(state)
    for _ in range(12):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step()
        assert sched.get_last_lr() == sched2.get_last_lr()
        _same_groups(opt, opt2, name)


def test_a_damaged_state_is_refused():
    opt, _ = _pair()
    sched = lr_scheduler.MultiStepLR(opt, milestones=[2, 4])
    for key, value in [("last_epoch", "3"), ("base_lrs", [0.1]), ("optimizer", None),
                       ("milestones", {"a": 1}), ("surprise", 1)]:
        with pytest.raises(ValueError, match="MultiStepLR.load_state_dict"):
            sched.load_state_dict({**sched.state_dict(), key: value})
    sched.load_state_dict({**sched.state_dict(), "milestones": {"3": 1, "6": 2}})
    assert sched.milestones == {3: 1, 6: 2}


def test_sequential_and_chained_schedulers_match_torch():
    def build(lib, opt):
        sched = lib.optim.lr_scheduler
        warmup = sched.LinearLR(opt, start_factor=0.1, total_iters=4)
        decay = sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
        steps = sched.StepLR(opt, step_size=2, gamma=0.5)
        sequential = sched.SequentialLR(opt, schedulers=[warmup, decay, steps],
                                        milestones=[4, 14])
        return sequential

    opt, ref = _pair()
    ours, theirs = build(dn, opt), build(torch, ref)
    for step in range(25):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12,
                                   err_msg=f"step {step}")
        opt.step(), ref.step()
        ours.step(), theirs.step()
    opt, ref = _pair()
    ours = lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt, 0.1, total_iters=3),
                                          lr_scheduler.ExponentialLR(opt, gamma=0.9)])
    theirs = torch.optim.lr_scheduler.ChainedScheduler(
        [torch.optim.lr_scheduler.ConstantLR(ref, 0.1, total_iters=3),
         torch.optim.lr_scheduler.ExponentialLR(ref, gamma=0.9)])
    for _ in range(10):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
        ours.step(), theirs.step()
    state = ours.state_dict()
    assert len(state["_schedulers"]) == 2
    ours.load_state_dict(state)


def test_composite_and_cyclic_errors_match_torch():
    opt, ref = _pair()
    other, other_ref = _pair()
    cases = [
        lambda lib, o, p: lib.optim.lr_scheduler.SequentialLR(o, [], []),
        lambda lib, o, p: lib.optim.lr_scheduler.SequentialLR(
            o, [lib.optim.lr_scheduler.StepLR(o, 2)], [3]),
        lambda lib, o, p: lib.optim.lr_scheduler.SequentialLR(
            o, [lib.optim.lr_scheduler.StepLR(p, 2)], []),
        lambda lib, o, p: lib.optim.lr_scheduler.SequentialLR(
            o, [lib.optim.lr_scheduler.ReduceLROnPlateau(o)], []),
        lambda lib, o, p: lib.optim.lr_scheduler.OneCycleLR(o, 0.1),
        lambda lib, o, p: lib.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=0),
        lambda lib, o, p: lib.optim.lr_scheduler.OneCycleLR(o, 0.1, 5, pct_start=1),
        lambda lib, o, p: lib.optim.lr_scheduler.OneCycleLR(o, [0.1], 5),
        lambda lib, o, p: lib.optim.lr_scheduler.CyclicLR(o, 0.1, 0.2, mode="wave"),
        lambda lib, o, p: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0),
        lambda lib, o, p: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 2, T_mult=0),
        lambda lib, o, p: lib.optim.lr_scheduler.ConstantLR(o, factor=2),
        lambda lib, o, p: lib.optim.lr_scheduler.LinearLR(o, start_factor=0),
        lambda lib, o, p: lib.optim.lr_scheduler.LambdaLR(o, [lambda e: 1.0]),
    ]
    for i, case in enumerate(cases):
        with pytest.raises((ValueError, TypeError)) as expected:
            case(torch, ref, other_ref)
        with pytest.raises(type(expected.value)) as got:
            case(dn, opt, other)
        assert str(got.value).replace("deepnum", "torch") == str(expected.value) or i == 2, i
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.CyclicLR(dn.optim.Adagrad([dn.nn.Parameter(dn.zeros(1))]), 0.1, 0.2)
    sched = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total "
                                         "steps is 3"):
        sched.step()


def test_resuming_needs_initial_lr():
    opt, _ = _pair()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    lr_scheduler.StepLR(opt, step_size=2)
    sched = lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)  # now the groups have it
    assert sched.last_epoch == 4 and opt.param_groups[0]["initial_lr"] == 0.1


def test_warmup_cosine_registry_entry():
    opt, _ = _pair()
    sched = lr_scheduler.SCHEDULES["warmup-cosine"](opt, 20)
    lrs = []
    for _ in range(20):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.01) and lrs[2] == pytest.approx(0.1)  # warmed up
    assert lrs[-1] < 0.01 and all(a >= b for a, b in zip(lrs[2:], lrs[3:]))  # then down
    assert math.isclose(max(lrs), 0.1)
