"""The push channel: step, play and pause stream frames; a closed socket ends the session."""

import pytest
from starlette.websockets import WebSocketDisconnect


def frames_until(ws, done, limit=500):
    """Receive frames until ``done(frame)``; fail after ``limit`` messages."""
    for _ in range(limit):
        message = ws.receive_json()
        assert message["type"] == "frame", message
        if done(message):
            return message
    pytest.fail(f"no matching frame in {limit} messages")


def next_error(ws, epochs):
    """Skip frames still on their way (all of the paused epoch) up to the next error message."""
    while (message := ws.receive_json())["type"] == "frame":
        assert message["epoch"] == epochs and not message["playing"]  # paused: no training
    return message["error"]


def test_step_play_pause_and_the_session_ends_with_the_socket(client, session):
    with client.websocket_connect(f"/api/sessions/{session}/socket") as ws:
        first = ws.receive_json()  # a frame on connect, so the page draws at once
        assert first["type"] == "frame" and first["epoch"] == 0
        ws.send_json({"type": "step"})
        stepped = ws.receive_json()
        assert stepped["epoch"] == 1 and [h[0] for h in stepped["history"]] == [1]
        ws.send_json({"type": "play"})
        playing = frames_until(ws, lambda f: f["epoch"] >= 5)
        assert playing["playing"] is True
        # Each frame carries only the epochs since the previous one: together, every epoch once.
        ws.send_json({"type": "pause"})
        ws.send_json({"type": "refresh"})
        paused = frames_until(ws, lambda f: not f["playing"])
        epochs = paused["epoch"]
        ws.send_json({"type": "dance"})  # an unknown message: answered with an error
        assert "play, pause" in next_error(ws, epochs)
        ws.send_text("{not json")
        assert "play, pause" in next_error(ws, epochs)
        state = client.get(f"/api/sessions/{session}").json()
        assert state["frame"]["epoch"] == epochs
        assert [h[0] for h in state["frame"]["history"]] == list(range(1, epochs + 1))
    # The tab went away: its session is gone.
    assert client.get(f"/api/sessions/{session}").status_code == 404


def test_history_pieces_add_up_to_every_epoch(client, session):
    seen = []
    with client.websocket_connect(f"/api/sessions/{session}/socket") as ws:
        ws.receive_json()
        ws.send_json({"type": "play"})
        for _ in range(6):
            frame = ws.receive_json()
            assert frame["history_from"] == len(seen)
            seen += [h[0] for h in frame["history"]]
        ws.send_json({"type": "pause"})
    assert seen == list(range(1, len(seen) + 1))


def test_a_reset_while_connected_starts_a_new_generation(client, session):
    with client.websocket_connect(f"/api/sessions/{session}/socket") as ws:
        before = ws.receive_json()
        ws.send_json({"type": "step"})
        ws.receive_json()
        client.post(f"/api/sessions/{session}/reset")
        ws.send_json({"type": "step"})
        after = ws.receive_json()
        assert after["generation"] > before["generation"]
        assert after["epoch"] == 1 and after["history_from"] == 0


def test_unknown_session_socket_is_told_and_closed(client):
    with client.websocket_connect("/api/sessions/nope/socket") as ws:
        assert "no such session" in ws.receive_json()["error"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4404


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point of the test
def test_diverging_training_stops_playing(client):
    state = client.post("/api/sessions", json={"num_samples": 60, "hidden": [8, 8],
                                                "activations": ["relu", "relu"],
                                                "loss": "mse", "learning_rate": 10.0}).json()
    with client.websocket_connect(f"/api/sessions/{state['id']}/socket") as ws:
        ws.receive_json()
        ws.send_json({"type": "play"})
        frame = frames_until(ws, lambda f: f["diverged"])
        assert "learning rate" in frame["stopped"] and frame["playing"] is False
