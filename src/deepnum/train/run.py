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
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from deepnum.errors import ConfigError

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
    "compile": False,  # each step replayed from a captured plan (deepnum.fast.capture)
}

CHECKPOINT = "checkpoint.safetensors"
# the files a run writes into its folder, whose stale temporaries (".NAME.xxxxxxxx.tmp", left by
# a run killed mid-write) the next run there removes
RUN_FILES = ("model.safetensors", "config.json", "metrics.json", "history.csv", CHECKPOINT)

MAX_PARAMETERS = 2**27  # numbers a model built by a run (or `deepnum summary`) may hold: 512 MiB
MAX_INPUT_ELEMENTS = 2**22  # one sample's numbers for `deepnum summary --input-shape`
MAX_ACTIVATIONS = 2**28  # numbers the layers' outputs may add up to in summary's forward pass


def check_config(config: dict, source="config") -> None:
    """Raise ConfigError("SOURCE: field X: why") unless ``config`` fits :data:`CONFIG_SCHEMA`
    (every number finite, too) and names registered models, optimizers..."""
    from deepnum.schema import check

    plain = {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}
    for key, value in plain.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, float) and not np.isfinite(v) for v in values):
            raise ConfigError(f"{source}: field {key}: {value!r} is not a finite number")
    check(plain, CONFIG_SCHEMA, source, error=ConfigError)
    try:
        check_names(plain)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def setting_problem(key: str, value) -> str | None:
    """Why ``value`` cannot be the setting ``key`` (one short phrase), or None if it can."""
    from jsonschema import Draft202012Validator

    values = value if isinstance(value, (list, tuple)) else [value]
    if any(isinstance(v, float) and not np.isfinite(v) for v in values):
        return f"{value!r} is not a finite number"
    validator = _validators.get(key)
    if validator is None:
        validator = _validators[key] = Draft202012Validator(SETTINGS[key])
    problem = next(iter(validator.iter_errors(list(value) if isinstance(value, tuple)
                                              else value)), None)
    if problem is None:
        return None
    if problem.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"must be {_range_text(problem.schema)}, got {problem.instance!r}"
    if problem.validator in ("maxItems", "minItems"):
        return (f"expected {problem.schema.get('minItems', 0)} to {problem.schema['maxItems']} "
                f"values, got {len(problem.instance)}")
    return problem.message[:200]


def _range_text(schema: dict) -> str:
    """"in [0, 1)", ">= 0", "in 1..65,536" for a JSON Schema number or integer."""
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if schema.get("type") == "integer" and low is not None and high is not None:
        return f"in {low:,}..{high:,}"
    if high is None:
        return f"{'>=' if 'minimum' in schema else '>'} {low}"
    return (f"in {'[' if 'minimum' in schema else '('}{low}, {high}"
            f"{']' if 'maximum' in schema else ')'}")


_validators: dict = {}


def _integer(minimum: int, maximum: int) -> dict:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def _fraction() -> dict:  # [0, 1)
    return {"type": "number", "minimum": 0, "exclusiveMaximum": 1}


def _name() -> dict:
    return {"type": "string", "minLength": 1, "maxLength": 200}


# What each setting may be, as JSON Schema: `deepnum train`'s options and a resumed run's
# config.json are both checked against these (the CLI turns each into its option's type), so
# the two cannot disagree. Names (model, optimizer, ...) are checked against their registries.
SETTINGS = {
    "dataset": {"type": "string", "minLength": 1, "maxLength": 4096},
    "data_dir": {"type": ["string", "null"], "maxLength": 4096},
    "download": {"type": "boolean"},
    "model": _name(),
    "hidden": {"type": "array", "items": _integer(1, 2**16), "minItems": 1, "maxItems": 64},
    "activation": _name(),
    "dropout": _fraction(),
    "epochs": _integer(0, 100_000),
    "batch_size": _integer(1, 2**20),
    "optimizer": _name(),
    "lr": {"type": ["number", "null"], "exclusiveMinimum": 0},
    "momentum": _fraction(),
    "lr_schedule": _name(),
    "l1": {"type": "number", "minimum": 0},
    "l2": {"type": "number", "minimum": 0},
    "early_stopping": _integer(0, 100_000),
    "val_fraction": _fraction(),
    "augment": {"enum": ["auto", "shift", "none"]},
    "seed": _integer(0, 2**63 - 1),
    "data_seed": _integer(0, 2**63 - 1),
    "lr_scaling": {"enum": ["none", "linear"]},
    "trace": {"type": "boolean"},
    "tensorboard": {"type": "boolean"},
    "compile": {"type": "boolean"},
}
# config.json also records what the run found (written by train_run; read back by nothing that
# trusts it blindly)
CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        **SETTINGS,
        "input_shape": {"type": "array", "items": _integer(1, 2**31), "maxItems": 8},
        "num_classes": _integer(0, 2**31),
        "task": {"enum": ["classification", "regression"]},
        "class_names": {"type": ["array", "null"], "items": {"type": "string"}},
        "loss": {"type": "string"},
    },
}


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
        raise ConfigError(f"unknown augmentation {augment!r}; choose from auto, shift, none")
    is_image = len(input_shape) == 3
    if augment == "auto":
        small = is_image and num_train < SMALL_DATA
        return "shift" if small and model not in LINEAR_MODELS else "none"
    if augment == "shift" and not is_image:
        raise ConfigError(f"--augment shift needs images, but samples have shape "
                          f"{input_shape}")
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


