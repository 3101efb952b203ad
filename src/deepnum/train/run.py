"""A whole training run from a config dict: data, model, training, test, files. ``deepnum train``.

:func:`train_run` writes into ``out``: ``model.safetensors`` (the final model, loadable with
``dn.load``), ``config.json``, ``metrics.json`` (test_accuracy, test_loss, epochs_run, seconds...),
``history.csv``, ``checkpoint.safetensors`` (written after every epoch, for ``resume``) and the
plots ``curves.png``, ``confusion_matrix.png`` and ``first_layer.png``; with ``trace`` also
``gradient_flow.png``, ``gradient_stats.csv``, ``trace.txt`` and ``trace.png`` (GradientStats),
with ``tensorboard`` event files in ``tensorboard/``.

>>> result = train_run({**DEFAULTS, "epochs": 5}, out="runs/quick")
>>> result["metrics"]["test_accuracy"]
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

DEFAULTS = {
    "dataset": "digits",
    "data_dir": None,
    "download": False,
    "model": "mlp",
    "hidden": [256, 128],
    "activation": "relu",
    "dropout": 0.2,
    "epochs": 20,
    "batch_size": 32,
    "optimizer": "sgd",
    "lr": None,  # None: the optimizer's suggested_lr (0.05 for SGD, 1e-3 for the others)
    "momentum": 0.9,
    "lr_schedule": "cosine",  # cosine (anneal to 0 over the epochs), step (x0.1 each third), none
    "l1": 0.0,
    "l2": 0.0,
    "early_stopping": 0,  # patience in epochs; 0 = off
    "val_fraction": 0.1,
    "augment": "auto",  # shift: add each image moved 1 pixel each way; auto: when data is small
    "seed": 0,  # initial weights, shuffling, dropout and the validation split
    "data_seed": 0,  # which samples a data set's test split (or a toy set) holds: fixed by default
    "lr_scaling": "none",  # under mpiexec -n N: "linear" multiplies the rate by N (Goyal et al.)
    "trace": False,  # GradientStats: gradient_flow.png, gradient_stats.csv, trace.txt/.png
    "tensorboard": False,  # TensorBoard event files in OUT/tensorboard
}

CHECKPOINT = "checkpoint.safetensors"


def set_threads(threads: int | None) -> None:
    """Limit BLAS threads and the compiled kernels' threads (deepnum.jit). These models multiply
    small matrices, for which extra threads mostly wait on each other (and on a busy machine slow
    a run down many times over)."""
    if not threads:
        return
    from deepnum import jit

    jit.set_num_threads(int(threads))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    threadpool_limits(int(threads))


def prepare_data(config: dict):
    """``(data, (x_train, y_train), (x_val, y_val) or None)`` as the config asks."""
    from deepnum.data import load_dataset, train_val_split

    data = load_dataset(config["dataset"], data_dir=config["data_dir"],
                        download=config["download"], seed=config["data_seed"])
    train, val = (data.x_train, data.y_train), None
    if config["val_fraction"]:
        x_tr, y_tr, x_val, y_val = train_val_split(data.x_train, data.y_train,
                                                   config["val_fraction"], seed=config["seed"])
        train, val = (x_tr, y_tr), (x_val, y_val)
    mode = augment_mode(config["augment"], data.input_shape, len(train[0]), config["model"])
    if mode == "shift":
        train = add_shifts(*train)
    return data, train, val


SMALL_DATA = 5000  # "auto" augments image sets with fewer training images than this
LINEAR_MODELS = ("perceptron", "softmax")  # one template per class: shifted copies only blur it


def augment_mode(augment: str, input_shape, num_train: int, model: str = "mlp") -> str:
    """``shift`` or ``none``; ``auto`` shifts images only when there are few of them (the 8x8
    digits' 1,293 training images), where it buys accuracy at little cost, and only for models
    with hidden layers (a linear model cannot be shift-invariant, so it does worse)."""
    if augment not in ("auto", "shift", "none"):
        raise ValueError(f"unknown augmentation {augment!r}; choose from auto, shift, none")
    is_image = len(input_shape) == 3
    if augment == "auto":
        small = is_image and num_train < SMALL_DATA
        return "shift" if small and model not in LINEAR_MODELS else "none"
    if augment == "shift" and not is_image:
        raise ValueError(f"--augment shift needs images, but samples have shape {input_shape}")
    return augment


def add_shifts(x: np.ndarray, y: np.ndarray):
    """The images plus copies moved one pixel up, down, left and right (5x the data; the edge
    that comes in is 0). A handwritten digit one pixel over is the same digit."""
    copies = [x]
    h, w = x.shape[-2:]
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        moved = np.zeros_like(x)
        moved[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            x[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        copies.append(moved)
    return np.concatenate(copies), np.concatenate([y] * len(copies))


def build_model(config: dict, input_shape, num_outputs: int):
    from deepnum.models import build

    try:
        return build(config["model"], input_shape=tuple(input_shape), num_classes=num_outputs,
                     hidden=tuple(config["hidden"]), activation=config["activation"],
                     dropout=config["dropout"])
    except TypeError as error:  # a builder that does not follow the registry's convention
        raise ValueError(f"model {config['model']!r} cannot be built from input_shape, "
                         f"num_classes and the MLP options ({error}); it is not a model "
                         f"the deepnum command can train") from None


def make_schedule(name: str, optimizer, epochs: int):
    """The learning-rate schedule ``name`` (deepnum.optim.SCHEDULES) for a run of ``epochs``
    epochs (None: constant)."""
    from deepnum.optim import SCHEDULES

    if name not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {name!r}; choose from "
                         f"{', '.join(SCHEDULES)}")
    make = SCHEDULES[name]
    return None if make is None or epochs < 2 else make(optimizer, epochs)


def load_config(out) -> dict:
    path = Path(out) / "config.json"
    try:
        return {**DEFAULTS, **json.loads(path.read_text())}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file; --resume needs the --out directory of an "
                                f"earlier run") from None
    except ValueError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None


def train_run(config: dict, out, resume: bool = False, verbose="auto") -> dict:
    """Run training as configured; returns ``{"metrics": ..., "history": ..., "out": Path}``."""
    import deepnum as dn
    from deepnum.serialization import atomic_write, save
    from deepnum.train import (
        CSVLogger,
        EarlyStopping,
        GradientStats,
        LearningRateScheduler,
        TensorBoard,
        Trainer,
        confusion_matrix,
    )
    from deepnum.train.metrics import precision_recall_f1, predicted_classes

    config = {**DEFAULTS, **config}
    out = Path(out)
    dn.manual_seed(config["seed"])
    data, train, val = prepare_data(config)
    regression = data.task == "regression"
    model = build_model(config, data.input_shape, data.num_outputs)
    trainer = Trainer(model, loss="mse" if regression else None, optimizer=config["optimizer"],
                      metrics=["mae"] if regression else ["accuracy"],
                      lr=scaled_lr(config), momentum=config["momentum"], l1=config["l1"],
                      l2=config["l2"])
    main = trainer.parallel.is_main  # under mpiexec only rank 0 writes files
    record = {**config, "input_shape": list(data.input_shape), "num_classes": data.num_classes,
              "task": data.task, "class_names": data.class_names,
              "loss": "mse" if regression else getattr(model, "default_loss", "cross_entropy"),
              "world_size": trainer.parallel.world}
    if main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / "config.json", json.dumps(record, indent=2).encode())
    callbacks = [CSVLogger(out / "history.csv")] if main else []
    if config["early_stopping"]:
        monitor = "val_loss" if val is not None else "loss"
        callbacks.append(EarlyStopping(monitor, patience=int(config["early_stopping"]),
                                       restore_best_weights=True))
    if config["trace"]:
        callbacks.append(GradientStats(probe=(train[0][:256], train[1][:256]), out_dir=out))
    if config["tensorboard"]:
        callbacks.append(TensorBoard(out / "tensorboard", input_shape=data.input_shape))
    schedule = make_schedule(config["lr_schedule"], trainer.optimizer, int(config["epochs"]))
    if schedule is not None:
        callbacks.append(LearningRateScheduler(schedule))
    start = time.perf_counter()
    history = trainer.fit(train, val=val, epochs=int(config["epochs"]),
                          batch_size=int(config["batch_size"]), callbacks=callbacks,
                          verbose=verbose, seed=config["seed"], checkpoint=out / CHECKPOINT,
                          resume=resume)
    seconds = time.perf_counter() - start
    test = trainer.evaluate((data.x_test, data.y_test))
    metrics = {f"test_{k}": v for k, v in test.items()}
    metrics.update(epochs_run=len(history.epoch), seconds=round(seconds, 3),
                   steps=trainer.step, num_parameters=model.num_parameters(),
                   train_samples=len(train[0]), test_samples=len(data.x_test))
    for key, values in history.history.items():
        metrics[f"final_{key}"] = values[-1]
    cm = None
    if not regression:
        outputs = trainer.predict(data.x_test)
        cm = confusion_matrix(data.y_test, predicted_classes(outputs), data.num_outputs)
        scores = precision_recall_f1(cm)
        metrics["per_class"] = {
            name: {k: float(scores[k][i]) for k in ("precision", "recall", "f1")}
            for i, name in enumerate(data.class_names)}
    if main:
        save(model, out / "model.safetensors", metadata={"config": record})
        atomic_write(out / "metrics.json", json.dumps(metrics, indent=2).encode())
        _plots(out, history, model, cm, data)
    return {"metrics": metrics, "history": history, "out": out, "confusion_matrix": cm}


def _plots(out: Path, history, model, cm, data) -> None:
    from deepnum.train.plots import plot_confusion_matrix, plot_first_layer, plot_history

    if history.epoch:
        plot_history(history, out / "curves.png", title=f"{data.name}")
    if cm is not None:
        plot_confusion_matrix(cm, out / "confusion_matrix.png", data.class_names)
    shape = tuple(data.input_shape)
    if len(shape) == 3 and shape[0] == 1 or len(shape) == 2:
        try:
            plot_first_layer(model, out / "first_layer.png", image_shape=shape[-2:])
        except ValueError:  # e.g. a model whose first weights are not per-pixel
            pass


def scaled_lr(config: dict):
    """The configured rate (or the optimizer's suggested one), times the number of ranks under
    ``lr_scaling: linear`` (the global batch grows with them: Goyal et al.'s linear rule)."""
    from deepnum import distributed as dist
    from deepnum.optim import OPTIMIZERS

    if config.get("lr_scaling", "none") not in ("none", "linear"):
        raise ValueError(f"lr_scaling must be none or linear, got {config['lr_scaling']!r}")
    lr = config["lr"]
    if config.get("lr_scaling") == "linear" and dist.launched_by_mpi():
        dist.init()
        base = OPTIMIZERS[str(config["optimizer"]).lower()].suggested_lr if lr is None else lr
        return base * dist.get_world_size()
    return lr


def default_out(config: dict) -> Path:
    name = str(config["dataset"]).replace("csv:", "csv-")
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(name).name)
    return Path("runs") / f"{config['model']}-{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def describe_test(metrics: dict, data_name: str) -> str:
    if "test_accuracy" in metrics:
        return (f"Test accuracy: {100 * metrics['test_accuracy']:.2f}% (loss "
                f"{metrics['test_loss']:.4f}) on {metrics['test_samples']} {data_name} "
                f"test samples")
    return f"Test MAE: {metrics['test_mae']:.4f} (MSE loss {metrics['test_loss']:.4f})"


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
