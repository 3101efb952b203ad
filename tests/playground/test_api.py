"""Every HTTP endpoint of the Playground, with good and bad input: bad input is a 4xx with a JSON
message, and the server keeps serving afterwards."""

import time

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
from deepnum.models.playground import PlaygroundNet
from deepnum.playground import render
from deepnum.playground.points import MAX_UPLOAD_BYTES

from .conftest import SMALL


def error_of(response, status):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and message
    return message


def test_page_and_static_files_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "deepnum Playground" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN: works offline
    for name in ("main.js", "api.js", "draw.js", "network.js", "url.js", "style.css"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert "https://" not in response.text, f"{name} loads something from the internet"
    assert client.get("/static/nothing.js").status_code == 404


def test_options_list_choices_and_limits(client):
    options = client.get("/api/options").json()
    assert {"circle", "xor", "gauss", "spiral", "plane", "multi-gauss"} <= set(options["datasets"])
    assert {"relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "selu", "softplus"} == set(
        options["activations"])
    assert options["untrainable_activations"] == ["step", "sign"]
    assert {"sgd", "adam"} <= set(options["optimizers"])
    assert options["limits"]["max_hidden_layers"] == 6 and options["limits"]["max_neurons"] == 8


def test_create_session_returns_settings_data_and_a_frame(client):
    response = client.post("/api/sessions", json={"dataset": "gauss", "num_classes": 3,
                                                  "hidden": [5, 3], "num_samples": 90})
    assert response.status_code == 201
    state = response.json()
    assert state["settings"]["activations"] == ["tanh", "tanh"]
    data = state["data"]
    assert data["num_classes"] == 3 and len(data["train"]) + len(data["test"]) == 90
    assert {row[2] for row in data["train"]} == {0, 1, 2}
    frame = state["frame"]
    assert frame["epoch"] == 0 and frame["output"]["channels"] == 3
    assert len(frame["output"]["data"]) == 4 * ((3 * render.OUTPUT_GRID ** 2 + 2) // 3)
    assert [len(c["maps"]) for c in frame["layers"]] == [7, 5, 3, 3]  # all 7 features shown
    assert [np.shape(w["weight"]) for w in frame["weights"]] == [(5, 2), (3, 5), (3, 3)]


@pytest.mark.parametrize("body, status, words", [
    ({"hidden": [9]}, 400, "hidden[0]"),
    ({"hidden": [2] * 7}, 400, "at most 6"),
    ({"hidden": [0]}, 400, "hidden[0]"),
    ({"activations": ["step", "tanh"]}, 400, "not trainable"),
    ({"activations": ["swish", "tanh"]}, 400, "activations[0]"),
    ({"num_samples": 10**6}, 400, "num_samples"),
    ({"batch_size": 0}, 400, "batch_size"),
    ({"learning_rate": "fast"}, 400, "learning_rate"),
    ({"noise": True}, 400, "noise"),
    ({"dataset": "moons"}, 400, "dataset"),
    ({"dataset": "plane", "loss": "cross_entropy"}, 400, "cross-entropy"),
    ({"dataset": "csv"}, 400, "csv"),
    ({"features": []}, 400, "features"),
    ({"features": ["x3"]}, 400, "features"),
    ({"num_classes": 9, "dataset": "spiral"}, 400, "num_classes"),
    ({"colour": "red"}, 400, "unknown setting"),
])
def test_bad_settings_are_refused_with_a_message(client, body, status, words):
    assert words in error_of(client.post("/api/sessions", json=body), status)


def test_malformed_bodies_are_refused(client):
    headers = {"Content-Type": "application/json"}
    assert "JSON" in error_of(client.post("/api/sessions", content=b"{nope", headers=headers), 400)
    assert "object" in error_of(client.post("/api/sessions", content=b"[1, 2]", headers=headers),
                                400)
    big = b'{"seed": 1, "pad": "' + b"x" * 70_000 + b'"}'
    assert "limit" in error_of(client.post("/api/sessions", content=big, headers=headers), 413)


def test_unknown_session_is_404_everywhere(client):
    for method, path in [("GET", ""), ("DELETE", ""), ("PUT", "/settings"), ("POST", "/reset"),
                         ("POST", "/train"), ("POST", "/predict"), ("GET", "/model")]:
        response = client.request(method, f"/api/sessions/nope{path}", json={})
        assert "no such session" in error_of(response, 404)


def test_get_and_delete_session(client, session):
    assert client.get(f"/api/sessions/{session}").json()["id"] == session
    assert client.delete(f"/api/sessions/{session}").status_code == 204
    assert client.get(f"/api/sessions/{session}").status_code == 404


def test_train_runs_epochs_and_reset_starts_over(client, session):
    frame = client.post(f"/api/sessions/{session}/train", json={"epochs": 20}).json()
    assert frame["epoch"] == 20 and [h[0] for h in frame["history"]] == list(range(1, 21))
    assert frame["history"][-1][1] < frame["history"][0][1]  # it learns
    for bad in (0, 1001, 2.5, "3", True):
        assert "epochs" in error_of(client.post(f"/api/sessions/{session}/train",
                                                json={"epochs": bad}), 400)
    state = client.post(f"/api/sessions/{session}/reset").json()
    assert state["frame"]["epoch"] == 0 and state["frame"]["history"] == []
    assert state["frame"]["generation"] > frame["generation"]


def test_same_settings_same_start(client):
    a = client.post("/api/sessions", json=dict(SMALL, seed=5)).json()["frame"]["weights"]
    b = client.post("/api/sessions", json=dict(SMALL, seed=5)).json()["frame"]["weights"]
    c = client.post("/api/sessions", json=dict(SMALL, seed=6)).json()["frame"]["weights"]
    assert a == b and a != c


def test_change_settings(client, session):
    url = f"/api/sessions/{session}/settings"
    state = client.put(url, json={"hidden": [3, 2], "activations": ["relu", "elu"],
                                  "dropout": 0.2, "optimizer": "adam",
                                  "regularization": "l2", "regularization_rate": 0.01}).json()
    assert state["settings"]["hidden"] == [3, 2]
    assert [np.shape(w["weight"]) for w in state["frame"]["weights"]] == [(3, 2), (2, 3), (2, 2)]
    assert client.post(f"/api/sessions/{session}/train", json={"epochs": 2}).status_code == 200
    state = client.put(url, json={"dataset": "plane", "loss": "mse"}).json()
    assert state["data"]["task"] == "regression" and state["frame"]["output"]["channels"] == 1
    assert "cross-entropy" in error_of(client.put(url, json={"loss": "cross_entropy"}), 400)
    assert client.get(f"/api/sessions/{session}").json()["settings"]["dataset"] == "plane"


def test_learning_rate_change_keeps_the_weights(client, session):
    client.post(f"/api/sessions/{session}/train", json={"epochs": 3})
    state = client.put(f"/api/sessions/{session}/settings", json={"learning_rate": 0.1}).json()
    assert state["frame"]["epoch"] == 3  # only a new optimizer, the network goes on


def test_predict_matches_the_frame_and_checks_points(client, session):
    out = client.post(f"/api/sessions/{session}/predict", json={"points": [[0, 0], [1, -2]]})
    assert np.shape(out.json()["outputs"]) == (2, 2)
    for bad in (None, [], [[1, 2, 3]], [[1, "a"]], [[float("inf"), 0]] * 0 + [["nan", 0]],
                [[0, 0]] * 10_001):
        error_of(client.post(f"/api/sessions/{session}/predict", json={"points": bad}), 400)


CSV = "x1,x2,label\n" + "\n".join(
    f"{a},{b},{int(a * b > 0)}" for a, b in np.random.default_rng(0).uniform(-40, 60, (80, 2)))


def upload(client, session, content, name="points.csv", field="file"):
    return client.post(f"/api/sessions/{session}/data", files={field: (name, content, "text/csv")})


def test_csv_upload_becomes_the_data(client, session):
    state = upload(client, session, CSV.encode()).json()
    assert state["settings"]["dataset"] == "csv" and state["data"]["source"] == "points.csv"
    points = np.array(state["data"]["train"] + state["data"]["test"])
    assert len(points) == 80 and np.abs(points[:, :2]).max() <= 5.0001  # scaled into the square
    frame = client.post(f"/api/sessions/{session}/train", json={"epochs": 5}).json()
    assert np.isfinite(frame["train_loss"])
    # Raw points in the file's own units go through the model's features (offset and scale).
    out = client.post(f"/api/sessions/{session}/predict", json={"points": [[50, 50]]})
    assert np.shape(out.json()["outputs"]) == (1, 2)


def test_csv_regression_switches_the_loss_to_mse(client, session):
    text = "a,b,t\n" + "\n".join(f"{i},{i % 7},{i * 0.5}" for i in range(30))
    state = upload(client, session, text.encode()).json()
    assert state["data"]["task"] == "regression" and state["settings"]["loss"] == "mse"


@pytest.mark.parametrize("content, status, words", [
    (b"", 400, "empty"),
    (b"x1,x2,label\n1,2,0\n3,oops,1\n4,5,0\n6,7,1\n", 400, "line 3"),
    (b"x1,x2,label\n1,2\n", 400, "fields"),
    (b"a,b,c,label\n" + b"1,2,3,0\n" * 10, 400, "exactly 2 feature columns"),
    (b"x1,x2,label\n" + b"1,2,0\n" * 2001, 400, "at most 2000"),
    (b"x1,x2,label\n" + b"".join(b"%d,1,%d\n" % (i, i) for i in range(20)), 400, "classes"),
    (b"\xff\xfe\x00garbage", 400, "UTF-8"),
    (b"1,2,0\n" * (MAX_UPLOAD_BYTES // 6 + 10), 413, "limit"),
])
def test_bad_csv_uploads_are_explained(client, session, content, status, words):
    message = error_of(upload(client, session, content), status)
    assert words in message
    assert "/tmp" not in message  # the user's file name, not the server's temporary path
    assert client.get(f"/api/sessions/{session}").json()["settings"]["dataset"] == "circle"


def test_upload_needs_multipart_with_a_file_field(client, session):
    url = f"/api/sessions/{session}/data"
    assert "multipart" in error_of(client.post(url, json={"file": "x"}), 415)
    error_of(upload(client, session, CSV.encode(), field="other"), 400)


def test_model_download_loads_with_dn_load_and_predicts_the_same(client, session, tmp_path):
    client.put(f"/api/sessions/{session}/settings",
               json={"features": ["x1", "x2", "x1*x2", "sin_x1"], "hidden": [5, 3],
                     "activations": ["relu", "sigmoid"]})
    client.post(f"/api/sessions/{session}/train", json={"epochs": 5})
    response = client.get(f"/api/sessions/{session}/model")
    assert response.status_code == 200
    assert "playground-circle-epoch5.safetensors" in response.headers["content-disposition"]
    path = tmp_path / "model.safetensors"
    path.write_bytes(response.content)
    model, info = dn.load(path, return_metadata=True)
    assert info["playground"]["hidden"] == [5, 3] and info["epoch"] == 5
    points = np.random.default_rng(1).uniform(-6, 6, (64, 2)).astype(np.float32)
    served = client.post(f"/api/sessions/{session}/predict", json={"points": points.tolist()})
    model.eval()
    np.testing.assert_allclose(model(dn.tensor(points)).numpy(), served.json()["outputs"],
                               rtol=1e-5, atol=1e-6)


def test_model_upload_restores_a_network(client, session):
    client.put(f"/api/sessions/{session}/settings", json={"hidden": [6, 2]})
    client.post(f"/api/sessions/{session}/train", json={"epochs": 5})
    saved = client.get(f"/api/sessions/{session}/model").content
    before = client.post(f"/api/sessions/{session}/predict", json={"points": [[1, 2]]}).json()
    client.put(f"/api/sessions/{session}/settings", json={"hidden": [1]})
    files = {"file": ("net.safetensors", saved, "application/octet-stream")}
    state = client.post(f"/api/sessions/{session}/model", files=files).json()
    assert state["settings"]["hidden"] == [6, 2] and state["frame"]["epoch"] == 0
    after = client.post(f"/api/sessions/{session}/predict", json={"points": [[1, 2]]}).json()
    assert after == before


def test_bad_model_uploads_are_refused(client, session, tmp_path):
    url = f"/api/sessions/{session}/model"
    good = client.get(url).content

    def send(content):
        return client.post(url, files={"file": ("m.safetensors", content, "x/y")})

    assert "m.safetensors" in error_of(send(b"not a model at all"), 400)
    assert "/tmp" not in error_of(send(good[: len(good) // 2]), 400)
    tampered = bytearray(good)
    tampered[-3] ^= 0xFF
    assert "checksum" in error_of(send(bytes(tampered)), 400)
    client.put(f"/api/sessions/{session}/settings", json={"dataset": "gauss", "num_classes": 3})
    bare = tmp_path / "bare.safetensors"  # no Playground settings beside it: the data stays
    dn.save(PlaygroundNet(hidden=[4], activations=["tanh"], num_outputs=2), bare)
    assert "outputs" in error_of(send(bare.read_bytes()), 400)  # 2 outputs on 3-class data
    error_of(send(b"x" * (2 << 20)), 413)
    # A deepnum model file that is not a Playground network.
    other = tmp_path / "other.safetensors"
    dn.save(nn.Sequential(nn.Linear(2, 3)), other)
    content = other.read_bytes()
    assert "PlaygroundNet" in error_of(send(content), 400)
    # A PlaygroundNet beyond the limits is refused before it is built.
    big = tmp_path / "big.safetensors"
    dn.save(PlaygroundNet(hidden=[40], activations=["tanh"]), big)
    assert "from 1 to 8; got 40" in error_of(send(big.read_bytes()), 400)


def test_session_limit_is_a_503(client):
    for _ in range(8 - len(client.app.state.manager)):
        assert client.post("/api/sessions", json=SMALL).status_code == 201
    assert "sessions" in error_of(client.post("/api/sessions", json=SMALL), 503)


def test_idle_sessions_are_reaped(client, session):
    manager = client.app.state.manager
    assert manager.reap() == []
    assert manager.reap(now=time.monotonic() + manager.idle_timeout + 1) == [session]
    assert client.get(f"/api/sessions/{session}").status_code == 404
