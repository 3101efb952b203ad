"""Demo 14, playground: the lecture's Playground experiment, headless, then the Playground itself.

The lecture trains the TensorFlow Playground's default network on its circle data for 500 epochs
("an epoch = one forward pass and one backward pass of all the training examples"). deepnum's
Playground has the same defaults: 500 points, half for training, inputs x1 and x2, hidden layers of
4 and 2 tanh units, batch size 10, learning rate 0.03. The demo trains that network for the
lecture's 500 epochs (fewer with --fast), checks the Playground page is served, and, when run alone
from a terminal (``deepnum demo playground``), starts the Playground on that setup in the browser.
"""

from __future__ import annotations

import threading
import warnings
import webbrowser

import deepnum as dn
from deepnum.demos._train import accuracy, boundary, fit, predict
from deepnum.demos.context import pyplot
from deepnum.demos.entry_points import _build, _module
from deepnum.demos.registry import DemoUnavailable, demo

SETUP = {"dataset": "circle", "num_samples": 500, "noise": 0.0, "train_ratio": 0.5,
         "batch_size": 10, "learning_rate": 0.03, "hidden": [4, 2],
         "activations": ["tanh", "tanh"], "features": ["x1", "x2"]}
PORT = 8000


def setup_url(port: int = PORT) -> str:
    """The Playground's address with the lecture's setup in its #hash (the page reads it)."""
    parts = [f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in SETUP.items()]
    return f"http://127.0.0.1:{port}/#" + "&".join(parts)


def _page_served() -> tuple[bool, str]:
    app_module = _module("deepnum.playground.app",
                         "the Playground (pip install 'deepnum[playground]')")
    try:
        with warnings.catch_warnings():  # starlette's note that it prefers httpx2 to httpx
            warnings.filterwarnings("ignore", message=".*httpx.*")
            from starlette.testclient import TestClient
    except ImportError as e:  # TestClient needs httpx
        raise DemoUnavailable(f"checking the Playground page needs httpx ({e})") from None
    with TestClient(app_module.create_app()) as client:
        page, options = client.get("/"), client.get("/api/options")
    ok = page.status_code == 200 and "<html" in page.text.lower() and options.status_code == 200
    return ok, f"GET / -> {page.status_code}, GET /api/options -> {options.status_code}"


@demo("playground", "the lecture's Playground experiment (circle, 4-2 tanh, 500 epochs); "
                    "opens the Playground", core=False)
def run(ctx) -> None:
    data = dn.data.load_dataset("circle", n=SETUP["num_samples"], noise=SETUP["noise"], seed=0,
                                test_fraction=1 - SETUP["train_ratio"])
    dn.manual_seed(0)
    model = _build("playground", features=SETUP["features"], hidden=SETUP["hidden"],
                   activations=SETUP["activations"], num_outputs=2)
    epochs = 60 if ctx.fast else 500
    losses = fit(model, data.x_train, data.y_train, epochs=epochs, lr=SETUP["learning_rate"],
                 batch_size=SETUP["batch_size"], momentum=0.0)
    train_acc = accuracy(model, data.x_train, data.y_train)
    test_acc = accuracy(model, data.x_test, data.y_test)
    served, detail = _page_served()

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    boundary(axes[0], lambda p: predict(model, p).argmax(1), data.x_test, data.y_test,
             f"test points after {epochs} epochs: accuracy {test_acc:.2f}")
    axes[1].semilogy(range(1, epochs + 1), losses)
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("training loss")
    ctx.figure(fig, "playground", "The Playground's default network on its circle data, trained "
                                  "headless as in the lecture's demonstration.")
    ctx.table([dict(epochs=epochs, train_accuracy=train_acc, test_accuracy=test_acc,
                    final_loss=losses[-1], url=setup_url())], "playground",
              "The lecture's Playground setup, trained headless")
    ctx.say(f"The Playground's 2-4-2-2 tanh network learns the circle data in {epochs} epochs "
            f"(test accuracy {test_acc:.2f}). Open it yourself: deepnum playground, then "
            f"{setup_url()}")
    floor = 0.9 if ctx.fast else 0.97
    ctx.check("the lecture's network separates the circle", test_acc >= floor,
              f"test accuracy {test_acc:.3f} >= {floor}")
    ctx.check("the Playground page is served", served, detail)
    if getattr(ctx, "interactive", False):
        serve = _module("deepnum.playground.server", "the Playground").serve
        print(f"starting the Playground at {setup_url()} (Ctrl-C stops it)")
        threading.Timer(1.5, webbrowser.open, args=(setup_url(),)).start()
        serve(port=PORT)

