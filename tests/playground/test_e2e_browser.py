"""End to end in a real headless Chromium: build the network on the page, train it until the test
loss is low, and check the downloaded model predicts exactly what the server's network does.

Runs in Chromium through the fixtures of conftest.py (browser.py says what they need).

The bound: cross-entropy test loss below 0.1 (mean probability of the right class about 0.9) on the
two-arm spiral, with 2 hidden layers of 8 tanh neurons. As in the TF Playground, the spiral from
raw (x1, x2) alone takes thousands of epochs (measured: test loss 0.40 after 2130 SGD epochs), so
the page's sin x1 and sin x2 features are switched on too; with them and SGD + momentum the bound is
reached in about 50 epochs (about 1 s of training).
"""

import httpx
import numpy as np
import pytest

import deepnum as dn

pytestmark = pytest.mark.slow


def boundary_pixels(page):
    return page.evaluate("document.getElementById('boundary').toDataURL()")


def test_train_spiral_in_the_browser_and_download_the_model(tabs, server, tmp_path):
    tab = tabs(width=1300, height=860).open("speed=0")
    page, live_server, session = tab.page, server, tab.session
    page.select_option("#dataset", "spiral")
    page.wait_for_function("document.getElementById('data-info').textContent"
                           ".startsWith('spiral')")
    for feature in ("sin_x1", "sin_x2"):
        page.click(f"canvas[data-feature='{feature}']")
    page.select_option("#optimizer", "momentum")
    for layer, clicks in ((0, 4), (1, 6)):  # the default network is 4-2 tanh
        for _ in range(clicks):
            page.click(f".layer-controls[data-layer='{layer}'] .add-neuron")
    page.wait_for_function("location.hash.includes('hidden=8,8')")
    for layer in (0, 1):
        page.select_option(f".layer-controls[data-layer='{layer}'] select.activation", "tanh")
    settings = httpx.get(f"{live_server}/api/sessions/{session}").json()["settings"]
    assert settings["dataset"] == "spiral" and settings["hidden"] == [8, 8]
    assert settings["activations"] == ["tanh", "tanh"]
    assert settings["features"] == ["x1", "x2", "sin_x1", "sin_x2"]
    assert "dataset=spiral" in page.url and "features=x1,x2,sin_x1,sin_x2" in page.url

    before = boundary_pixels(page)
    page.check("#show-test")
    page.click("#play")
    page.wait_for_function("parseFloat(document.getElementById('test-loss').textContent) < 0.1",
                           timeout=40_000)
    page.click("#play")  # pause
    page.wait_for_function("document.getElementById('play').dataset.playing === '0'")
    epochs = int(page.text_content("#epoch"))
    assert epochs > 0 and boundary_pixels(page) != before
    shot = tab.screenshot(tmp_path / "playground.png", "playground-e2e.png")
    assert shot.stat().st_size > 10_000

    with page.expect_download() as download:
        page.click("#download-model")
    path = tmp_path / "model.safetensors"
    download.value.save_as(str(path))
    points = np.random.default_rng(0).uniform(-6, 6, (200, 2)).astype(np.float32)
    served = httpx.post(f"{live_server}/api/sessions/{session}/predict",
                        json={"points": points.tolist()}).json()["outputs"]
    state = httpx.get(f"{live_server}/api/sessions/{session}").json()
    # Training goes on until the pause lands, so the last epoch may be a little worse.
    assert min(h[2] for h in state["frame"]["history"]) < 0.1

    model, info = dn.load(path, return_metadata=True)
    assert info["playground"]["hidden"] == [8, 8] and info["epoch"] == state["frame"]["epoch"]
    model.eval()
    np.testing.assert_allclose(model(dn.tensor(points)).numpy(), served, rtol=1e-5, atol=1e-6)
    tab.check_clean()
