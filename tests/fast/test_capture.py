"""The captured step and dn.compile against the eager path: the same parameters bit for bit
after 100 steps, on the reference path, the speed wing's NumPy path and its compiled kernels;
an eager fallback, with its reason, for what has no captured form."""

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
from deepnum.train import Trainer

RNG = np.random.default_rng(0)
IMAGES = RNG.random((200, 1, 12, 12)).astype(np.float32)
LABELS = RNG.integers(0, 10, 200)


def _mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(144, 32), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 10))


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3), nn.ReLU(), nn.BatchNorm2d(8), nn.Flatten(),
                         nn.Linear(8 * 4 * 4, 10))


def _train(make, compile, steps=100, batch=48, optimizer="sgd", loss=None, y=LABELS):
    dn.manual_seed(0)
    model = make()
    trainer = Trainer(model, optimizer=optimizer, lr=0.05, compile=compile, loss=loss,
                      metrics=())
    epochs = -(-steps * batch // len(IMAGES))
    trainer.fit((IMAGES, y), epochs=epochs, batch_size=batch, verbose=0, seed=0)
    return [p.numpy().copy() for p in model.parameters()], trainer


def _wide_mlp():  # batch 48 x 128 outputs: enough for LinearStage's compiled passes
    return nn.Sequential(nn.Flatten(), nn.Linear(144, 128), nn.ReLU(), nn.Linear(128, 10))


@pytest.mark.parametrize("make", [_mlp, _wide_mlp, _cnn],
                         ids=["mlp-dropout", "wide-mlp", "cnn-batchnorm"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_captured_training_equals_eager_bit_for_bit(make, optimizer, kernels):
    eager, _ = _train(make, False, optimizer=optimizer)
    captured, trainer = _train(make, True, optimizer=optimizer)
    assert trainer.captured.reason is None
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)
    # the data needs no gradient: neither does the first learning stage's input, after a
    # Flatten as much as without one
    first = next(s for s in trainer.captured.stages if hasattr(s, "params") or
                 hasattr(s, "weight"))
    assert first.needs_input_grad is False


def test_mse_regression_is_captured_and_equal():
    targets = RNG.standard_normal(len(IMAGES)).astype(np.float32)

    def make():
        return nn.Sequential(nn.Flatten(), nn.Linear(144, 8), nn.Sigmoid(), nn.Linear(8, 1))

    eager, _ = _train(make, False, loss="mse", y=targets)
    captured, trainer = _train(make, True, loss="mse", y=targets)
    assert trainer.captured.reason is None
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)


def test_what_has_no_captured_form_runs_eagerly_and_says_why():
    class Mine(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(144, 10)

        def forward(self, x):
            return self.fc(x.flatten(1))

    _, trainer = _train(Mine, True, steps=2)
    assert trainer.captured.reason == ("Mine's forward is not a chain of its layers: Linear is "
                                       "not given the forward's input as it was")
    _, trainer = _train(lambda: nn.Sequential(nn.Flatten(), nn.Linear(144, 10), nn.ELU()),
                        True, steps=2)
    assert "ELU" in trainer.captured.reason
    eager, _ = _train(_mlp, False, steps=3)
    hooked = []

    def with_hook():
        model = _mlp()
        model[1].register_forward_hook(lambda m, a, out: hooked.append(out.shape))
        return model

    captured, trainer = _train(with_hook, True, steps=3)
    assert "hooks" in trainer.captured.reason and hooked  # the hook ran, on the eager path
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)


def test_compile_gives_the_models_outputs_and_follows_batch_size_changes():
    dn.manual_seed(0)
    model = _cnn().eval()
    compiled = dn.compile(model)
    for n in (1, 7, 60):
        x = dn.tensor(IMAGES[:n])
        with dn.no_grad():
            np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())
    assert compiled.reason is None
    assert list(compiled.state_dict()) == ["_orig_mod." + k for k in model.state_dict()]


