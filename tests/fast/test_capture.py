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


@pytest.mark.parametrize("make", [_mlp, _cnn], ids=["mlp-dropout", "cnn-batchnorm"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_captured_training_equals_eager_bit_for_bit(make, optimizer, kernels):
    eager, _ = _train(make, False, optimizer=optimizer)
    captured, trainer = _train(make, True, optimizer=optimizer)
    assert trainer.captured.reason is None
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)


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
    assert "not a Sequential" in trainer.captured.reason
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
