"""The ``deepnum`` command: train, evaluate, predict, summary, datasets (and more, registered).

A subcommand is one function ``run(args) -> exit code`` plus one that adds its options to an
argparse parser, registered with :func:`add_command`. Every option is checked as it is parsed, by
the types below (range, finiteness, existence; the training settings against the same JSON Schema
a resumed run's config.json is checked against, ``train.run.SETTINGS``); a registered command's
plain ``type=float`` / ``type=int`` options get the finiteness and 64-bit range checks too.

Errors a user can cause (missing data, a bad option, a corrupt file, a full disk) end with exit
code 2 and one line on stderr, never a traceback; anything unexpected prints one line and exits
with 1, and ``--debug`` shows its traceback. Warnings raised while a command runs (NumPy's
overflow warnings in a diverging step) are held back: shown after a command that succeeds,
dropped behind the one-line error of one that fails (``--debug`` shows them).

    deepnum train                                    # an MLP on the bundled 8x8 digits
    deepnum train --dataset fashion-mnist --epochs 15 --out runs/fashion
    deepnum evaluate runs/fashion
    deepnum predict runs/fashion shoe.png
    deepnum summary --model mlp --input-shape 1,28,28
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from deepnum.errors import ConfigError

COMMANDS: dict[str, tuple[str, Callable, Callable]] = {}


def add_command(name: str, help: str, configure: Callable, run: Callable) -> None:
    """Register ``deepnum NAME``: ``configure(parser)`` adds options; ``run(args)`` returns the
    exit code."""
    COMMANDS[name] = (help, configure, run)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + message
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} "
                     f"--help)\n")


# ----------------------------------------------------------------------------- option types
# Each option's type converts its text and checks the value, so a bad option is argparse's
# one-line error naming it ("argument --lr: nan is not a finite number"), before anything runs.
MAX_THREADS = 256
MAX_DIMENSIONS = 4  # of --input-shape


def _typed(name: str, convert: Callable, problem: Callable | None = None) -> Callable:
    """An argparse type: ``convert(text)`` (a ValueError is argparse's "invalid NAME value"),
    then ``problem(value)``, a phrase saying what is wrong or None."""

    def parse(text: str):
        value = convert(text)
        why = problem(value) if problem else None
        if why:
            raise argparse.ArgumentTypeError(why)
        return value

    parse.__name__ = name
    return parse


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _int(text: str) -> int:
    if len(text) > 40:  # int() of a 100,000-digit string takes seconds
        raise ValueError(text)
    value = int(text)
    if not -2**63 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{value} does not fit in 64 bits")
    return value


def _ints(text: str) -> list[int]:
    try:
        values = [_int(v) for v in text.replace("x", ",").split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got "
                                         f"{text[:40]!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return values


def _setting(key: str, convert: Callable = str) -> Callable:
    """The type of the option for the training setting ``key``: checked against
    ``train.run.SETTINGS[key]``, the schema config.json is checked against too."""
    from deepnum.train.run import setting_problem

    def problem(value):
        return setting_problem(key, value)

    return _typed({_finite_float: "float", _int: "int", _ints: "list"}.get(convert, "value"),
                  convert, problem)


def _registered(what: str, registry: Callable) -> Callable:
    """A name that must be in ``registry()`` (imported when the option is parsed)."""

    def problem(name):
        known = registry()
        if name not in known:
            return f"unknown {what} {name!r}; known: {', '.join(sorted(known))}"
        return None

    return _typed(what, str, problem)


def _models():
    from deepnum.models import MODELS

    return MODELS


def _activations():
    from deepnum.nn.activation import ACTIVATIONS

    return ACTIVATIONS


def _optimizers():
    from deepnum.optim import OPTIMIZERS

    return OPTIMIZERS


def _in_range(low: int, high: int) -> Callable:
    return _typed("int", _int, lambda v: None if low <= v <= high
                  else f"must be in {low}..{high:,}, got {v}")


def _input_shape(text: str) -> list[int]:
    from deepnum.train.run import MAX_INPUT_ELEMENTS

    shape = _ints(text)
    if len(shape) > MAX_DIMENSIONS or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_DIMENSIONS} positive sizes, got "
                                         f"{text[:40]!r}")
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise argparse.ArgumentTypeError(f"{'x'.join(map(str, shape))} is {math.prod(shape):,} "
                                         f"numbers per sample, more than the limit of "
                                         f"{MAX_INPUT_ELEMENTS:,}")
    return shape


def _path(kind: str) -> Callable:
    """A path that must exist: ``file``, ``dir``, ``any`` (file or folder); ``dir-or-new`` and
    ``dir-or-none`` need not exist but, if they do, must be folders."""

    def problem(path: Path):
        exists = path.exists()
        if not exists and kind in ("dir-or-new", "dir-or-none"):
            return None
        if not exists:
            return f"{path}: no such file or directory"
        if kind.startswith("dir") and not path.is_dir():
            return f"{path}: not a directory"
        if kind == "file" and not path.is_file():
            return f"{path}: not a file"
        return None

    return _typed("path", lambda text: Path(text) if text else _empty_path(), problem)


def _empty_path():
    raise argparse.ArgumentTypeError("an empty path")


def _harden(parser: argparse.ArgumentParser) -> None:
    """Give a registered command's plain float and int options the checks deepnum's own have:
    a finite float, an int of at most 64 bits (NumPy's limit), and no 100,000-digit parsing."""
    for action in parser._actions:
        if action.type is float:
            action.type = _typed("float", _finite_float)
        elif action.type is int:
            action.type = _typed("int", _int)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _harden(sub)


def _data_options(p: argparse.ArgumentParser, default="digits") -> None:
    from deepnum.data.toy import TOY_DATASETS

    p.add_argument("--dataset", default=default, type=_setting("dataset"),
                   help="digits, mnist, mnist-test, fashion-mnist, "
                   f"a toy set ({', '.join(TOY_DATASETS)}) or csv:PATH "
                   "(see `deepnum datasets`)")
    p.add_argument("--data-dir", type=_path("dir-or-new"), help="folder holding the data files "
                   "(it must exist unless --download creates it)")
    p.add_argument("--download", action="store_true", help="download missing MNIST files")


def _model_options(p: argparse.ArgumentParser) -> None:
    from deepnum.nn.activation import ACTIVATIONS
    from deepnum.train.run import DEFAULTS

    p.add_argument("--model", default=DEFAULTS["model"], type=_registered("model", _models),
                   help="a registered model (perceptron, softmax, mlp, ...; see `deepnum "
                        "summary --help`)")
    p.add_argument("--hidden", type=_setting("hidden", _ints), default=DEFAULTS["hidden"],
                   help="MLP hidden layer sizes, each 1..65536 (default "
                        f"{','.join(map(str, DEFAULTS['hidden']))})")
    p.add_argument("--activation", default=DEFAULTS["activation"],
                   type=_registered("activation", _activations),
                   help=f"MLP activation: {', '.join(ACTIVATIONS)} (default "
                        f"{DEFAULTS['activation']})")
    p.add_argument("--dropout", type=_setting("dropout", _finite_float),
                   default=DEFAULTS["dropout"],
                   help=f"MLP dropout probability in [0, 1) ({DEFAULTS['dropout']})")


# ----------------------------------------------------------------------------- train
def _configure_train(p):
    from deepnum.optim import OPTIMIZERS, SCHEDULES
    from deepnum.train.run import DEFAULTS

    _data_options(p)
    _model_options(p)
    p.add_argument("--epochs", type=_setting("epochs", _int),
                   help=f"epochs to train (default {DEFAULTS['epochs']})")
    p.add_argument("--batch-size", type=_setting("batch_size", _int),
                   default=DEFAULTS["batch_size"])
    suggested = ", ".join(f"{n} {c.suggested_lr:g}" for n, c in OPTIMIZERS.items())
    p.add_argument("--optimizer", default=DEFAULTS["optimizer"],
                   type=_registered("optimizer", _optimizers),
                   help=f"{', '.join(OPTIMIZERS)} (default {DEFAULTS['optimizer']})")
    p.add_argument("--lr", type=_setting("lr", _finite_float),
                   help=f"learning rate, > 0 (default: {suggested})")
    p.add_argument("--momentum", type=_setting("momentum", _finite_float),
                   default=DEFAULTS["momentum"],
                   help=f"SGD momentum in [0, 1) ({DEFAULTS['momentum']})")
    p.add_argument("--lr-schedule", choices=tuple(SCHEDULES), default=DEFAULTS["lr_schedule"],
                   help="cosine: anneal the rate to 0 over the epochs (default); step: x0.1 "
                        "after each third; none: constant")
    p.add_argument("--l1", type=_setting("l1", _finite_float), default=DEFAULTS["l1"],
                   help="L1 penalty on the weights: the loss gains l1 * sum |w|")
    p.add_argument("--l2", type=_setting("l2", _finite_float), default=DEFAULTS["l2"],
                   help="L2 penalty on the weights, the lecture's: the loss gains "
                        "(l2 / 2) * sum w^2, so each step adds l2 * w to the gradient (SGD's "
                        "weight_decay, for the weights)")
    p.add_argument("--early-stopping", type=_setting("early_stopping", _int),
                   default=DEFAULTS["early_stopping"],
                   metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a better validation loss, "
                        "keeping the best weights")
    p.add_argument("--val-fraction", type=_setting("val_fraction", _finite_float),
                   default=DEFAULTS["val_fraction"],
                   help="share of the training data held out for validation (0.1; 0 for none)")
    p.add_argument("--augment", choices=("auto", "shift", "none"), default=DEFAULTS["augment"],
                   help="shift: train also on every image moved 1 pixel each way (5x data); "
                        "auto (default): shift when there are under 5,000 training images, "
                        "for models with hidden layers")
    p.add_argument("--seed", type=_setting("seed", _int), default=DEFAULTS["seed"],
                   help="seed of initial weights, shuffling, dropout, validation split (0)")
    p.add_argument("--data-seed", type=_setting("data_seed", _int),
                   default=DEFAULTS["data_seed"],
                   help="seed of the data set's own train/test split or toy data (0)")
    p.add_argument("--out", type=_path("dir-or-new"),
                   help="output folder (default runs/MODEL-DATASET-TIMESTAMP)")
    p.add_argument("--trace", action="store_true",
                   help="record gradient norms and each layer's delta per epoch: "
                        "gradient_flow.png, gradient_stats.csv, trace.txt, trace.png")
    p.add_argument("--compile", action="store_true",
                   help="replay each training step from a captured plan (deepnum.fast.capture: "
                        "the eager step's numbers; models it cannot capture run eagerly)")
    p.add_argument("--tensorboard", action="store_true",
                   help="write TensorBoard event files to OUT/tensorboard (needs tensorboardX)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint, with its settings")
    p.add_argument("--lr-scaling", choices=("none", "linear"), default=DEFAULTS["lr_scaling"],
                   help="under mpiexec -n N: linear multiplies the learning rate by N (the "
                        "global batch is N x --batch-size); none (default) keeps it")
    _common_run_options(p)


def _common_run_options(p):
    p.add_argument("--threads", type=_in_range(0, MAX_THREADS), default=1,
                   help="BLAS and compiled-kernel threads (1, fastest for these small "
                        f"matrices; 0 = library default; at most {MAX_THREADS})")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2),
                   help="0 quiet, 1 progress bar, 2 a line per epoch (default: 1 on a terminal)")


