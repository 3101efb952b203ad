"""LBFGS against torch.optim.LBFGS: the same closure on the same model and data gives the same
weights after every step (with and without the strong-Wolfe line search, a short history that
fills up, float64 and float32), the same state, and a state dict that resumes bit for bit."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn.functional as F
from tests.optim.common import batch, make_models


def _closures(ours, theirs, opt, ref, dtype):
    x, y = batch(0, dtype)
    x, y = np.concatenate([x, batch(1, dtype)[0]]), np.concatenate([y, batch(1, dtype)[1]])
    calls = [0, 0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = F.mse_loss(ours(dn.tensor(x)), dn.tensor(y))
        loss.backward()
        return loss

    def reference():
        calls[1] += 1
        ref.zero_grad()
        loss = torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y))
        loss.backward()
        return loss

    return closure, reference, calls


KWARGS = [dict(), dict(line_search_fn="strong_wolfe"), dict(lr=0.5, max_iter=5, history_size=3),
          dict(line_search_fn="strong_wolfe", history_size=2, max_iter=7, max_eval=9),
          dict(tolerance_grad=1e-3, tolerance_change=1e-4)]


def _run(kwargs, dtype, steps):
    """Weights (as float64 vectors) of deepnum's and torch's LBFGS after each step."""
    ours, theirs = make_models(dtype)
    opt, ref = dn.optim.LBFGS(ours.parameters(), **kwargs), \
        torch.optim.LBFGS(theirs.parameters(), **kwargs)
    closure, reference, calls = _closures(ours, theirs, opt, ref, dtype)
    history = []
    for _ in range(steps):
        loss, expected = opt.step(closure), ref.step(reference)
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-5)
        history.append([np.concatenate([t.numpy().ravel() for t in ps]).astype(np.float64)
                        for ps in ([p for p in ours.parameters()],
                                   [q.detach() for q in theirs.parameters()])])
    return history, opt, ref, calls


@pytest.mark.parametrize("kwargs", KWARGS, ids=str)
def test_lbfgs_matches_torch_float64(kwargs):
    history, opt, ref, calls = _run(kwargs, np.float64, steps=4)
    # up to 20 iterations a step on an ill-conditioned net: the libraries' rounding
    # differences grow, from 1e-14 after the first step to 1e-7 after 80 iterations
    for step, (ours, theirs) in enumerate(history):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6,
                                   err_msg=f"after step {step + 1}")
    assert calls[0] == calls[1]  # the same number of loss evaluations
    state, expected = opt.state_dict()["state"][0], ref.state_dict()["state"][0]
    assert state["func_evals"] == expected["func_evals"]
    assert state["n_iter"] == expected["n_iter"]
    assert len(state["old_dirs"]) == len(expected["old_dirs"])
    np.testing.assert_allclose(state["d"], expected["d"].numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(state["prev_loss"], expected["prev_loss"], rtol=1e-6)


@pytest.mark.parametrize("kwargs", KWARGS, ids=str)
def test_lbfgs_float32_is_as_close_to_torch_as_torch_is_to_itself(kwargs):
    # In float32 the iterations amplify rounding as much in torch as here: after two steps,
    # torch's float32 run differs from its float64 run by up to 2e-3 on this problem. Ours must
    # stay within ten times that distance of torch's float32 run.
    ours32, _, _, _ = _run(kwargs, np.float32, steps=2)
    ours64, _, _, _ = _run(kwargs, np.float64, steps=2)
    for step in range(2):
        (ours, theirs), (_, theirs64) = ours32[step], ours64[step]
        spread = np.abs(theirs - theirs64).max()
        assert np.abs(ours - theirs).max() <= max(10 * spread, 1e-5), f"step {step + 1}"


def test_lbfgs_minimises_the_rosenbrock_function_as_torch():
    found = []
    for lib in (dn, torch):
        xy = (dn.nn.Parameter if lib is dn else torch.nn.Parameter)(
            lib.tensor([-1.5, 2.0], dtype=lib.float64))
        opt = lib.optim.LBFGS([xy], lr=1, max_iter=100, line_search_fn="strong_wolfe")

        def closure(xy=xy, opt=opt):
            opt.zero_grad()
            loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] * xy[0]) ** 2
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        found.append(xy.detach().numpy().copy())
    np.testing.assert_allclose(found[0], [1.0, 1.0], atol=1e-4)
    np.testing.assert_allclose(found[0], found[1], atol=1e-10)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_resumes_bit_for_bit(line_search_fn):
    def fresh(weights=None):
        model, _ = make_models(np.float64)
        if weights is not None:
            model.load_state_dict(weights)
        opt = dn.optim.LBFGS(model.parameters(), history_size=3, max_iter=4,
                             line_search_fn=line_search_fn)
        return model, opt, _closures(model, None, opt, None, np.float64)[0]

    model, opt, closure = fresh()
    for _ in range(3):
        opt.step(closure)
    saved, weights = opt.state_dict(), {k: v.clone() for k, v in model.state_dict().items()}
    for _ in range(2):
        opt.step(closure)  # the saved state must not move with it
    twin, opt2, closure2 = fresh(weights)
    opt2.load_state_dict(saved)
    for _ in range(2):
        opt2.step(closure2)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_lbfgs_refuses_what_torch_refuses_and_a_bad_history():
    p = [dn.nn.Parameter(dn.zeros(2))]
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        dn.optim.LBFGS([{"params": p}, {"params": [dn.nn.Parameter(dn.zeros(1))]}])
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        dn.optim.LBFGS(p, line_search_fn="armijo")
    with pytest.raises(ValueError, match="history_size must be a positive integer"):
        dn.optim.LBFGS(p, history_size=0)
    opt = dn.optim.LBFGS(p, history_size=2)
    with pytest.raises(RuntimeError, match="needs a closure"):
        opt.step()
    p[0].grad = dn.ones(2)
    opt.step(lambda: dn.tensor(1.0))
    opt.step(lambda: dn.tensor(0.5))
    bad = opt.state_dict()
    bad["state"][0]["old_dirs"] = [np.zeros(2)] * 3
    with pytest.raises(ValueError, match="old_dirs of parameter 0 must be a list of at most 2"):
        opt.load_state_dict(bad)
    bad["state"][0]["old_dirs"] = [np.zeros(5)]
    with pytest.raises(ValueError, match=r"old_dirs of parameter 0 has shape \(5,\)"):
        opt.load_state_dict(bad)