def build_model(config: dict, input_shape, num_outputs: int,
                max_parameters: int = MAX_PARAMETERS):
    """The model ``config`` names, for inputs of ``input_shape``; a model that would hold more
    than ``max_parameters`` numbers is refused before its weights are allocated."""
    from deepnum.creation import BudgetExceeded, allocation_budget
    from deepnum.models import MODELS, build

    check_names(config)
    if config["model"] not in MODELS:
        raise ConfigError(f"unknown model {config['model']!r}; known models: "
                          f"{', '.join(sorted(MODELS))}")
    try:
        with allocation_budget(max_parameters):
            return build(config["model"], input_shape=tuple(input_shape),
                         num_classes=num_outputs, hidden=tuple(config["hidden"]),
                         activation=config["activation"], dropout=config["dropout"])
    except BudgetExceeded as error:
        raise ConfigError(f"model {config['model']!r} with hidden={list(config['hidden'])} for "
                          f"inputs of shape {tuple(input_shape)} would hold more than "
                          f"{max_parameters:,} numbers ({error}); refusing to build it"
                          ) from None
    except TypeError as error:  # a builder that does not follow the registry's convention
        raise ConfigError(f"model {config['model']!r} cannot be built from input_shape, "
                          f"num_classes and the MLP options ({error}); it is not a model "
                          f"the deepnum command can train") from None


@contextmanager
def activation_budget(model, limit: int | None = None):
    """Inside the block, a forward pass of ``model`` whose layers' outputs add up to more than
    ``limit`` numbers (default MAX_ACTIVATIONS) stops with BudgetExceeded at the first layer past
    it (forward hooks on the leaf modules; the overshoot is at most that one layer's output)."""
    from deepnum.creation import BudgetExceeded
    from deepnum.tensor import Tensor

    limit = MAX_ACTIVATIONS if limit is None else limit
    total = 0

    def count(module, args, output):
        nonlocal total
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        total += sum(t.array.size for t in outputs if isinstance(t, Tensor))
        if total > limit:
            raise BudgetExceeded(f"the layers' outputs reach {total:,} numbers at "
                                 f"{type(module).__name__}, more than the limit of {limit:,}")

    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    handles = [m.register_forward_hook(count) for m in leaves]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def check_names(config: dict) -> None:
    """The names in ``config`` (model, activation, optimizer, schedule) are registered ones."""
    from deepnum.models import MODELS
    from deepnum.nn.activation import ACTIVATIONS
    from deepnum.optim import OPTIMIZERS, SCHEDULES

    for key, registry, what in (("model", MODELS, "model"), ("activation", ACTIVATIONS,
                                "activation"), ("optimizer", OPTIMIZERS, "optimizer"),
                                ("lr_schedule", SCHEDULES, "learning-rate schedule")):
        if key in config and config[key] not in registry:
            raise ConfigError(f"unknown {what} {config[key]!r}; known: "
                              f"{', '.join(sorted(registry))}")


def make_schedule(name: str, optimizer, epochs: int):
    """The learning-rate schedule ``name`` (deepnum.optim.SCHEDULES) for a run of ``epochs``
    epochs (None: constant)."""
    from deepnum.optim import SCHEDULES

    if name not in SCHEDULES:
        raise ConfigError(f"unknown learning-rate schedule {name!r}; choose from "
                         f"{', '.join(SCHEDULES)}")
    make = SCHEDULES[name]
    return None if make is None or epochs < 2 else make(optimizer, epochs)


def load_config(out) -> dict:
    """The settings of the run in ``out`` (its config.json, checked against
    :data:`CONFIG_SCHEMA`), completed with :data:`DEFAULTS`."""
    from deepnum.schema import check, parse

    path = Path(out) / "config.json"
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; --resume needs the --out directory of an "
                          f"earlier run") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})") from None
    config = parse(text, path, error=ConfigError, max_bytes=2**20)
    check(config, CONFIG_SCHEMA, path, error=ConfigError)
    config = {**DEFAULTS, **{k: v for k, v in config.items() if k in DEFAULTS}}
    check_config(config, path)
    return config


def train_run(config: dict, out, resume: bool = False, verbose="auto") -> dict:
    """Run training as configured; returns ``{"metrics": ..., "history": ..., "out": Path}``."""
    import deepnum as dn
    from deepnum.serialization import atomic_write, remove_stale_temporaries, save
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
    check_config(config)
    out = Path(out)
    remove_stale_temporaries(out, RUN_FILES)
    dn.manual_seed(config["seed"])
    data, train, val = prepare_data(config)
    regression = data.task == "regression"
    model = build_model(config, data.input_shape, data.num_outputs)
    trainer = Trainer(model, loss="mse" if regression else None, optimizer=config["optimizer"],
                      metrics=["mae"] if regression else ["accuracy"],
                      lr=scaled_lr(config), momentum=config["momentum"], l1=config["l1"],
                      l2=config["l2"], compile=config.get("compile", False))
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
    return {"metrics": metrics, "history": history, "out": out, "confusion_matrix": cm,
            "trainer": trainer}


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