def _run_train(args) -> int:
    from deepnum.train.run import (
        DEFAULTS,
        default_out,
        describe_test,
        load_config,
        set_threads,
        train_run,
    )

    set_threads(args.threads)
    if args.resume:
        if not args.out:
            raise ConfigError("--resume needs --out DIR, the folder of the run to continue")
        config = load_config(args.out)
        if args.epochs is not None:
            config["epochs"] = args.epochs
    else:
        _need_data_dir(args)
        config = {key: getattr(args, key) for key in DEFAULTS if key != "epochs"}
        config["epochs"] = DEFAULTS["epochs"] if args.epochs is None else args.epochs
        config["data_dir"] = None if args.data_dir is None else str(args.data_dir)
    out = Path(args.out) if args.out else default_out(config)
    verbose = "auto" if args.verbose is None else args.verbose
    result = train_run(config, out, resume=args.resume, verbose=verbose)
    metrics = result["metrics"]
    from deepnum import distributed

    if distributed.is_main():  # under mpiexec the other ranks stay quiet
        print(describe_test(metrics, config["dataset"]))
        print(f"{metrics['epochs_run']} epochs in {metrics['seconds']:.1f} s; wrote {out}/")
    return 0


def _need_data_dir(args) -> None:
    """--data-dir must exist unless --download is to fill it."""
    if args.data_dir is not None and not args.data_dir.exists() and not args.download:
        raise ConfigError(f"--data-dir {args.data_dir}: no such directory (add --download to "
                          f"create it and download into it)")


