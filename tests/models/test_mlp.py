import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
from deepnum.models import MODELS, build
from deepnum.models.mlp import Perceptron
from deepnum.train import Trainer


def test_registered_and_shaped():
    assert {"perceptron", "softmax", "mlp"} <= set(MODELS)
    x = dn.zeros(3, 1, 28, 28)
    assert build("softmax", input_shape=(1, 28, 28), num_classes=10)(x).shape == (3, 10)
    assert build("perceptron", input_shape=(1, 28, 28), num_classes=10)(x).shape == (3, 10)
    model = build("mlp", input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), dropout=0.2)
    assert model(x).shape == (3, 10)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 256), (256, 128),
                                                                  (128, 10)]
    assert sum(isinstance(m, nn.Dropout) for m in model) == 2
    assert build("softmax", in_features=784, num_classes=10).num_parameters() == 7850


def test_builders_ignore_options_meant_for_other_models():
    model = build("softmax", input_shape=(2,), num_classes=3, hidden=(9,), kernel_size=5)
    assert model.num_parameters() == 9


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        build("mlp", input_shape=(4,), activation="swishy")
    with pytest.raises(ValueError, match="dropout must be in"):
        build("mlp", input_shape=(4,), dropout=1.5)
    with pytest.raises(ValueError, match="input_shape"):
        build("mlp")


def test_perceptron_trains_with_the_perceptron_criterion():
    assert Perceptron.default_loss == "perceptron"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    y = (x @ np.array([2.0, -1.0]) + 0.3 > 0).astype(np.int64)  # linearly separable
    model = build("perceptron", input_shape=(2,), num_classes=2)
    trainer = Trainer(model, optimizer="sgd", lr=0.1, momentum=0.0)
    history = trainer.fit((x, y), epochs=20, batch_size=10, verbose=0, seed=0)
    assert history.history["accuracy"][-1] >= 0.97
    assert trainer.evaluate((x, y))["loss"] < history.history["loss"][0]
