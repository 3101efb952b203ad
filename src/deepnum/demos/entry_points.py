"""Demo 14: entry points to the larger pieces of deepnum: MNIST, LeNet-5, AlexNet, LSTM, GAN and
DQN (the Playground's is in playground_demo.py).

Each says clearly what is missing when the part it stands on is not there (a model, the MNIST test
files, an example script, an optional package): such a demo is reported as unavailable, not failed.
The LSTM, GAN and DQN demos run the scripts in ``examples/`` and check the claim in the numbers
they return. GAN and DQN always use the scripts' quick ``--fast`` setting (their full runs take
many minutes: ``python examples/gan_digits.py``, ``python examples/dqn_cartpole.py``).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import numpy as np

import deepnum as dn
from deepnum.demos._train import accuracy, fit
from deepnum.demos.context import pyplot
from deepnum.demos.registry import DemoUnavailable, demo
from deepnum.errors import DataError


def _module(name: str, what: str):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise DemoUnavailable(f"{what} is not available ({e})") from None


def _build(name: str, **kwargs):
    models = _module("deepnum.models", "deepnum.models")
    if name not in models.MODELS:
        raise DemoUnavailable(f"no model {name!r} is registered in deepnum.models yet")
    return models.build(name, **kwargs)


def _summary(model, input_shape):
    return _module("deepnum.train.summary", "deepnum.train.summary").summary(model, input_shape)


def _summary_rows(s) -> list[dict]:
    return [dict(layer=f"{r.name or 'model'} ({r.layer})", output_shape=r.output_shape,
                 parameters=r.num_params) for r in s.rows if r.num_params or r.depth == 1]


def examples_dir() -> Path | None:
    """The source tree's examples/ folder (an editable install or a checkout), if there is one."""
    root = Path(__file__).resolve().parents[3]
    return root / "examples" if (root / "examples").is_dir() else None