# ----------------------------------------------------------------------------- evaluate / predict
def _model_file(target: str) -> Path:
    path = Path(target)
    return path / "model.safetensors" if path.is_dir() else path


def _load_model(target):
    """The model in ``target`` and the run's settings recorded in it (checked like a
    config.json: a file can carry any JSON there)."""
    import deepnum as dn
    from deepnum.errors import ModelFileError
    from deepnum.schema import check
    from deepnum.train.run import CONFIG_SCHEMA

    path = _model_file(target)
    model, info = dn.load(path, return_metadata=True)
    config = info.get("config", {}) if isinstance(info, dict) else None
    check(config, CONFIG_SCHEMA, f"{path}: its recorded config", error=ModelFileError)
    return model, config


def _configure_evaluate(p):
    p.add_argument("model_dir", type=_path("any"),
                   help="a training output folder (or its model.safetensors)")
    _data_options(p, default=None)
    _common_run_options(p)


def _run_evaluate(args) -> int:
    from deepnum.data import load_dataset
    from deepnum.train import classification_report, confusion_matrix, evaluate
    from deepnum.train.metrics import predicted_classes
    from deepnum.train.run import set_threads
    from deepnum.train.trainer import predict

    set_threads(args.threads)
    _need_data_dir(args)
    model, config = _load_model(args.model_dir)
    name = args.dataset or config.get("dataset")
    if not name:
        raise ConfigError(f"{args.model_dir}: the model file does not say which data set it "
                          f"was trained on; give --dataset")
    data = load_dataset(name, data_dir=args.data_dir or config.get("data_dir"),
                        download=args.download, seed=config.get("data_seed", 0))
    regression = data.task == "regression"
    outputs = None if regression else _check_classes(model, data, name, args.model_dir)
    scores = evaluate(model, (data.x_test, data.y_test), loss="mse" if regression else None,
                      metrics=["mae"] if regression else ["accuracy"])
    print(f"{name}: " + ", ".join(f"test {k} {v:.4f}" for k, v in scores.items()))
    if not regression:
        # a model with more outputs than the data has classes may predict the others: they
        # get rows and columns of their own (named by number)
        names = list(data.class_names or range(data.num_classes))
        names += range(len(names), outputs)
        cm = confusion_matrix(data.y_test, predicted_classes(predict(model, data.x_test)),
                              len(names))
        print(classification_report(cm, [str(n) for n in names]))
    return 0


