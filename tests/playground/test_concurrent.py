"""Twenty browser tabs at once against a real uvicorn on 127.0.0.1: every session trains without
errors, and each one's losses are exactly those of the same network trained alone, so no session
ever saw another's network, data or optimizer."""

import asyncio
import json
import threading

import httpx
import numpy as np
import pytest

from deepnum.playground.sessions import Session
from deepnum.playground.settings import validate_settings

websockets = pytest.importorskip("websockets")

TABS = 20
EPOCHS = 6


def settings_of(tab: int) -> dict:
    """Each tab has its own data, layer sizes, activation and optimizer."""
    return {"dataset": ["circle", "xor", "gauss", "spiral"][tab % 4], "num_samples": 60,
            "seed": tab, "hidden": [1 + tab % 8, 1 + (tab * 3) % 8],
            "activations": [["tanh", "relu", "elu", "sigmoid"][tab % 4]] * 2,
            "optimizer": ["sgd", "adam", "momentum", "rmsprop"][tab % 4],
            "learning_rate": 0.03, "batch_size": 10,
            "dropout": 0.2 if tab % 3 == 0 else 0.0}  # each tab's own dropout masks


async def run_tab(http: httpx.AsyncClient, ws_base: str, tab: int) -> dict:
    created = await http.post("/api/sessions", json=settings_of(tab))
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    shapes = []
    async with websockets.connect(f"{ws_base}/api/sessions/{sid}/socket") as ws:
        await ws.send(json.dumps({"type": "speed", "epochs_per_frame": 0}))  # full speed
        await ws.send(json.dumps({"type": "play"}))
        while True:
            frame = json.loads(await ws.recv())
            assert frame["type"] == "frame", frame
            shapes.append([np.shape(w["weight"]) for w in frame["weights"]])
            if frame["epoch"] >= EPOCHS:
                break
        await ws.send(json.dumps({"type": "pause"}))
        await ws.send(json.dumps({"type": "refresh"}))
        while json.loads(await ws.recv())["playing"]:
            pass
        state = (await http.get(f"/api/sessions/{sid}")).json()
    # The socket closed: the server ended the session.
    for _ in range(100):
        if (await http.get(f"/api/sessions/{sid}")).status_code == 404:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail(f"tab {tab}: its session outlived its socket")
    return {"tab": tab, "shapes": shapes, "history": state["frame"]["history"],
            "settings": state["settings"]}


@pytest.mark.slow
def test_twenty_concurrent_sessions_train_in_isolation(live_server):
    ws_base = live_server.replace("http://", "ws://")

    async def main():
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
            return await asyncio.gather(*(run_tab(http, ws_base, tab) for tab in range(TABS)))

    # In a thread of its own: this worker may be driving Chromium with Playwright, whose sync
    # API keeps an event loop running in the main thread.
    results = []
    thread = threading.Thread(target=lambda: results.extend(
        asyncio.run(asyncio.wait_for(main(), timeout=50))))
    thread.start()
    thread.join()
    assert len(results) == TABS
    for result in results:
        hidden = settings_of(result["tab"])["hidden"]
        expected = [(hidden[0], 2), (hidden[1], hidden[0]), (2, hidden[1])]  # two classes
        assert all(shape == expected for shape in result["shapes"]), result["tab"]
        # Replay the same settings alone, in this process: the same losses epoch by epoch.
        alone = Session(validate_settings(settings_of(result["tab"])))
        epochs = len(result["history"])
        assert epochs >= EPOCHS and [h[0] for h in result["history"]] == list(range(1, epochs + 1))
        alone.train(epochs)
        np.testing.assert_allclose(np.array(result["history"]), np.array(alone.history.rows),
                                   rtol=1e-5, atol=1e-7, err_msg=f"tab {result['tab']}")