def test_compile_follows_weights_replaced_or_changed_in_place():
    """The plan keeps W^T between calls: a weight changed in place (an optimizer step), or
    replaced by another array of the same shape (``p.data = ...``), is what the next call uses."""
    dn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).eval()
    compiled = dn.compile(model)
    x = dn.tensor(np.random.default_rng(0).standard_normal((2, 6)).astype(np.float32))

    def same():
        with dn.no_grad():
            np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())

    same()
    with dn.no_grad():
        model[0].weight.mul_(2.0)
    same()
    model[2].weight.data = np.ones((3, 5), np.float32)
    same()
    assert compiled.reason is None


class _Chain(nn.Module):
    """A model with its own forward that calls its layers one after another (as LeNet5)."""

    def __init__(self, between=None):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(4 * 6 * 6, 16), nn.ReLU(),
                                        nn.Linear(16, 10))
        self.between = between

    def forward(self, x):
        h = self.features(x)
        if self.between is not None:
            h = self.between(h)
        return self.classifier(h)


@pytest.mark.parametrize("make", [_Chain, lambda: nn.Sequential(_cnn(), nn.ReLU()),
                                  lambda: dn.models.build("lenet5", input_shape=(1, 12, 12))],
                         ids=["own-forward", "nested-sequential", "lenet5"])
def test_a_forward_that_is_a_chain_of_its_layers_is_traced_captured_and_equal(make, kernels):
    eager, _ = _train(make, False, steps=20)
    captured, trainer = _train(make, True, steps=20)
    assert trainer.captured.reason is None and trainer.captured.stages is not None
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)
    model = make().eval()
    compiled = dn.compile(model)
    for n in (1, 7, 7):  # the first call of a shape is the traced one, then the replays
        x = dn.tensor(IMAGES[:n])
        with dn.no_grad():
            np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())
    assert compiled.reason is None and compiled._inference[1] is not None
    assert not any(m._has_hooks for m in model.modules())  # the trace's hooks are gone


def _scale_in_place(h):
    return h.mul_(2)


@pytest.mark.parametrize("between, why", [
    (lambda h: h * 2, "Flatten is not given the previous layer's output as it was"),
    (_scale_in_place, "Flatten is not given the previous layer's output as it was"),
    (lambda h: h.detach(), "Flatten is not given the previous layer's output as it was"),
], ids=["arithmetic", "in-place", "a-new-tensor"])
def test_a_forward_that_is_not_a_chain_runs_eagerly_and_says_where_it_breaks(between, why):
    eager, _ = _train(lambda: _Chain(between), False, steps=3)
    captured, trainer = _train(lambda: _Chain(between), True, steps=3)
    assert trainer.captured.reason == f"_Chain's forward is not a chain of its layers: {why}"
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)
    model = _Chain(between).eval()
    compiled = dn.compile(model)
    x = dn.tensor(IMAGES[:5])
    with dn.no_grad():
        for _ in range(2):
            np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())
    assert compiled.reason.endswith(why)


def test_a_traced_plan_is_made_once_per_shape(monkeypatch):
    from deepnum.fast import trace

    traces = []
    monkeypatch.setattr(trace.Trace, "chain", lambda self, out, f=trace.Trace.chain: (
        traces.append(1), f(self, out))[1])
    _, trainer = _train(_Chain, True, steps=8, batch=50)  # 4 steps an epoch, one shape
    assert trainer.captured.reason is None and len(traces) == 1


def _cnn_ceil_mode():  # 12x12 -> conv 3x3 -> 10x10 -> pool 3/2 ceil -> 5x5 -> pool 2 ceil -> 3x3
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
                         nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(4 * 3 * 3, 10))


def test_ceil_mode_pools_are_captured_with_their_ceil_mode(kernels):
    eager, _ = _train(_cnn_ceil_mode, False, steps=10, batch=50)
    captured, trainer = _train(_cnn_ceil_mode, True, steps=10, batch=50)
    assert trainer.captured.reason is None
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)
    model = _cnn_ceil_mode().eval()
    compiled = dn.compile(model)
    for n in (1, 50):
        x = dn.tensor(IMAGES[:n])
        with dn.no_grad():
            np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())