def _check_classes(model, data, name: str, target) -> int:
    """The model's number of outputs; a data set with more classes than that cannot be scored:
    say so (the loss would index past the outputs)."""
    from deepnum.train.trainer import predict

    if not len(data.x_test):
        return data.num_classes
    outputs = predict(model, data.x_test[:1]).shape[-1]
    labels = int(data.y_test.max()) + 1
    if max(labels, data.num_classes) > outputs:
        raise ConfigError(f"{name} has {max(labels, data.num_classes)} classes, but the model in "
                          f"{target} has {outputs} outputs: evaluate it on data with the classes "
                          f"it was trained on")
    return outputs


def _configure_predict(p):
    p.add_argument("model_dir", type=_path("any"),
                   help="a training output folder (or its model.safetensors)")
    p.add_argument("images", nargs="+", type=_path("file"),
                   help="image files (PNG, JPEG, GIF, BMP, TIFF, WebP, ...; at most 40 million "
                        "pixels)")


def _run_predict(args) -> int:
    from deepnum.train.images import prepare_digit
    from deepnum.train.run import softmax
    from deepnum.train.trainer import predict

    model, config = _load_model(args.model_dir)
    shape = tuple(config.get("input_shape", ()))
    if len(shape) != 3 or shape[0] != 1 or shape[1:] not in ((28, 28), (8, 8)):
        raise ConfigError(f"{args.model_dir}: predict needs a model trained on 28x28 or 8x8 "
                          f"grayscale images; this one takes inputs of shape "
                          f"{shape or 'unknown'}")
    names = config.get("class_names") or []
    for image in args.images:
        x = prepare_digit(image, size=shape[1])
        probabilities = softmax(predict(model, x[None]))[0]
        if len(names) != len(probabilities):  # a file whose class names do not fit its model
            names = [str(i) for i in range(len(probabilities))]
        best = int(probabilities.argmax())
        print(f"{image}: {names[best]} ({100 * probabilities[best]:.1f}%)")
        print("  " + "  ".join(f"{n}: {p:.3f}" for n, p in zip(names, probabilities)))
    return 0


