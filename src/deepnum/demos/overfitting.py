"""Demo 10: a large network on little data overfits; early stopping keeps the better test accuracy.

A 2-64-64-2 ReLU network (4,500 weights) learns 40 noisy XOR points. Training accuracy climbs to
100% while the accuracy on unseen points peaks early and then falls: the network memorises the
noise. Early stopping watches the loss on a separate validation set, stops after ``patience`` epochs
without improvement and restores the best epoch's weights; the test set, never looked at while
training, shows what that keeps.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
from deepnum.demos._train import fit, mlp, predict
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo

PATIENCE = 10


def loss_and_accuracy(model, x, y) -> tuple[float, float]:
    out = predict(model, x).astype(np.float64)
    logp = out - out.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean()), float((out.argmax(1) == y).mean())


@demo("overfitting", "a big network on little data overfits; early stopping keeps test accuracy")
def run(ctx) -> None:
    epochs = 60 if ctx.fast else 150
    x, y = dn.data.make_xor(n=640, noise=0.25, seed=0)
    x = (x / 3).astype(np.float32)
    x_train, y_train = x[:40], y[:40]
    x_val, y_val = x[40:240], y[40:240]
    x_test, y_test = x[240:], y[240:]
    dn.manual_seed(0)
    model = mlp((2, 64, 64, 2), activation=dn.nn.ReLU)
    history, snapshots = [], {}

    def record(epoch, model):
        row = {"epoch": epoch + 1}
        for name, (xs, ys) in dict(train=(x_train, y_train), val=(x_val, y_val),
                                   test=(x_test, y_test)).items():
            row[f"{name}_loss"], row[f"{name}_accuracy"] = loss_and_accuracy(model, xs, ys)
        history.append(row)
        snapshots[epoch + 1] = {k: v.clone() for k, v in model.state_dict().items()}

    fit(model, x_train, y_train, epochs=epochs, lr=0.01, optimizer="adam", on_epoch=record)
    # Early stopping, replayed over the recorded curve: the same decisions it takes online.
    best, waited, stop = history[0], 0, None
    for row in history[1:]:
        if row["val_loss"] < best["val_loss"]:
            best, waited = row, 0
        else:
            waited += 1
            if waited >= PATIENCE:
                stop = row["epoch"]
                break
    model.load_state_dict(snapshots[best["epoch"]])  # restore_best_weights
    kept_loss, kept_acc = loss_and_accuracy(model, x_test, y_test)
    last = history[-1]

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ep = [r["epoch"] for r in history]
    for name, style in (("train", "-"), ("val", "--"), ("test", "-")):
        axes[0].plot(ep, [r[f"{name}_accuracy"] for r in history], style, label=name)
        axes[1].plot(ep, [r[f"{name}_loss"] for r in history], style, label=name)
    for ax in axes:
        ax.axvline(best["epoch"], color="k", lw=0.8, ls=":", label=f"best epoch {best['epoch']}")
        if stop:
            ax.axvline(stop, color="r", lw=0.8, ls=":", label=f"early stop at {stop}")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("accuracy")
    axes[1].set_ylabel("cross-entropy")
    axes[1].set_yscale("log")
    axes[0].set_title("40 noisy XOR points, 2-64-64-2 ReLU, Adam", fontsize=9)
    ctx.figure(fig, "curves", "Training, validation and test accuracy and loss per epoch; early "
                              "stopping (patience 10 on validation loss) and the epoch it keeps.")
    ctx.table(history, "history", "Per-epoch accuracy and loss")
    summary = [dict(model=f"after all {last['epoch']} epochs",
                    train_accuracy=last["train_accuracy"],
                    test_accuracy=last["test_accuracy"], test_loss=last["test_loss"]),
               dict(model=f"early stopping (best epoch {best['epoch']}, stopped at {stop})",
                    train_accuracy=best["train_accuracy"], test_accuracy=kept_acc,
                    test_loss=kept_loss)]
    ctx.table(summary, "early_stopping", "What early stopping keeps")
    ctx.say(f"Training accuracy reaches {last['train_accuracy']:.2f} while test accuracy falls "
            f"from {best['test_accuracy']:.2f} (epoch {best['epoch']}) to "
            f"{last['test_accuracy']:.2f} (epoch {last['epoch']}); early stopping stops at epoch "
            f"{stop} and keeps a test accuracy of {kept_acc:.2f}.")
    ctx.check("the network memorises its 40 training points", last["train_accuracy"] >= 0.99,
              f"train accuracy {last['train_accuracy']:.3f}")
    gap = last["train_accuracy"] - last["test_accuracy"]
    ctx.check("it generalises much worse than it trains", gap >= 0.1,
              f"train - test accuracy {gap:.3f} >= 0.1")
    ctx.check("validation loss rises after its minimum (overfitting)",
              last["val_loss"] > 1.5 * best["val_loss"],
              f"{last['val_loss']:.3f} > 1.5 x {best['val_loss']:.3f}")
    ctx.check("early stopping stops before the end", stop is not None and stop < last["epoch"],
              f"stopped at epoch {stop} of {last['epoch']}")
    ctx.check("the restored weights are the best epoch's",
              abs(kept_acc - best["test_accuracy"]) < 1e-12, f"test accuracy {kept_acc:.4f}")
    ctx.check("early stopping keeps a better test accuracy than training on",
              kept_acc > last["test_accuracy"],
              f"{kept_acc:.3f} > {last['test_accuracy']:.3f}")
