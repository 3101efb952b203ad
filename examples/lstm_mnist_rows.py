"""Sequence classification: an LSTM reads each digit row by row (28 steps of 28 pixels).

The network sees one row at a time and must carry what it has seen in its memory cell until the
last row, then name the digit from its final hidden state h_28. Data: the 10,000 real MNIST test
digits, a seeded 80% to train on and the other 20% held out (never trained on) to measure accuracy.

    python examples/lstm_mnist_rows.py --out runs/lstm_mnist            # full run
    python examples/lstm_mnist_rows.py --fast --out /tmp/lstm_fast     # seconds
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


def accuracy(model, x: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    model.eval()
    correct = 0
    with dn.no_grad():
        for i in range(0, len(x), batch):
            predicted = model(dn.tensor(x[i:i + batch])).numpy().argmax(1)
            correct += int((predicted == y[i:i + batch]).sum())
    model.train()
    return correct / len(x)


def main(argv=None) -> dict:
    p = _common.parser(__doc__.splitlines()[0], "runs/lstm_mnist_rows")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=1.0, help="max gradient norm (clip_grad_norm_)")
    args = p.parse_args(argv)
    out = _common.setup(args)
    timer = _common.Timer()

    images, labels = _common.load_mnist_test()
    train_idx, test_idx = _common.split_80_20(len(images), args.seed)
    if args.fast:
        train_idx, test_idx = train_idx[:1000], test_idx[:300]
        args.epochs, args.hidden, args.lr = 3, 32, 1e-2
    x_train, y_train = images[train_idx], labels[train_idx]
    x_test, y_test = images[test_idx], labels[test_idx]

    model = build("lstm-rows", hidden_size=args.hidden)
    optimizer = _common.adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    history = {"loss": [], "test_accuracy": []}
    print(f"LSTM({28}, {args.hidden}) reads 28 rows of 28 pixels; {len(x_train)} train, "
          f"{len(x_test)} held-out digits, {model.num_parameters()} parameters")
    for epoch in range(args.epochs):
        lr = args.lr * 0.5 * (1 + np.cos(np.pi * epoch / args.epochs))   # cosine decay
        for group in optimizer.param_groups:
            group["lr"] = lr
        order = rng.permutation(len(x_train))
        losses = []
        for i in range(0, len(order), args.batch_size):
            batch = order[i:i + args.batch_size]
            loss = F.cross_entropy(model(dn.tensor(x_train[batch])), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            dn.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            losses.append(loss.item())
        history["loss"].append(float(np.mean(losses)))
        history["test_accuracy"].append(accuracy(model, x_test, y_test))
        print(f"epoch {epoch + 1:2d}  loss {history['loss'][-1]:.4f}  "
              f"held-out accuracy {history['test_accuracy'][-1]:.4f}  ({timer.seconds}s)")

    plt = _common.pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    a1.plot(range(1, args.epochs + 1), history["loss"], marker="o")
    a1.set(xlabel="epoch", ylabel="training loss", title="cross-entropy")
    a2.plot(range(1, args.epochs + 1), history["test_accuracy"], marker="o", color="C1")
    a2.set(xlabel="epoch", ylabel="accuracy", title="held-out 20% of MNIST test digits")
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)
    _common.save_model(model, out / "model.safetensors", {"example": "lstm_mnist_rows"})

    results = {"train_size": len(x_train), "test_size": len(x_test), "epochs": args.epochs,
               "hidden": args.hidden, "final_loss": history["loss"][-1],
               "first_loss": history["loss"][0],
               "test_accuracy": history["test_accuracy"][-1], "seconds": timer.seconds,
               "cpu_seconds": timer.cpu_seconds}
    print(f"held-out accuracy {results['test_accuracy']:.4f} after {args.epochs} epochs "
          f"in {results['seconds']}s; plots and model in {out}")
    return _common.write_results(out, results)


if __name__ == "__main__":
    main()
