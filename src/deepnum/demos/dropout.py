"""Demo 12: dropout on little data, and dropout as an ensemble of thinned networks.

Training drops each hidden unit with probability p, so each step trains a different thinned network
and the weights of a dropped unit's links get no update. At test time the lecture uses every unit
with W_test = (1 - p) W_train: in expectation a unit's input is then what it saw in training. The
demo checks that this single scaled network predicts like the ensemble it stands for: the average of
many thinned networks, each with its own random mask.

deepnum (like PyTorch) uses inverted dropout: it scales the kept units by 1 / (1 - p) in training,
so the trained weights W are already the lecture's (1 - p) W_train and eval mode needs no scaling.
The demo writes the lecture's W_train = W / (1 - p) explicitly and checks both views agree.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
import deepnum.nn.functional as F
from deepnum.demos._train import accuracy, fit, mlp, predict
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo

P = 0.5


def _thinned_ensemble(weights, biases, x, p: float, num_networks: int, seed: int = 0):
    """Average the softmax outputs of ``num_networks`` thinned networks (the lecture's W_train)."""
    rng = np.random.default_rng(seed)
    w_train = [weights[0]] + [w / (1 - p) for w in weights[1:]]  # layers fed by dropped units
    total = np.zeros((len(x), weights[-1].shape[0]))
    chunk = 25
    for start in range(0, num_networks, chunk):
        m = min(chunk, num_networks - start)
        a = np.broadcast_to(x, (m,) + x.shape)
        for i, (w, b) in enumerate(zip(w_train, biases)):
            z = a @ w.T + b
            if i == len(w_train) - 1:
                z = z - z.max(-1, keepdims=True)
                total += (np.exp(z) / np.exp(z).sum(-1, keepdims=True)).sum(0)
            else:
                a = np.maximum(z, 0) * (rng.random((m, 1, z.shape[-1])) >= p)  # one mask per net
    return total / num_networks, w_train


def _scaled_network(w_train, biases, x, p: float):
    """All units, outgoing weights of dropout-fed layers scaled: W_test = (1 - p) W_train."""
    a = x
    for i, (w, b) in enumerate(zip(w_train, biases)):
        z = a @ (w if i == 0 else (1 - p) * w).T + b
        a = z if i == len(w_train) - 1 else np.maximum(z, 0)
    return a


@demo("dropout", "dropout on little data; averaging thinned networks = scaling weights by (1 - p)")
def run(ctx) -> None:
    data = dn.data.load_dataset("digits")
    n_train = 200
    x_train = data.x_train.reshape(len(data.x_train), -1)[:n_train]
    y_train = data.y_train[:n_train]
    x_test, y_test = data.x_test.reshape(len(data.x_test), -1), data.y_test
    epochs = 40 if ctx.fast else 150
    rows, models = [], {}
    for name, p in (("no dropout", 0.0), (f"dropout p = {P}", P)):
        dn.manual_seed(0)
        model = mlp((64, 256, 256, 10), activation=dn.nn.ReLU, dropout=p)
        losses = fit(model, x_train, y_train, epochs=epochs, lr=0.05, batch_size=20)
        models[name] = model
        train_acc, test_acc = accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)
        rows.append(dict(model=name, train_accuracy=train_acc, test_accuracy=test_acc,
                         gap=train_acc - test_acc, final_train_loss=losses[-1]))
    ctx.table(rows, "accuracy", f"64-256-256-10 ReLU network, {n_train} training digits, "
                                f"{epochs} epochs of SGD")

    model = models[f"dropout p = {P}"]
    linears = [m for m in model if isinstance(m, dn.nn.Linear)]
    weights = [m.weight.array.astype(np.float64) for m in linears]
    biases = [m.bias.array.astype(np.float64) for m in linears]
    num_networks = 200 if ctx.fast else 2000
    ensemble, w_train = _thinned_ensemble(weights, biases, x_test.astype(np.float64), P,
                                          num_networks)
    scaled = _scaled_network(w_train, biases, x_test.astype(np.float64), P)
    deepnum_eval = predict(model, x_test)
    eval_gap = float(np.max(np.abs(scaled - deepnum_eval)))
    agree = float(np.mean(ensemble.argmax(1) == scaled.argmax(1)))
    acc_ensemble = float(np.mean(ensemble.argmax(1) == y_test))
    acc_scaled = float(np.mean(scaled.argmax(1) == y_test))
    ctx.table([dict(test_time_rule=f"average of {num_networks} thinned networks",
                    test_accuracy=acc_ensemble),
               dict(test_time_rule="one network, W_test = (1 - p) W_train",
                    test_accuracy=acc_scaled),
               dict(test_time_rule="deepnum eval mode (inverted dropout)",
                    test_accuracy=float(np.mean(deepnum_eval.argmax(1) == y_test)))],
              "ensemble", f"Test-time rules for the dropout network; predictions agree on "
                          f"{agree:.1%} of test digits")

    # "We do not update the weights of the links connecting to the dropped neurons."
    dn.manual_seed(1)
    model.train()
    hidden = model[2](model[1](model[0](dn.Tensor(x_train[:1]))))  # Linear, ReLU, Dropout
    dropped = hidden.array[0] == 0
    model.zero_grad()
    F.cross_entropy(model[3:](hidden), y_train[:1]).backward()
    untouched = bool(np.all(linears[1].weight.grad.array[:, dropped] == 0))

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    names = [r["model"] for r in rows]
    xs = np.arange(len(rows))
    axes[0].bar(xs - 0.2, [r["train_accuracy"] for r in rows], 0.4, label="train")
    axes[0].bar(xs + 0.2, [r["test_accuracy"] for r in rows], 0.4, label="test")
    axes[0].set_xticks(xs, names)
    axes[0].set_ylim(0.5, 1.02)
    axes[0].legend(fontsize=8)
    axes[0].set_title(f"{n_train} training digits", fontsize=9)
    top = ensemble.max(1)
    axes[1].scatter(np.exp(scaled - scaled.max(1, keepdims=True)).max(1)
                    / np.exp(scaled - scaled.max(1, keepdims=True)).sum(1), top, s=8)
    axes[1].plot([0, 1], [0, 1], "k--", lw=0.8)
    axes[1].set_xlabel("scaled network: top probability")
    axes[1].set_ylabel(f"mean of {num_networks} thinned networks")
    axes[1].set_title(f"ensemble vs W_test = (1-p) W_train: {agree:.1%} same predictions",
                      fontsize=9)
    ctx.figure(fig, "dropout", "Left: accuracy with and without dropout. Right: each test digit's "
                               "top probability, averaged over thinned networks against the one "
                               "weight-scaled network: the average is less sure (it mixes "
                               "disagreeing members) but picks the same digit.")
    plain, drop = rows
    ctx.say(f"On {n_train} digits dropout changes the test accuracy from "
            f"{plain['test_accuracy']:.3f} to {drop['test_accuracy']:.3f} and the train-test gap "
            f"from {plain['gap']:.3f} to {drop['gap']:.3f}. Averaging {num_networks} thinned "
            f"networks and scaling the weights by (1 - p) give the same prediction on "
            f"{agree:.1%} of the test digits (accuracy {acc_ensemble:.3f} vs {acc_scaled:.3f}).")
    ctx.check("dropout narrows the train-test gap", drop["gap"] < plain["gap"],
              f"{drop['gap']:.3f} < {plain['gap']:.3f}")
    ctx.check("deepnum's eval mode is the lecture's W_test = (1 - p) W_train", eval_gap < 1e-4,
              f"max |difference| of logits {eval_gap:.1e}")
    ctx.check("the thinned-network average predicts like the scaled network", agree >= 0.95,
              f"{agree:.3f} of predictions agree (>= 0.95)")
    ctx.check("and is as accurate", abs(acc_ensemble - acc_scaled) <= 0.02,
              f"|{acc_ensemble:.3f} - {acc_scaled:.3f}| <= 0.02")
    ctx.check("links of dropped units get no update", untouched and dropped.any(),
              f"{int(dropped.sum())} of {dropped.size} hidden units silent; their columns of dW "
              f"are all 0: {untouched}")
