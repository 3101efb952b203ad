"""What a neuron is doing (weights, bias, delta), editing a weight, and the exported script that
reproduces a run with `python`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn.functional as F
from deepnum.playground.sessions import Session
from deepnum.playground.settings import validate_settings

SRC = str(Path(__file__).resolve().parents[2] / "src")
FINAL = re.compile(r"epoch (\d+): training loss ([\d.]+), test loss ([\d.]+)")


def test_a_neurons_delta_is_the_backpropagated_error_of_the_batch():
    session = Session(validate_settings({"hidden": [3, 2], "num_samples": 60, "batch_size": 6}))
    session.train(3)
    info = session.neuron(0, 1, 2)  # first hidden layer, third neuron
    model, batch = session.runs[0].model, session.runs[0].last_batch
    x, y = session.data.x_train[batch], session.data.y_train[batch]
    # The lecture's delta by hand: dL/dz through the layers after this neuron.
    model.eval()
    z1 = model[1](model[0](dn.from_numpy(x)))
    z1.retain_grad()
    F.cross_entropy(model[5](model[4](model[3](model[2](z1)))), dn.from_numpy(y)).backward()
    expected = z1.grad.numpy()[:, 2]
    assert info["batch_size"] == len(batch) == 6 and info["activation"] == "tanh"
    np.testing.assert_allclose(info["delta"], expected, rtol=1e-4, atol=1e-7)
    assert info["delta_mean"] == pytest.approx(expected.mean(), rel=1e-4, abs=1e-9)
    assert [name for name, _ in info["weights_in"]] == ["x1", "x2"]
    assert info["bias"] == pytest.approx(float(model[1].bias.numpy()[2]))
    assert len(info["weights_out"]) == 2
    output = session.neuron(0, 3, 0)
    assert "softmax" in output["activation"] and output["weights_out"] == []


def test_neuron_and_weight_endpoints(client, session):
    info = client.get(f"/api/sessions/{session}/neuron?column=1&index=0").json()
    assert len(info["weights_in"]) == 2 and "delta" in info
    for query in ("column=0&index=0", "column=1&index=9", "column=x&index=0", "column=1"):
        assert client.get(f"/api/sessions/{session}/neuron?{query}").status_code == 400
    url = f"/api/sessions/{session}/weight"
    frame = client.put(url, json={"layer": 0, "to": 1, "from": 0, "value": 2.5}).json()["frame"]
    assert frame["weights"][0]["weight"][1][0] == 2.5
    frame = client.put(url, json={"layer": 1, "to": 0, "from": None, "value": -1.25}).json()[
        "frame"]
    assert frame["weights"][1]["bias"][0] == -1.25
    for bad in ({"layer": 5, "to": 0, "value": 1}, {"layer": 0, "to": 0, "value": 1e9},
                {"layer": 0, "to": 0, "value": "x"}, {"layer": 0, "to": 0}):
        assert client.put(url, json=bad).status_code == 400


RUN = {"dataset": "spiral", "num_samples": 200, "features": ["x1", "x2", "sin_x1", "x1*x2"],
       "hidden": [6, 4], "activations": ["tanh", "relu"], "dropout": 0.2, "batch_size": 8,
       "optimizer": "momentum", "learning_rate": 0.02, "regularization": "l2",
       "regularization_rate": 0.001, "seed": 11}


VARIANTS = [{}, {"dataset": "plane", "loss": "mse", "dropout": 0.0},
            {"loss": "mse", "optimizer": "adam", "dataset": "gauss", "num_classes": 3}]


def test_the_exported_script_reaches_the_pages_loss(client, tmp_path):
    """Cross-entropy with dropout, L2 and momentum; regression; MSE on three classes with Adam.
    The scripts run side by side (each starts its own Python)."""
    frames, runs = [], []
    for i, extra in enumerate(VARIANTS):
        sid = client.post("/api/sessions", json=dict(RUN, **extra)).json()["id"]
        frames.append(client.post(f"/api/sessions/{sid}/train", json={"epochs": 30}).json())
        response = client.get(f"/api/sessions/{sid}/script")
        assert "attachment" in response.headers["content-disposition"]
        path = tmp_path / f"run{i}.py"
        path.write_text(response.text)
        runs.append(subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, PYTHONPATH=SRC)))
    for frame, run in zip(frames, runs):
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        epoch, train, test = FINAL.findall(out)[-1]
        assert int(epoch) == 30
        # The same operations in the same order: equal to the 6 printed digits (measured:
        # equal in all three).
        assert float(train) == pytest.approx(frame["train_loss"], abs=2e-6)
        assert float(test) == pytest.approx(frame["test_loss"], abs=2e-6)


def test_the_script_says_when_it_cannot_replay_the_run(client, session):
    client.post(f"/api/sessions/{session}/train", json={"epochs": 3})
    client.put(f"/api/sessions/{session}/settings", json={"learning_rate": 0.1})
    text = client.get(f"/api/sessions/{session}/script").text
    assert "learning_rate changed at epoch 3" in text
    compile(text, "run.py", "exec")