# ----------------------------------------------------------------------------- summary / datasets
def _configure_summary(p):
    p.add_argument("model_dir", nargs="?", type=_path("any"),
                   help="a training output folder or model file")
    _model_options(p)
    p.add_argument("--input-shape", type=_input_shape, default=[1, 28, 28],
                   help="one sample's shape for --model, e.g. 1,28,28 (default) or 64")
    p.add_argument("--num-classes", type=_in_range(1, 100_000), default=10)


def _run_summary(args) -> int:
    from deepnum.train import summary
    from deepnum.train.run import activation_budget, build_model

    if args.model_dir:
        model, config = _load_model(args.model_dir)
        shape = config.get("input_shape")
        if not shape:
            raise ConfigError(f"{args.model_dir}: the file does not record its input shape")
        try:
            _input_shape(",".join(map(str, shape)))
        except argparse.ArgumentTypeError as error:
            raise ConfigError(f"{args.model_dir}: its recorded input shape: {error}") from None
    else:
        shape = args.input_shape
        config = {"model": args.model, "hidden": args.hidden, "activation": args.activation,
                  "dropout": args.dropout}
        model = build_model(config, shape, args.num_classes)
    with activation_budget(model):
        table = summary(model, shape)
    _print(table)
    return 0


def _print(renderable) -> None:
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print(renderable)
    else:
        print(str(renderable))


def _configure_datasets(p):
    p.add_argument("--data-dir", type=_path("dir"), help="also look for data files here")


def _run_datasets(args) -> int:
    from deepnum.data import available_datasets

    rows = available_datasets(args.data_dir)
    width = max(len(r.name) for r in rows)
    print(f"{'name':<{width}}  ready  source")
    for name, available, where in rows:
        print(f"{name:<{width}}  {'yes' if available else 'no ':5}  {where}")
    return 0


add_command("train", "train a model and write it, its metrics and plots to a folder",
            _configure_train, _run_train)
add_command("evaluate", "test a trained model on a data set", _configure_evaluate, _run_evaluate)
add_command("predict", "classify image files with a trained model", _configure_predict,
            _run_predict)
add_command("summary", "show a model's layers, output shapes and parameter counts",
            _configure_summary, _run_summary)
add_command("datasets", "list the data sets and whether they are available", _configure_datasets,
            _run_datasets)


def _register_onnx() -> None:
    from deepnum.onnx import cli as onnx_cli  # light: onnx itself is imported on first use

    add_command("export", "write a trained model as an ONNX file (onnxruntime, phones, "
                "browsers)", onnx_cli.configure_export, onnx_cli.run_export)
    add_command("convert", "turn a PyTorch checkpoint or an ONNX file into a deepnum file",
                onnx_cli.configure_convert, onnx_cli.run_convert)


_register_onnx()


def _configure_demo(p):
    from deepnum.demos import build_parser as configure_demo

    configure_demo(p)


def _run_demo(args) -> int:
    from deepnum.demos import run_from_args

    return run_from_args(args)


add_command("demo", "run the lectures' claims as checked demos (deepnum demo --list)",
            _configure_demo, _run_demo)


