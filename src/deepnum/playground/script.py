"""The current run as a short Python script using deepnum's public API: the step from the toy to
code. It rebuilds the data set, the features, the network, the optimizer and the seeds, trains
as many epochs as the page has, and prints the losses, which match the page's (the same
operations in the same order, so to float32 rounding).

>>> text = script(session)              # GET /api/sessions/{id}/script serves it
"""

from __future__ import annotations

from deepnum.models.playground import ACTIVATION_CLASSES
from deepnum.playground.settings import OPTIMIZERS, TOY_SETS

# Each feature as NumPy code on the columns x1, x2, as PointFeatures computes it.
FEATURE_CODE = {"x1": "x1", "x2": "x2", "x1^2": "x1 * x1", "x2^2": "x2 * x2",
                "x1*x2": "x1 * x2", "sin_x1": "np.sin(x1)", "sin_x2": "np.sin(x2)"}


def script(session, run_index: int = 0) -> str:
    with session.lock:
        run = session.runs[run_index]
        s, points, data, epoch = run.settings, session.points, session.data, session.epoch
        losses = session.losses()[2 * run_index: 2 * run_index + 2]
        lines = _header(session, run, s, epoch, losses)
        lines += _data(s, points, len(data.train_index), len(points.x))
        lines += _network(s, points.num_classes)
        lines += _training(s, points)
    return "\n".join(lines) + "\n"


def _header(session, run, s, epoch, losses) -> list[str]:
    name = f"network {run.name} of " if run.name else ""
    lines = ['"""' + f"The deepnum Playground's run: {name}{s['dataset']}, exported at epoch "
             f"{epoch}.", "",
             "Run it with `python` (pip install deepnum). It trains the same network on the same "
             "data,", "in the same order, and prints the losses as it goes."]
    if epoch:
        lines += [f"After {epoch} epochs the page showed training loss {losses[0]:.6f} and "
                  f"test loss {losses[1]:.6f}."]
    if not run.exact:
        lines += ["", "Not exactly the page's run, which this script cannot replay: "
                  + "; ".join(run.notes) + "."]
    return lines + ['"""', "import numpy as np", "", "import deepnum as dn",
                    "import deepnum.nn as nn", "import deepnum.nn.functional as F", "",
                    f"SEED = {s['seed']}",
                    f"EPOCHS = {epoch or 100}" + ("" if epoch else
                                                  "  # the page had not trained yet"),
                    f"BATCH_SIZE = {s['batch_size']}", ""]


def _data(s, points, num_train: int, n: int) -> list[str]:
    if s["dataset"] == "csv":
        offset, scale = points.offset, points.scale
        lines = [f"# The data: your file {points.source} (put it beside this script), moved into",
                 "# the Playground's square [-6, 6]^2 as the page does.",
                 f'x, y = dn.data.load_csv("{points.source}")',
                 f"x = (x - np.float32([{offset[0]!r}, {offset[1]!r}])) * "
                 f"np.float32([{scale[0]!r}, {scale[1]!r}])"]
    else:
        make = TOY_SETS[s["dataset"]].__name__
        classes = "" if points.task == "regression" else f", num_classes={s['num_classes']}"
        lines = [f"# The data: {n} points of the {s['dataset']} set, {num_train} of them for "
                 f"training.",
                 f"x, y = dn.data.{make}({s['num_samples']}, noise={s['noise']!r}, "
                 f"seed=SEED{classes})"]
    used = ", ".join(FEATURE_CODE[f] for f in s["features"])
    return lines + [
        "order = np.random.default_rng(SEED).permutation(len(x))",
        f"train, test = order[:{num_train}], order[{num_train}:]", "", "",
        "def features(points):",
        '    """The inputs the network sees: fixed functions of the coordinates (not learned)."""',
        "    x1, x2 = points[:, 0], points[:, 1]",
        f"    return np.stack([{used}], axis=1)", "", "",
        "x_train, y_train = features(x[train]), y[train]",
        "x_test, y_test = features(x[test]), y[test]", ""]


def _network(s, num_outputs: int) -> list[str]:
    sizes = [len(s["features"]), *s["hidden"], num_outputs]
    shape = " -> ".join([f"{sizes[0]} features"] + [
        f"{n} {a}" for n, a in zip(s["hidden"], s["activations"])] + [
        f"{num_outputs} output{'s' if num_outputs > 1 else ''}"])
    lines = [f"# The network: {shape}.", "dn.manual_seed(SEED)  # the initial weights",
             "model = nn.Sequential("]
    for i, (n, name) in enumerate(zip(s["hidden"], s["activations"])):
        layer = f"    nn.Linear({sizes[i]}, {n}), nn.{ACTIVATION_CLASSES[name]}(),"
        if s["dropout"] > 0:
            layer += f" nn.Dropout({s['dropout']!r}),"
        lines.append(layer)
    lines += [f"    nn.Linear({sizes[-2]}, {num_outputs}),", ")"]
    if s["dropout"] > 0:
        lines.append("dn.manual_seed(SEED)  # the dropout masks (the page seeds them the same)")
    optimizer_class, kwargs = OPTIMIZERS[s["optimizer"]]
    extra = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    lines += [f"optimizer = dn.optim.{optimizer_class.__name__}(model.parameters(), "
              f"lr={s['learning_rate']!r}{extra})",
              "shuffle = np.random.default_rng(SEED)  # the order of the points in each epoch",
              "", ""]
    return lines


def _training(s, points) -> list[str]:
    if s["loss"] == "cross_entropy":
        target, loss = "dn.from_numpy(target)", "F.cross_entropy"
    elif points.task == "regression":
        target, loss = "dn.from_numpy(target.reshape(-1, 1))", "F.mse_loss"
    else:
        target = f"dn.from_numpy(np.eye({points.num_classes}, dtype=np.float32)[target])"
        loss = "F.mse_loss"
    lines = ["def loss_of(output, target):", f"    return {loss}(output, {target})", "", "",
             "def evaluate(x, y):",
             '    """The loss on all these points, dropout off (as the page shows it)."""',
             "    model.eval()", "    with dn.no_grad():",
             "        loss = loss_of(model(dn.from_numpy(x)), y).item()", "    model.train()",
             "    return loss", "", ""]
    penalty = []
    if s["regularization"] != "none" and s["regularization_rate"] > 0:
        lines.insert(0, "weights = [m.weight for m in model if isinstance(m, nn.Linear)]")
        lines.insert(1, "")
        penalty = [f"        loss = loss + nn.utils.{s['regularization']}_penalty(weights) * "
                   f"{s['regularization_rate']!r}"]
    return lines + [
        "for epoch in range(1, EPOCHS + 1):",
        "    order = shuffle.permutation(len(x_train))",
        "    for first in range(0, len(order), BATCH_SIZE):",
        "        batch = order[first:first + BATCH_SIZE]",
        "        loss = loss_of(model(dn.from_numpy(x_train[batch])), y_train[batch])",
        *penalty,
        "        optimizer.zero_grad()", "        loss.backward()", "        optimizer.step()",
        "    if epoch % 10 == 0 or epoch == EPOCHS:",
        '        print(f"epoch {epoch}: training loss {evaluate(x_train, y_train):.6f}, "',
        '              f"test loss {evaluate(x_test, y_test):.6f}")']
