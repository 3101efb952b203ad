"""Optimizer.load_state_dict refuses a state that does not fit its parameters (the memory-safety
issue: a half-length momentum buffer used to reach the compiled update kernel)."""

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F

OPTIMIZERS = {
    "sgd": (dn.optim.SGD, dict(lr=0.1, momentum=0.9)),
    "adam": (dn.optim.Adam, dict(lr=1e-3, amsgrad=True)),
    "adamw": (dn.optim.AdamW, dict(lr=1e-3)),
    "rmsprop": (dn.optim.RMSprop, dict(lr=1e-2, momentum=0.5, centered=True)),
    "adagrad": (dn.optim.Adagrad, dict(lr=1e-2)),
    "adadelta": (dn.optim.Adadelta, dict()),
    "adamax": (dn.optim.Adamax, dict()),
    "nadam": (dn.optim.NAdam, dict(decoupled_weight_decay=True, weight_decay=0.1)),
    "radam": (dn.optim.RAdam, dict()),
}


def _stepped(name, params=None, model=None):
    model = model or nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 2))
    cls, kwargs = OPTIMIZERS[name]
    opt = cls(model.parameters() if params is None else params, **kwargs)
    x = dn.tensor(np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32))
    opt.zero_grad()
    F.mse_loss(model(x), dn.zeros(5, 2)).backward()
    opt.step()
    return model, opt


def _buffers(state_dict):
    for index, buffers in state_dict["state"].items():
        for key, value in buffers.items():
            if isinstance(value, np.ndarray) and value.ndim:  # not NAdam's 0-d mu_product
                yield index, key


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_half_length_float64_buffer_of_the_same_bytes_is_refused(name, kernels):
    model, opt = _stepped(name)
    before = {k: {b: np.copy(v) for b, v in s.items()} for k, s in opt.state.items()}
    for index, key in list(_buffers(opt.state_dict())):
        bad = opt.state_dict()
        buffer = bad["state"][index][key]
        bad["state"][index][key] = np.frombuffer(buffer.tobytes(), dtype=np.float64).copy()
        with pytest.raises(ValueError, match=rf"{key} of parameter {index} has shape "
                                             rf"\({buffer.size // 2},\), but the parameter has "
                                             rf"shape \({', '.join(map(str, buffer.shape))},?\)"):
            opt.load_state_dict(bad)
    for k, s in opt.state.items():  # nothing was changed
        for b, v in s.items():
            np.testing.assert_array_equal(v, before[k][b])
    _stepped(name, model=model)  # and the optimizer still works


def test_the_error_names_the_parameter_when_the_optimizer_knows_its_name():
    model = nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 2))
    _, opt = _stepped("sgd", params=model.named_parameters(), model=model)
    assert opt.param_groups[0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    bad = opt.state_dict()
    bad["state"][2]["momentum_buffer"] = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"parameter 2 \('2.weight'\) has shape \(4, 2\), but "
                                         r"the parameter has shape \(2, 4\)"):
        opt.load_state_dict(bad)


def test_a_state_saved_for_another_model_with_the_same_group_sizes_is_refused():
    _, theirs = _stepped("adam", model=nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2)))
    _, ours = _stepped("adam")
    with pytest.raises(ValueError, match="exp_avg of parameter 0 has shape"):
        ours.load_state_dict(theirs.state_dict())


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["state"][0].update(velocity=np.zeros(1)), "unknown buffer 'velocity'"),
    (lambda s: s["state"][0].pop("exp_avg_sq"), r"lacks \['exp_avg_sq'\]"),
    (lambda s: s["state"][0].update(step=-1), "step of parameter 0 must be a non-negative"),
    (lambda s: s["state"][0].update(step="3"), "step of parameter 0 must be a non-negative"),
    (lambda s: s["state"][0].update(exp_avg="abc"), "exp_avg of parameter 0 must be a numeric"),
    (lambda s: s["state"].update({9: {}}), "state for parameter id 9, which no group lists"),
    (lambda s: s["state"].update({-1: {}}), "state for parameter id -1"),
    (lambda s: s["param_groups"][0].update(lr=-0.5), "lr must be >= 0"),
    (lambda s: s["param_groups"][0].update(lr=float("nan")), "lr must be a finite number"),
    (lambda s: s["param_groups"][0].update(amsgrad="yes"), "amsgrad must be True or False"),
    (lambda s: s["param_groups"][0].update(params=[0, 0, 1, 2]), "must be distinct integers"),
    (lambda s: s["param_groups"][0].update(params=[0, 1]), r"saved groups have \[2\]"),
    (lambda s: s["param_groups"][0].update(surprise=1), r"unknown hyperparameters"),
    (lambda s: s.pop("state"), "expected a dict with 'state'"),
])
def test_malformed_states_are_refused_with_a_clear_message(edit, message):
    _, opt = _stepped("adam")
    bad = opt.state_dict()
    edit(bad)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_saved_state_loads_back_and_continues_identically(name):
    _, a = _stepped(name)
    model_b, b = _stepped(name)
    b.load_state_dict(a.state_dict())
    for sa, sb in zip(a.state.values(), b.state.values()):
        assert sa.keys() == sb.keys()
        for key in sa:
            np.testing.assert_array_equal(sa[key], sb[key])


def test_a_scalar_state_must_be_a_number():
    _, opt = _stepped("nadam")
    bad = opt.state_dict()
    bad["state"][0]["mu_product"] = "0.5"
    with pytest.raises(ValueError, match="mu_product of parameter 0 must be a number"):
        opt.load_state_dict(bad)
    bad["state"][0]["mu_product"] = np.zeros(3)
    with pytest.raises(ValueError, match="mu_product of parameter 0 must be a number"):
        opt.load_state_dict(bad)


def test_a_state_saved_under_a_scheduler_loads_back():
    # OneCycleLR writes max_lr, min_lr, max_momentum and base_momentum into the groups
    _, opt = _stepped("adam")
    dn.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    _, fresh = _stepped("adam")
    fresh.load_state_dict(opt.state_dict())
    assert fresh.param_groups[0]["max_lr"] == 0.1
