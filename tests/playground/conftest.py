"""Fixtures: the app in-process (starlette's TestClient), a real uvicorn server on 127.0.0.1, and
headless Chromium tabs on it."""

import contextlib
import socket
import threading
import time

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient  # noqa: E402

from deepnum.playground.app import create_app  # noqa: E402

from .browser import CHROMIUM, FLAGS, Tab  # noqa: E402

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


@contextlib.contextmanager
def uvicorn_server(**options):
    """uvicorn serving the Playground on a free port of 127.0.0.1; yields the base URL."""
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("websockets", reason="uvicorn's WebSocket support needs websockets")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(max_sessions=40, **options), log_level="warning",
                            ws_max_size=65536)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def live_server():
    with uvicorn_server() as url:
        yield url


@pytest.fixture(scope="module")
def server():
    """One uvicorn for a whole test module (each tab has its own session anyway)."""
    with uvicorn_server() as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, driven by Playwright (never Playwright's own browser download)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def tabs(chromium, server):
    """Make tabs: ``tabs(width=1024)`` is a fresh browser context (no cookies, no storage) with
    one Playground page; all are closed after the test."""
    contexts = []

    def make(width: int = 1280, height: int = 800) -> Tab:
        context = chromium.new_context(viewport={"width": width, "height": height},
                                       accept_downloads=True)
        context.set_default_timeout(30_000)  # a machine shared with other work is slow
        contexts.append(context)
        return Tab(context, server)

    yield make
    for context in contexts:
        context.close()
