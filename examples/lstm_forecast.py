"""Forecasting: an LSTM predicts the next value of a noisy sum of sines, one step ahead.

The series is x_t = sin(2 pi t / 25) + 0.5 sin(2 pi t / 7.3) + 0.3 sin(2 pi t / 60) + noise
(sigma 0.1). The first 75% of it trains the network on windows of 50 steps (target: the window
shifted by one); the last 25% is the test: the LSTM reads it step by step and predicts each next
value. We compare its mean squared error with the naive forecast "the next value equals this one"
and with the noise floor sigma^2 = 0.01 that no forecaster can beat.

    python examples/lstm_forecast.py --out runs/lstm_forecast
    python examples/lstm_forecast.py --fast --out /tmp/forecast_fast
"""

from __future__ import annotations

import sys

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
import _common  # noqa: E402

import deepnum as dn  # noqa: E402
import deepnum.nn.functional as F  # noqa: E402
from deepnum.models import build  # noqa: E402

NOISE = 0.1


def sum_of_sines(length: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(length)
    clean = (np.sin(2 * np.pi * t / 25) + 0.5 * np.sin(2 * np.pi * t / 7.3)
             + 0.3 * np.sin(2 * np.pi * t / 60))
    return (clean + NOISE * rng.standard_normal(length)).astype(np.float32)


def windows(series: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """All windows of ``width`` steps (N, width, 1) and the same windows shifted one step ahead."""
    idx = np.arange(len(series) - width)[:, None] + np.arange(width)[None, :]
    return series[idx][..., None], series[idx + 1][..., None]


def main(argv=None) -> dict:
    p = _common.parser(__doc__.splitlines()[0], "runs/lstm_forecast")
    p.add_argument("--length", type=int, default=4000)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-3)
    args = p.parse_args(argv)
    out = _common.setup(args)
    timer = _common.Timer()
    if args.fast:
        args.length, args.epochs, args.hidden = 800, 4, 16

    rng = np.random.default_rng(args.seed)
    series = sum_of_sines(args.length, rng)
    cut = int(0.75 * len(series))
    x_train, y_train = windows(series[:cut], 50)
    model = build("lstm-forecast", hidden_size=args.hidden)
    optimizer = _common.adam(model.parameters(), lr=args.lr)
    losses = []
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        epoch_losses = []
        for i in range(0, len(order), 64):
            batch = order[i:i + 64]
            loss = F.mse_loss(model(dn.tensor(x_train[batch])), dn.tensor(y_train[batch]))
            optimizer.zero_grad()
            loss.backward()
            dn.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            epoch_losses.append(loss.item())
        losses.append(float(np.mean(epoch_losses)))
        print(f"epoch {epoch + 1:2d}  train MSE {losses[-1]:.4f}  ({timer.seconds}s)")

    # Test: read the whole series once (the LSTM keeps its state), score only the held-out part.
    model.eval()
    with dn.no_grad():
        prediction = model(dn.tensor(series[None, :-1, None])).numpy()[0, :, 0]
    truth = series[1:]
    test = slice(cut, None)                      # predictions of x_{cut+1} ... x_end
    mse = float(np.mean((prediction[test] - truth[test]) ** 2))
    naive = float(np.mean((series[:-1][test] - truth[test]) ** 2))

    plt = _common.pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.5), gridspec_kw={"width_ratios": [3, 1]})
    steps = np.arange(len(truth))[test][:200] + 1
    a1.plot(steps, truth[test][:200], label="truth", color="k", lw=1)
    a1.plot(steps, prediction[test][:200], label=f"LSTM (MSE {mse:.4f})", color="C1", lw=1.2)
    a1.set(xlabel="t", title="one-step-ahead forecast on the held-out series")
    a1.legend(loc="upper right")
    a2.plot(range(1, args.epochs + 1), losses, marker="o")
    a2.set(xlabel="epoch", ylabel="train MSE", yscale="log")
    fig.tight_layout()
    fig.savefig(out / "forecast.png", dpi=100)
    plt.close(fig)
    _common.save_model(model, out / "model.safetensors", {"example": "lstm_forecast"})

    results = {"test_mse": mse, "naive_last_value_mse": naive, "noise_floor": NOISE ** 2,
               "first_train_mse": losses[0], "final_train_mse": losses[-1],
               "epochs": args.epochs, "seconds": timer.seconds,
               "cpu_seconds": timer.cpu_seconds}
    print(f"test MSE {mse:.4f} vs naive last-value {naive:.4f} (noise floor {NOISE ** 2:.4f}); "
          f"{timer.seconds}s; plot and model in {out}")
    return _common.write_results(out, results)


if __name__ == "__main__":
    main()