def run_example(ctx, script: str, options=("--fast",)) -> dict:
    """Run ``examples/<script>.py``'s ``main(options + --out)`` into the demo's folder, collect its
    figures, and return the numbers it returns."""
    folder = examples_dir()
    path = folder / f"{script}.py" if folder else None
    if path is None or not path.exists():
        raise DemoUnavailable(f"examples/{script}.py is not there (the examples ship with the "
                              f"source tree, not the wheel)")
    spec = importlib.util.spec_from_file_location(f"deepnum_example_{script}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        results = module.main([*options, "--out", str(ctx.out_dir)])
    except SystemExit as e:  # the script's own "needs X" message
        raise DemoUnavailable(f"examples/{script}.py: {e}") from None
    except (DataError, ImportError) as e:
        raise DemoUnavailable(f"examples/{script}.py: {e}") from None
    for png in sorted(ctx.out_dir.glob("*.png")):
        ctx.figures.append((png.name, f"examples/{script}.py {' '.join(options)}: {png.stem}"
                                      .replace(" :", ":")))
    return results


def _mnist_test():
    data = _module("deepnum.data", "deepnum.data")
    try:
        return data.load_dataset("mnist-test")
    except DataError as e:
        raise DemoUnavailable(f"{e}\n(or point $DEEPNUM_DATA at a folder whose mnist/ holds "
                              f"them)") from None


@demo("mnist-mlp", "an MLP learns the real MNIST test digits (784 -> 128 -> 10)", core=False)
def mnist_mlp(ctx) -> None:
    data = _mnist_test()
    n_train = 2000 if ctx.fast else 8000
    x_train = data.x_train[:n_train].reshape(n_train, -1)
    y_train = data.y_train[:n_train]
    x_test, y_test = data.x_test.reshape(len(data.x_test), -1), data.y_test
    dn.manual_seed(0)
    model = _build("mlp", input_shape=(784,), num_classes=10, hidden=(128,))
    epochs = 3 if ctx.fast else 10
    losses = fit(model, x_train, y_train, epochs=epochs, lr=0.05, batch_size=64)
    test_acc, train_acc = accuracy(model, x_test, y_test), accuracy(model, x_train, y_train)
    ctx.table([dict(epoch=i + 1, train_loss=v) for i, v in enumerate(losses)], "loss",
              "Training loss per epoch")
    plt = pyplot()
    fig, axes = plt.subplots(2, 8, figsize=(10, 3))
    predicted = np.argmax(model(dn.Tensor(x_test[:16])).array, 1)
    for ax, image, label, guess in zip(axes.ravel(), x_test[:16], y_test[:16], predicted):
        ax.imshow(image.reshape(28, 28), cmap="gray_r")
        ax.set_title(f"{guess}" + ("" if guess == label else f" (is {label})"), fontsize=8,
                     color="k" if guess == label else "r")
        ax.axis("off")
    ctx.figure(fig, "predictions", "Sixteen held-out MNIST digits and the MLP's answers")
    ctx.say(f"A 784-128-10 ReLU MLP trained {epochs} epochs on {n_train} real MNIST digits "
            f"classifies {test_acc:.1%} of {len(y_test)} held-out digits correctly.")
    floor = 0.85 if ctx.fast else 0.93
    ctx.check("the MLP learns MNIST", test_acc >= floor,
              f"held-out accuracy {test_acc:.3f} >= {floor} (train {train_acc:.3f})")


@demo("lenet5", "LeNet-5: its layers and 61,706 parameters, and it trains", core=False)
def lenet5(ctx) -> None:
    dn.manual_seed(0)
    model = _build("lenet5")
    s = _summary(model, (1, 28, 28))
    ctx.table(_summary_rows(s), "summary", "LeNet-5 for 28x28 digits, layer by layer")
    # A real, quick check that gradients flow through conv and pooling: fit one fixed batch.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 16)
    losses = fit(model, x, y, epochs=20 if ctx.fast else 40, lr=3e-3, optimizer="adam")
    print(s)
    ctx.say(f"LeNet-5 has {s.total_params:,} parameters; on one fixed batch of 16 images its loss "
            f"falls from {losses[0]:.3f} to {losses[-1]:.3f}, so every layer passes gradients.")
    ctx.check("LeNet-5 has 61,706 parameters", s.total_params == 61_706, f"{s.total_params:,}")
    ctx.check("it learns (loss on a fixed batch at least halves)", losses[-1] <= 0.5 * losses[0],
              f"{losses[0]:.3f} -> {losses[-1]:.3f}")


@demo("alexnet", "AlexNet of the lecture: its summary and 62,378,344 parameters", core=False)
def alexnet(ctx) -> None:
    model = _build("alexnet")
    s = _summary(model, (3, 227, 227))
    rows = _summary_rows(s)
    ctx.table(rows, "summary", "AlexNet (227x227x3 input, 1000 classes), layer by layer")
    print(s)
    linear = [m for m in model.modules() if isinstance(m, dn.nn.Linear)]
    fc = sum(m.weight.array.size + m.bias.array.size for m in linear)
    slide = 9216 * 4096 * 4096
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    owned = [r for r in rows if r["parameters"]]
    ax.bar(range(len(owned)), [r["parameters"] for r in owned])
    ax.set_xticks(range(len(owned)), [r["layer"].split(" ")[0] for r in owned], rotation=45,
                  fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("parameters")
    ax.set_title(f"AlexNet: {s.total_params:,} parameters", fontsize=9)
    ctx.figure(fig, "parameters", "Parameters per layer: the fully connected layers hold most.")
    ctx.say(f"AlexNet has {s.total_params:,} parameters, {fc:,} ({fc / s.total_params:.0%}) in its "
            f"three fully connected layers. The slide's 9216 x 4096 x 4096 = {slide:,} multiplies "
            f"layer widths; the weights are 9216 x 4096 + 4096 x 4096 + 4096 x 1000 plus biases.")
    ctx.check("AlexNet has 62,378,344 parameters", s.total_params == 62_378_344,
              f"{s.total_params:,}")
    ctx.check("the fully connected layers hold 58,631,144 of them", fc == 58_631_144, f"{fc:,}")


@demo("lstm", "an LSTM forecasts a noisy series better than 'the next value is this one'",
      core=False)
def lstm(ctx) -> None:
    # The script's own --fast (4 epochs) is a smoke test that does not yet beat the naive forecast;
    # 12 epochs on a shorter series do, in seconds. The full demo runs the script's defaults.
    options = ("--length", "1200", "--epochs", "12", "--hidden", "16") if ctx.fast else ()
    r = run_example(ctx, "lstm_forecast", options)
    how = " ".join(options) or "(its defaults)"
    ctx.say(f"examples/lstm_forecast.py {how}: the LSTM's one-step forecast error is "
            f"{r['test_mse']:.4f} against {r['naive_last_value_mse']:.4f} for repeating the last "
            f"value (noise floor {r['noise_floor']:.4f}).")
    ctx.check("the LSTM beats the naive forecast", r["test_mse"] < r["naive_last_value_mse"],
              f"{r['test_mse']:.4f} < {r['naive_last_value_mse']:.4f}")
    ctx.check("training lowered the loss", r["final_train_mse"] < r["first_train_mse"],
              f"{r['first_train_mse']:.4f} -> {r['final_train_mse']:.4f}")


@demo("gan", "a GAN's generator moves its images towards real digits (a quick run)", core=False)
def gan(ctx) -> None:
    r = run_example(ctx, "gan_digits")
    ctx.say(f"examples/gan_digits.py --fast: the generated images moved from "
            f"{r['mean_image_gap_before']:.3f} to {r['mean_image_gap_after']:.3f} away from real "
            f"digits; a LeNet-5 judge finds {r['digits_found']}/10 digit classes among them.")
    ctx.check("the generator moves towards real digits",
              r["mean_image_gap_after"] < r["mean_image_gap_before"],
              f"{r['mean_image_gap_before']:.3f} -> {r['mean_image_gap_after']:.3f}")
    ctx.check("both players' losses stay finite",
              bool(np.all(np.isfinite(r["d_loss"])) and np.all(np.isfinite(r["g_loss"]))),
              f"last d {r['d_loss'][-1]:.3f}, g {r['g_loss'][-1]:.3f}")


@demo("dqn", "a DQN agent learns to balance CartPole", core=False)
def dqn(ctx) -> None:
    r = run_example(ctx, "dqn_cartpole")
    ctx.say(f"examples/dqn_cartpole.py --fast: {r['steps']} steps, {r['episodes']} episodes; mean "
            f"return of the first 10 episodes {r['first_episodes_mean_return']:.1f}, of the last "
            f"10 {r['last_episodes_mean_return']:.1f}; greedy policy {r['eval_mean_return']:.1f}.")
    ctx.check("the agent balances longer after training",
              r["last_episodes_mean_return"] > r["first_episodes_mean_return"],
              f"{r['first_episodes_mean_return']:.1f} -> {r['last_episodes_mean_return']:.1f}")

