"""From the toy to code: the page's "Python script" runs with `python` and reaches the loss the page
shows. Tolerance: the page prints 3 decimals, so the script's loss must round to the same value
(|difference| <= 0.0005); against the server's own number it must agree to 2e-6 (the same
float32 operations in the same order: measured equal to all 6 printed digits)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

SRC = str(Path(__file__).resolve().parents[2] / "src")
LINE = re.compile(r"epoch (\d+): training loss ([\d.]+), test loss ([\d.]+)")


def test_the_exported_script_reaches_the_loss_shown_on_the_page(tabs, tmp_path):
    tab = tabs().open("dataset=spiral&features=x1,x2,sin_x1,sin_x2&hidden=8,8"
                      "&activations=tanh,tanh&optimizer=momentum&dropout=0.1&speed=10")
    tab.page.click("#play")
    tab.wait("Number(document.getElementById('epoch').textContent) >= 60")
    tab.page.click("#play")
    tab.wait("document.getElementById('play').dataset.playing === '0'")
    tab.page.wait_for_timeout(300)  # the frame that answers the pause
    epoch = int(tab.text("#epoch"))
    shown = float(tab.text("#test-loss")), float(tab.text("#train-loss"))
    with tab.page.expect_download() as download:
        tab.page.click("#export-script")
    path = tmp_path / "run.py"
    download.value.save_as(str(path))
    assert download.value.suggested_filename == "playground_spiral.py"
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=180, env=dict(os.environ, PYTHONPATH=SRC))
    assert done.returncode == 0, done.stderr
    last, train, test = LINE.findall(done.stdout)[-1]
    assert int(last) == epoch
    assert abs(float(test) - shown[0]) <= 0.0005 and abs(float(train) - shown[1]) <= 0.0005
    exact = httpx.get(f"{tab.base}/api/sessions/{tab.session}").json()["frame"]
    assert float(test) == pytest.approx(exact["test_loss"], abs=2e-6)
    assert float(train) == pytest.approx(exact["train_loss"], abs=2e-6)
    tab.check_clean()
