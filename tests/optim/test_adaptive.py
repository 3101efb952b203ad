"""Adadelta, Adamax, NAdam and RAdam against torch.optim: 20 steps on the same model and data,
in float64 and float32, with parameter groups; state dicts resume bit for bit; bad options
fail at construction naming the class."""

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.optim.common import (
    batch,
    check_resume,
    compare_with_torch,
    make_models,
    train_ours,
    train_theirs,
)

CONFIGS = {
    "Adadelta": [dict(), dict(lr=0.5, rho=0.8, eps=1e-5), dict(weight_decay=0.05),
                 dict(lr=0.3, maximize=True, weight_decay=0.01)],
    "Adamax": [dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6),
               dict(lr=0.01, weight_decay=0.05), dict(lr=0.01, maximize=True),
               dict(lr=0.01, betas=(0.3, 0.9))],  # beta1 < 0.5: the other form of lerp
    "NAdam": [dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.99), momentum_decay=0.01),
              dict(lr=0.01, weight_decay=0.05),
              dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True),
              dict(lr=0.01, maximize=True)],
    "RAdam": [dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.9)),  # rho_t > 5 from step 6
              dict(lr=0.01, weight_decay=0.05),
              dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True),
              dict(lr=0.01, maximize=True, eps=1e-6)],
}
CASES = [(name, kwargs) for name, configs in CONFIGS.items() for kwargs in configs]


@pytest.mark.parametrize("name, kwargs", CASES, ids=str)
def test_matches_torch_float64(name, kwargs):
    compare_with_torch(getattr(dn.optim, name), getattr(torch.optim, name), kwargs, np.float64,
                       steps=25)


@pytest.mark.parametrize("name", CONFIGS)
def test_float32_and_param_groups_match_torch(name):
    ours, theirs = getattr(dn.optim, name), getattr(torch.optim, name)
    compare_with_torch(ours, theirs, CONFIGS[name][0], np.float32)
    compare_with_torch(ours, theirs, CONFIGS[name][2], np.float64, split=True)


@pytest.mark.parametrize("name", CONFIGS)
def test_state_matches_torchs_after_training(name):
    ours_model, theirs_model = make_models(np.float64)
    opt = getattr(dn.optim, name)(ours_model.parameters(), **CONFIGS[name][0])
    ref = getattr(torch.optim, name)(theirs_model.parameters(), **CONFIGS[name][0])
    train_ours(ours_model, opt, range(12), np.float64)
    train_theirs(theirs_model, ref, range(12), np.float64)
    ours, theirs = opt.state_dict(), ref.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for index, buffers in theirs["state"].items():
        assert set(ours["state"][index]) == set(buffers)
        for key, value in buffers.items():
            # the same buffers, to the bit where torch keeps a float32 scalar (mu_product)
            np.testing.assert_allclose(np.asarray(ours["state"][index][key], np.float64),
                                       value.numpy().astype(np.float64), rtol=1e-12,
                                       err_msg=f"{name} {key}")
    for group in theirs["param_groups"]:  # the hyperparameters torch saves, except its extras
        extras = {"foreach", "capturable", "differentiable", "params"}
        for key in set(group) - extras:
            assert ours["param_groups"][0][key] == group[key], key


@pytest.mark.parametrize("name", CONFIGS)
def test_resume_is_bit_identical(name):
    check_resume(getattr(dn.optim, name), CONFIGS[name][2])


@pytest.mark.parametrize("name", CONFIGS)
def test_step_accepts_a_closure_and_returns_its_loss(name):
    model, _ = make_models(np.float64)
    opt = getattr(dn.optim, name)(model.parameters())
    x, y = batch(0, np.float64)

    def closure():
        opt.zero_grad()
        loss = dn.nn.functional.mse_loss(model(dn.tensor(x)), dn.tensor(y))
        loss.backward()
        return loss

    with dn.no_grad():  # the closure gets its graph all the same
        loss = opt.step(closure)
    assert loss.item() > 0 and all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name, kwargs, message", [
    ("Adadelta", dict(rho=1.5), r"Adadelta: rho must be a number in \[0, 1\], got 1.5"),
    ("Adadelta", dict(lr=-1), "Adadelta: lr must be >= 0, got -1"),
    ("Adamax", dict(betas=(0.9, 1.0)), r"Adamax: betas must be two numbers in \[0, 1\)"),
    ("Adamax", dict(eps=-1.0), "Adamax: eps must be >= 0"),
    ("NAdam", dict(momentum_decay=-0.1), "NAdam: momentum_decay must be >= 0"),
    ("NAdam", dict(decoupled_weight_decay="yes"), "NAdam: decoupled_weight_decay must be True"),
    ("RAdam", dict(weight_decay=-1), "RAdam: weight_decay must be >= 0"),
    ("RAdam", dict(differentiable=True), "RAdam: differentiable=True is not supported"),
])
def test_bad_options_fail_at_construction(name, kwargs, message):
    params = [dn.nn.Parameter(dn.zeros(2))]
    with pytest.raises(ValueError, match=message):
        getattr(dn.optim, name)(params, **kwargs)
    if "decoupled" not in message and "differentiable" not in message:  # torch checks these too
        with pytest.raises(ValueError):
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)


def test_registered_with_torchs_default_rates():
    for key, name in [("adadelta", "Adadelta"), ("adamax", "Adamax"), ("nadam", "NAdam"),
                      ("radam", "RAdam")]:
        cls = dn.optim.OPTIMIZERS[key]
        assert cls is getattr(dn.optim, name)
        default = torch.optim.__dict__[name]([torch.zeros(1, requires_grad=True)]).defaults["lr"]
        assert cls.suggested_lr == default
    assert "lbfgs" not in dn.optim.OPTIMIZERS  # the Trainer's step has no closure to give it


def test_the_trainer_trains_with_each_by_name():
    from deepnum.train import Trainer

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    for name in ("adadelta", "adamax", "nadam", "radam"):
        dn.manual_seed(0)
        model = dn.nn.Sequential(dn.nn.Linear(2, 16), dn.nn.Tanh(), dn.nn.Linear(16, 2))
        history = Trainer(model, optimizer=name).fit((x, y), epochs=15, batch_size=16,
                                                     verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0], name
