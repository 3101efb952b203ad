"""End to end in a real headless Chromium: build the network on the page, train it until the test
loss is low, and check the downloaded model predicts exactly what the server's network does.

Needs Debian's ``chromium`` and the ``playwright`` Python package (its own browser downloads are
never used: Playwright drives /usr/bin/chromium). Skips with the reason when either is missing.

The bound: cross-entropy test loss below 0.1 (mean probability of the right class about 0.9) on the
two-arm spiral, with 2 hidden layers of 8 tanh neurons. As in the TF Playground, the spiral from
raw (x1, x2) alone takes thousands of epochs (measured: test loss 0.40 after 2130 SGD epochs), so
the page's sin x1 and sin x2 features are switched on too; with them and SGD + momentum the bound is
reached in about 50 epochs (about 1 s of training).
"""

import os
import shutil

import httpx
import numpy as np
import pytest

import deepnum as dn

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = os.environ.get("DEEPNUM_SCREENSHOTS")  # a folder to keep the screenshot in, if set
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                       "(apt-get install -y chromium)"),
]


def boundary_pixels(page):
    return page.evaluate("document.getElementById('boundary').toDataURL()")


def test_train_spiral_in_the_browser_and_download_the_model(live_server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    outside = []
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            accept_downloads=True, viewport={"width": 1300, "height": 860})
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        def local_only(route):
            if route.request.url.startswith(live_server) or route.request.url.startswith("data:"):
                route.continue_()
            else:  # the page must work offline: nothing may leave 127.0.0.1
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", local_only)
        page.goto(f"{live_server}/")
        page.wait_for_selector("body[data-ready='1']")
        session = page.get_attribute("body", "data-session")

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
        shot = tmp_path / "playground.png"
        page.screenshot(path=str(shot))
        if SHOTS:
            shutil.copy(shot, os.path.join(SHOTS, "playground-e2e.png"))
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
        context.close()

    model, info = dn.load(path, return_metadata=True)
    assert info["playground"]["hidden"] == [8, 8] and info["epoch"] == state["frame"]["epoch"]
    model.eval()
    np.testing.assert_allclose(model(dn.tensor(points)).numpy(), served, rtol=1e-5, atol=1e-6)
    assert errors == [], errors
    assert outside == [], f"the page tried to reach the internet: {outside}"
