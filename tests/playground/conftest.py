"""Fixtures: the app in-process (starlette's TestClient) and a real uvicorn server on 127.0.0.1."""

import socket
import threading
import time

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient  # noqa: E402

from deepnum.playground.app import create_app  # noqa: E402

SMALL = {"num_samples": 100, "hidden": [4], "activations": ["tanh"]}


@pytest.fixture
def client():
    with TestClient(create_app(max_sessions=8)) as test_client:
        yield test_client


@pytest.fixture
def session(client):
    """A fresh session on a small circle data set: its id."""
    response = client.post("/api/sessions", json=SMALL)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def live_server():
    """uvicorn serving the Playground on a free port of 127.0.0.1; yields the base URL."""
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("websockets", reason="uvicorn's WebSocket support needs websockets")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(max_sessions=40), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
