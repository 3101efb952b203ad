"""Training on the server: divergence never reaches JSON and is recovered from, the history is
bounded, the compare view's two networks share data and clock, the loaded model brings its
settings, and the problem type brings its loss."""

import json

import numpy as np
import pytest

from deepnum.playground.history import MAX_POINTS, History
from deepnum.playground.sessions import Session
from deepnum.playground.settings import validate_settings

from .conftest import SMALL
from .test_hostile_input import strict

DIVERGING = {"dataset": "plane", "loss": "mse", "hidden": [8, 8], "activations": ["relu", "relu"],
             "num_samples": 100, "learning_rate": 10.0}


@pytest.mark.parametrize("recover", [{"learning_rate": 0.01}, {"noise": 0.1}, "reset"])
def test_a_diverged_run_pauses_with_the_cause_and_any_change_recovers(client, recover):
    sid = client.post("/api/sessions", json=DIVERGING).json()["id"]
    with client.websocket_connect(f"/api/sessions/{sid}/socket") as ws:
        ws.receive_text()
        ws.send_json({"type": "speed", "epochs_per_frame": 0})
        ws.send_json({"type": "play"})
        for _ in range(200):
            frame = strict(ws.receive_text())  # no bare NaN, ever
            if frame["stopped"]:
                break
        assert not frame["playing"] and "learning rate 10" in frame["stopped"]
        assert "Lower the learning rate" in frame["stopped"]
        assert all(np.isfinite(v) for row in frame["history"] for v in row)
        state = client.get(f"/api/sessions/{sid}")
        assert state.status_code == 200 and strict(state.text)["frame"]["stopped"]
        if recover == "reset":
            response = client.post(f"/api/sessions/{sid}/reset")
        else:
            response = client.put(f"/api/sessions/{sid}/settings", json=recover)
        assert response.status_code == 200, response.text
        after = strict(response.text)
        assert after["frame"]["stopped"] is None and after["frame"]["epoch"] == 0
        if recover != "reset":
            assert all(after["settings"][k] == v for k, v in recover.items())
        # Still at learning rate 10, these would diverge again: lower it, then train on.
        client.put(f"/api/sessions/{sid}/settings", json={"learning_rate": 0.01})
        ws.send_json({"type": "step"})
        frame = strict(ws.receive_text())
        while frame["epoch"] == 0:
            frame = strict(ws.receive_text())
        assert frame["epoch"] == 1 and np.isfinite(frame["train_loss"])


def test_play_is_refused_while_diverged_until_something_changes(client):
    sid = client.post("/api/sessions", json=DIVERGING).json()["id"]
    frame = client.post(f"/api/sessions/{sid}/train", json={"epochs": 50}).json()
    assert frame["stopped"] and frame["epoch"] < 50
    again = client.post(f"/api/sessions/{sid}/train", json={"epochs": 5}).json()
    assert again["epoch"] == frame["epoch"] and again["stopped"] == frame["stopped"]


def test_the_history_is_thinned_and_bounded():
    history = History(limit=8)
    for epoch in range(1, 1001):
        if history.due(epoch):
            history.add([epoch, 1.0 / epoch, 1.0])
    epochs = [row[0] for row in history.rows]
    assert len(epochs) <= 8 and epochs[-1] >= 1000 - history.stride and epochs[0] == 1
    rest = epochs[1:]  # after the first epoch, evenly spaced
    assert all(b - a == history.stride for a, b in zip(rest, rest[1:]))


def test_a_long_run_keeps_the_state_small():
    session = Session(validate_settings({"num_samples": 10, "batch_size": 1000, "hidden": []}))
    session.train(3 * MAX_POINTS)
    assert session.epoch == 3 * MAX_POINTS and len(session.history) <= MAX_POINTS
    size = len(json.dumps(session.state()))
    assert size < 150_000, size  # the page's whole state; 1.6 MB at 30,000 epochs before


def test_frames_send_the_whole_history_after_thinning(client):
    sid = client.post("/api/sessions", json={"num_samples": 10, "batch_size": 1000,
                                             "hidden": []}).json()["id"]
    rows = []
    with client.websocket_connect(f"/api/sessions/{sid}/socket") as ws:
        ws.receive_json()
        ws.send_json({"type": "speed", "epochs_per_frame": 300})
        ws.send_json({"type": "play"})
        while True:
            frame = ws.receive_json()
            rows = frame["history"] if frame["history_from"] == 0 else \
                rows[:frame["history_from"]] + frame["history"]
            if frame["epoch"] >= 1300:  # thinned once (at 1001), the next is at 2002
                break
        ws.send_json({"type": "pause"})
        while (last := ws.receive_json())["playing"] or last["history_from"]:
            pass  # up to the frame that answers the pause with the whole table
    assert frame["history_version"] == last["history_version"] == 1
    assert len(rows) <= MAX_POINTS and last["history_from"] == 0
    assert rows == last["history"][:len(rows)]  # what the page pieced together is the table


