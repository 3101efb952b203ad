"""GradientStats: its numbers are the gradients PyTorch computes, it never changes the run, and
it survives a kill-and-resume."""

import numpy as np
import pytest
import torch
from tests.helpers import copy_module_weights

import deepnum as dn
import deepnum.nn as nn
from deepnum.data import make_circle
from deepnum.train import GradientStats, Trainer, backprop_trace


def _data():
    x, y = make_circle(n=120, noise=0.05, seed=0)
    return x.astype(np.float32), y


def _net(seed=0):
    dn.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Sigmoid(), nn.Dropout(0.1), nn.Linear(8, 2))


def test_first_epoch_norms_are_pytorchs_gradient_at_the_initial_weights():
    x, y = _data()
    model = _net()
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 2))
    copy_module_weights(nn.Sequential(model[0], model[1], model[3]), theirs)
    model[2].p = 0.0  # no dropout here: the one full batch is then deterministic
    torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
    stats = GradientStats()
    Trainer(model, lr=0.1).fit((x, y), epochs=2, batch_size=len(x), callbacks=[stats],
                               verbose=0, shuffle=False)
    assert stats.epoch == [0, 1]
    norms = stats.series("grad_norm")
    assert list(norms) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    for (name, values), p in zip(norms.items(), theirs.parameters()):
        assert values[0] == pytest.approx(float(p.grad.norm()), rel=1e-5), name
    assert all(v > 0 for v in stats.series("ratio")["0.weight"])


def test_probe_trace_each_epoch_and_the_run_is_unchanged(tmp_path):
    x, y = _data()
    plain = _net()
    Trainer(plain, lr=0.1).fit((x, y), epochs=3, batch_size=16, verbose=0, seed=0)
    model = _net()
    stats = GradientStats(probe=(x[:32], y[:32]), out_dir=tmp_path)
    Trainer(model, lr=0.1).fit((x, y), epochs=3, batch_size=16, verbose=0, seed=0,
                               callbacks=[stats])
    for (name, a), (_, b) in zip(plain.state_dict().items(), model.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)  # probing drew no random numbers
    deltas = stats.series("delta")
    assert set(deltas) == {"z^1 0", "a^1 1", "a^1 2", "z^2 3"}
    model.eval()
    final = backprop_trace(model, x[:32], y[:32])
    assert deltas["z^1 0"][-1] == pytest.approx(final.rows[0].delta_norm, rel=1e-6)
    assert len(stats.series("saturated")["a^1 1"]) == 3
    csv = (tmp_path / "gradient_stats.csv").read_text().splitlines()
    assert len(csv) == 4 and csv[0].startswith("epoch,grad_norm/0.weight")
    assert (tmp_path / "gradient_flow.png").read_bytes()[:4] == b"\x89PNG"


def test_resumed_run_records_what_an_uninterrupted_one_does(tmp_path):
    x, y = _data()
    whole = GradientStats(probe=(x[:16], y[:16]))
    Trainer(_net(), lr=0.1).fit((x, y), epochs=4, batch_size=16, verbose=0, seed=0,
                                callbacks=[whole])
    path = tmp_path / "checkpoint.safetensors"
    first = GradientStats(probe=(x[:16], y[:16]))
    Trainer(_net(), lr=0.1).fit((x, y), epochs=2, batch_size=16, verbose=0, seed=0,
                                callbacks=[first], checkpoint=path)
    resumed = GradientStats(probe=(x[:16], y[:16]))
    Trainer(_net(seed=5), lr=0.1).fit((x, y), epochs=4, batch_size=16, verbose=0, seed=0,
                                      callbacks=[resumed], checkpoint=path, resume=True)
    assert resumed.epoch == whole.epoch == [0, 1, 2, 3]
    assert resumed.columns.keys() == whole.columns.keys()
    for key in whole.columns:
        np.testing.assert_allclose(resumed.columns[key], whole.columns[key], rtol=1e-12,
                                   err_msg=key)


def test_bad_saved_state_is_refused():
    with pytest.raises(ValueError, match="do not line up"):
        GradientStats().load_state_dict({"epoch": [0, 1], "columns": {"grad_norm/w": [1.0]}})