def _configure_playground(p):
    from deepnum.playground.server import build_parser as configure_playground

    configure_playground(p)


def _run_playground(args) -> int:
    from deepnum.playground.server import serve

    return serve(args.host, args.port, args.open_browser, max_sessions=args.max_sessions)


add_command("playground", "watch a network learn in your browser, trained live by deepnum",
            _configure_playground, _run_playground)

from deepnum.docsite import register as _register_docs  # noqa: E402

_register_docs(add_command)  # `deepnum docs` (this module's add_command, also under python -m)


# ----------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="deepnum", description="deepnum: deep learning on NumPy, from first "
                     "principles.")
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--debug", action="store_true",
                        help="on an error, also print its traceback and held-back warnings")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        # also after the command's name; SUPPRESS keeps a --debug given before it
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="on an error, also print its traceback and held-back warnings")
        p.set_defaults(run=run)
    _harden(parser)
    return parser


def _version() -> str:
    from deepnum import __version__

    return f"deepnum {__version__}"


MAX_HELD_WARNINGS = 50


def main(argv=None) -> int:
    """Entry point of the ``deepnum`` command; returns the exit code (0 done, 2 a user's error:
    a bad option, file or setting, 1 an unexpected error, 130 interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or argparse's one-line error
        return _exit_code(exit_.code)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    held: list = []
    try:
        with _holding_warnings(held):
            code = int(args.run(args) or 0)
    except KeyboardInterrupt:
        print(f"deepnum {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `deepnum evaluate RUN | head`: the reader had what it wanted
        _silence_stdout()
        return 0
    except SystemExit as exit_:  # a command's own argparse, or sys.exit
        return _exit_code(exit_.code)
    except Exception as error:  # noqa: BLE001 - the command line's last line of defence
        return _report(f"deepnum {args.command}", error, args.debug, held)
    _show(held)
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail again on the closed pipe
    (Python's recommended handling of SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (e.g. captured by a test)
        pass


def _show(held: list) -> None:
    """Print the held warnings to stderr as Python would have (written out directly: a caller's
    own warnings machinery, e.g. pytest's recorder, would swallow them)."""
    for w in held:
        sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))


@contextmanager
def _holding_warnings(held: list):
    """Collect the warnings raised inside (the usual filters still decide which), at most
    MAX_HELD_WARNINGS of them, instead of printing them as they come."""
    with warnings.catch_warnings():
        def keep(message, category, filename, lineno, file=None, line=None):
            if len(held) < MAX_HELD_WARNINGS:
                held.append(warnings.WarningMessage(message, category, filename, lineno))

        warnings.showwarning = keep
        yield


def _report(command: str, error: BaseException, debug: bool, held: list) -> int:
    """Print one line about ``error`` (after its traceback and the held warnings, with
    --debug); returns the exit code."""
    from deepnum.errors import DeepnumError

    if debug:
        import traceback

        _show(held)
        traceback.print_exception(error)
    hint = "" if debug else " (run with --debug for the traceback)"
    message = _one_line(str(error))[:2000] or type(error).__name__
    if isinstance(error, DeepnumError):
        line, code = f"error: {message}", 2
    elif isinstance(error, OSError):  # a missing, unreadable or unwritable file; a full disk
        what = error.strerror or message
        line = f"error: {error.filename}: {what}" if error.filename else f"error: {message}"
        code = 2
    elif isinstance(error, MemoryError):
        line, code = f"error: out of memory ({message}){hint}", 2
    elif isinstance(error, (ValueError, KeyError)):  # mostly a value the user gave
        if isinstance(error, KeyError):
            message = f"missing entry {message}"
        line, code = f"error: {message}{hint}", 2
    else:
        line, code = f"internal error: {type(error).__name__}: {message}{hint}", 1
    print(f"{command}: {line}", file=sys.stderr)
    return code


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message")
    return 1


def _one_line(text: str) -> str:
    """A multi-line message as one line: "a:\n  b\nc" -> "a: b; c"."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines() if line.strip()]
    joined = ""
    for line in lines:
        joined += line if not joined else (" " if joined.endswith(":") else "; ") + line
    return joined


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["COMMANDS", "add_command", "build_parser", "main"]
