"""The registry's recurrent, GAN and DQN models: shapes, a training step, and a file round trip."""

from __future__ import annotations

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn.functional as F
from deepnum.models import build


@pytest.mark.parametrize("shape", [(4, 28, 28), (4, 1, 28, 28), (4, 784)])
def test_lstm_rows_accepts_image_layouts(shape):
    assert build("lstm-rows", hidden_size=8)(dn.randn(*shape)).shape == (4, 10)


def test_lstm_rows_bidirectional_two_layers_learns_a_batch():
    model = build("lstm-rows", hidden_size=8, num_layers=2, bidirectional=True)
    x, y = dn.randn(8, 28, 28), np.arange(8) % 10
    optimizer = dn.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_shapes_of_the_other_models():
    assert build("lstm-forecast", hidden_size=4)(dn.randn(2, 7, 1)).shape == (2, 7, 1)
    assert build("gan-generator", latent_dim=8, hidden=(16,))(dn.randn(3, 8)).shape == (3, 784)
    assert build("gan-discriminator", hidden=(16,))(dn.randn(3, 784)).shape == (3, 1)
    assert build("dqn-mlp", hidden=(8,))(dn.randn(5, 4)).shape == (5, 2)


@pytest.mark.parametrize("name,kwargs", [("lstm-rows", dict(hidden_size=6)),
                                         ("gan-generator", dict(latent_dim=4, hidden=(8,)))])
def test_save_and_load_round_trip(tmp_path, name, kwargs):
    model = build(name, **kwargs)
    path = dn.save(model, tmp_path / "m.safetensors")
    again = dn.load(path)
    x = dn.randn(2, 28, 28) if name == "lstm-rows" else dn.randn(2, 4)
    model.eval()
    again.eval()
    np.testing.assert_array_equal(model(x).data, again(x).data)