def test_compare_trains_two_networks_on_one_clock(client, session):
    url = f"/api/sessions/{session}/compare"
    state = client.put(url, json={"hidden": [8, 8], "activations": ["relu", "relu"]}).json()
    assert state["compare"]["hidden"] == [8, 8] and state["settings"]["hidden"] == [4]
    frame = client.post(f"/api/sessions/{session}/train", json={"epochs": 10}).json()
    assert all(len(row) == 5 for row in frame["history"])  # epoch, A's losses, B's losses
    assert frame["history"][-1][0] == 10 and frame["compare"]["output"]["size"] == 100
    assert frame["compare"]["test_loss"] == pytest.approx(frame["history"][-1][4], rel=1e-5)
    # B alone in its own session, with the same data and seed: the same losses.
    alone = client.post("/api/sessions", json=dict(SMALL, hidden=[8, 8],
                                                   activations=["relu", "relu"])).json()["id"]
    b = client.post(f"/api/sessions/{alone}/train", json={"epochs": 10}).json()
    np.testing.assert_allclose([r[3:] for r in frame["history"]],
                               [r[1:] for r in b["history"]], rtol=1e-5)
    # Data is shared: a new data set changes both; B keeps its own network.
    state = client.put(f"/api/sessions/{session}/settings", json={"dataset": "xor"}).json()
    assert state["compare"]["hidden"] == [8, 8] and state["frame"]["epoch"] == 0
    assert "shares" in client.put(url, json={"dataset": "spiral"}).json()["error"]
    assert client.delete(url).json()["compare"] is None


def test_a_loaded_model_brings_its_data_set_optimizer_and_rate(client, session):
    client.put(f"/api/sessions/{session}/settings",
               json={"dataset": "spiral", "optimizer": "adam", "learning_rate": 0.01,
                     "hidden": [5]})
    saved = client.get(f"/api/sessions/{session}/model").content
    client.put(f"/api/sessions/{session}/settings",
               json={"dataset": "xor", "optimizer": "sgd", "learning_rate": 0.3, "hidden": [2]})
    files = {"file": ("net.safetensors", saved, "application/octet-stream")}
    settings = client.post(f"/api/sessions/{session}/model", files=files).json()["settings"]
    assert (settings["dataset"], settings["optimizer"], settings["learning_rate"],
            settings["hidden"]) == ("spiral", "adam", 0.01, [5])


def test_the_problem_type_brings_its_loss(client, session):
    url = f"/api/sessions/{session}/settings"
    assert client.put(url, json={"dataset": "plane"}).json()["settings"]["loss"] == "mse"
    state = client.put(url, json={"dataset": "circle", "loss": "cross_entropy"}).json()
    assert state["settings"]["loss"] == "cross_entropy"


@pytest.mark.parametrize("body, words", [
    ({"noise": None}, "noise: must be a number from 0.0 to 0.5; got null"),
    ({"hidden": [2] * 7}, "hidden: at most 6 items"),
    ({"seed": -1}, "seed: must be a whole number from 0 to"),
])
def test_messages_say_what_is_allowed_in_json_terms(client, session, body, words):
    message = client.put(f"/api/sessions/{session}/settings", json=body).json()["error"]
    assert words in message and "None" not in message


@pytest.mark.parametrize("content, words", [
    (b"x1,x2,label\n1,2,0\n3,4,0\n5,6,0\n7,8,0\n", "only 1 class;"),
    (b"1,2,0\n3,oops,1\n4,5,0\n6,7,1\n", "line 2, column 2: 'oops'"),
    (b"x,y\n" * 300_000, "limit of 1 MiB"),
])
def test_csv_messages_read_well(client, session, content, words):
    response = client.post(f"/api/sessions/{session}/data",
                           files={"file": ("p.csv", content, "text/csv")})
    message = response.json()["error"]
    assert words in message and "1 classes" not in message and "(column 2)" not in message
    assert "1048576" not in message
