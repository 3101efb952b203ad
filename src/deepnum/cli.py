"""The ``deepnum`` command: train, evaluate, predict, summary, datasets (and more, registered).

A subcommand is one function ``run(args) -> exit code`` plus one that adds its options to an
argparse parser, registered with :func:`add_command`. Errors a user can cause (missing data, a bad
option, a corrupt file) end with exit code 2 and one line on stderr, never a traceback.

    deepnum train                                    # an MLP on the bundled 8x8 digits
    deepnum train --dataset fashion-mnist --epochs 15 --out runs/fashion
    deepnum evaluate runs/fashion
    deepnum predict runs/fashion shoe.png
    deepnum summary --model mlp --input-shape 1,28,28
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

COMMANDS: dict[str, tuple[str, Callable, Callable]] = {}


def add_command(name: str, help: str, configure: Callable, run: Callable) -> None:
    """Register ``deepnum NAME``: ``configure(parser)`` adds options; ``run(args)`` returns the
    exit code."""
    COMMANDS[name] = (help, configure, run)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + message
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.replace("x", ",").split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") \
            from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _data_options(p: argparse.ArgumentParser, default="digits") -> None:
    from deepnum.data.toy import TOY_DATASETS

    p.add_argument("--dataset", default=default, help="digits, mnist, mnist-test, fashion-mnist, "
                   f"a toy set ({', '.join(TOY_DATASETS)}) or csv:PATH "
                   "(see `deepnum datasets`)")
    p.add_argument("--data-dir", help="folder holding the data files")
    p.add_argument("--download", action="store_true", help="download missing MNIST files")


def _model_options(p: argparse.ArgumentParser) -> None:
    from deepnum.nn.activation import ACTIVATIONS
    from deepnum.train.run import DEFAULTS

    p.add_argument("--model", default=DEFAULTS["model"], help="a registered model (perceptron, "
                   "softmax, mlp, ...; see `deepnum summary --help`)")
    p.add_argument("--hidden", type=_ints, default=DEFAULTS["hidden"], help="MLP hidden layer "
                   f"sizes (default {','.join(map(str, DEFAULTS['hidden']))})")
    p.add_argument("--activation", default=DEFAULTS["activation"],
                   help=f"MLP activation: {', '.join(ACTIVATIONS)} (default "
                        f"{DEFAULTS['activation']})")
    p.add_argument("--dropout", type=float, default=DEFAULTS["dropout"],
                   help=f"MLP dropout probability ({DEFAULTS['dropout']})")


# ----------------------------------------------------------------------------- train
def _configure_train(p):
    from deepnum.optim import OPTIMIZERS, SCHEDULES
    from deepnum.train.run import DEFAULTS

    _data_options(p)
    _model_options(p)
    p.add_argument("--epochs", type=int, help=f"epochs to train (default {DEFAULTS['epochs']})")
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    suggested = ", ".join(f"{n} {c.suggested_lr:g}" for n, c in OPTIMIZERS.items())
    p.add_argument("--optimizer", default=DEFAULTS["optimizer"],
                   help=f"{', '.join(OPTIMIZERS)} (default {DEFAULTS['optimizer']})")
    p.add_argument("--lr", type=float, help=f"learning rate (default: {suggested})")
    p.add_argument("--momentum", type=float, default=DEFAULTS["momentum"],
                   help=f"SGD momentum ({DEFAULTS['momentum']})")
    p.add_argument("--lr-schedule", choices=tuple(SCHEDULES), default=DEFAULTS["lr_schedule"],
                   help="cosine: anneal the rate to 0 over the epochs (default); step: x0.1 "
                        "after each third; none: constant")
    p.add_argument("--l1", type=float, default=DEFAULTS["l1"],
                   help="L1 penalty on the weights: the loss gains l1 * sum |w|")
    p.add_argument("--l2", type=float, default=DEFAULTS["l2"],
                   help="L2 penalty on the weights, the lecture's: the loss gains "
                        "(l2 / 2) * sum w^2, so each step adds l2 * w to the gradient (SGD's "
                        "weight_decay, for the weights)")
    p.add_argument("--early-stopping", type=int, default=DEFAULTS["early_stopping"],
                   metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a better validation loss, "
                        "keeping the best weights")
    p.add_argument("--val-fraction", type=float, default=DEFAULTS["val_fraction"],
                   help="share of the training data held out for validation (0.1; 0 for none)")
    p.add_argument("--augment", choices=("auto", "shift", "none"), default=DEFAULTS["augment"],
                   help="shift: train also on every image moved 1 pixel each way (5x data); "
                        "auto (default): shift when there are under 5,000 training images, "
                        "for models with hidden layers")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"],
                   help="seed of initial weights, shuffling, dropout, validation split (0)")
    p.add_argument("--data-seed", type=int, default=DEFAULTS["data_seed"],
                   help="seed of the data set's own train/test split or toy data (0)")
    p.add_argument("--out", help="output folder (default runs/MODEL-DATASET-TIMESTAMP)")
    p.add_argument("--trace", action="store_true",
                   help="record gradient norms and each layer's delta per epoch: "
                        "gradient_flow.png, gradient_stats.csv, trace.txt, trace.png")
    p.add_argument("--tensorboard", action="store_true",
                   help="write TensorBoard event files to OUT/tensorboard (needs tensorboardX)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint, with its settings")
    p.add_argument("--lr-scaling", choices=("none", "linear"), default=DEFAULTS["lr_scaling"],
                   help="under mpiexec -n N: linear multiplies the learning rate by N (the "
                        "global batch is N x --batch-size); none (default) keeps it")
    _common_run_options(p)


def _common_run_options(p):
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS and compiled-kernel threads (1, fastest for these small "
                        "matrices; 0 = library default)")
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
            raise ValueError("--resume needs --out DIR, the folder of the run to continue")
        config = load_config(args.out)
        config = {k: v for k, v in config.items() if k in DEFAULTS}
        if args.epochs is not None:
            config["epochs"] = args.epochs
    else:
        config = {key: getattr(args, key) for key in DEFAULTS if key != "epochs"}
        config["epochs"] = DEFAULTS["epochs"] if args.epochs is None else args.epochs
        _check_train_options(config)
    out = Path(args.out) if args.out else default_out(config)
    verbose = "auto" if args.verbose is None else args.verbose
    result = train_run(config, out, resume=args.resume, verbose=verbose)
    metrics = result["metrics"]
    from deepnum import distributed

    if distributed.is_main():  # under mpiexec the other ranks stay quiet
        print(describe_test(metrics, config["dataset"]))
        print(f"{metrics['epochs_run']} epochs in {metrics['seconds']:.1f} s; wrote {out}/")
    return 0


def _check_train_options(config: dict) -> None:
    for key in ("epochs", "batch_size"):
        if config[key] < (1 if key == "batch_size" else 0):
            raise ValueError(f"--{key.replace('_', '-')} must be positive, got {config[key]}")
    if not 0 <= config["val_fraction"] < 1:
        raise ValueError(f"--val-fraction must be in [0, 1), got {config['val_fraction']}")
    if config["lr"] is not None and config["lr"] <= 0:
        raise ValueError(f"--lr must be positive, got {config['lr']}")
    if config["early_stopping"] < 0:
        raise ValueError(f"--early-stopping must be >= 0, got {config['early_stopping']}")


# ----------------------------------------------------------------------------- evaluate / predict
def _model_file(target: str) -> Path:
    path = Path(target)
    return path / "model.safetensors" if path.is_dir() else path


def _load_model(target: str):
    import deepnum as dn

    model, info = dn.load(_model_file(target), return_metadata=True)
    return model, info.get("config", {})


def _configure_evaluate(p):
    p.add_argument("model_dir", help="a training output folder (or its model.safetensors)")
    _data_options(p, default=None)
    _common_run_options(p)


def _run_evaluate(args) -> int:
    from deepnum.data import load_dataset
    from deepnum.train import classification_report, confusion_matrix, evaluate
    from deepnum.train.metrics import predicted_classes
    from deepnum.train.run import set_threads
    from deepnum.train.trainer import predict

    set_threads(args.threads)
    model, config = _load_model(args.model_dir)
    name = args.dataset or config.get("dataset")
    if not name:
        raise ValueError(f"{args.model_dir}: the model file does not say which data set it was "
                         f"trained on; give --dataset")
    data = load_dataset(name, data_dir=args.data_dir or config.get("data_dir"),
                        download=args.download, seed=config.get("data_seed", 0))
    regression = data.task == "regression"
    scores = evaluate(model, (data.x_test, data.y_test), loss="mse" if regression else None,
                      metrics=["mae"] if regression else ["accuracy"])
    print(f"{name}: " + ", ".join(f"test {k} {v:.4f}" for k, v in scores.items()))
    if not regression:
        cm = confusion_matrix(data.y_test, predicted_classes(predict(model, data.x_test)),
                              data.num_classes)
        print(classification_report(cm, data.class_names))
    return 0


def _configure_predict(p):
    p.add_argument("model_dir", help="a training output folder (or its model.safetensors)")
    p.add_argument("images", nargs="+", help="image files of any size (PNG, JPEG, ...)")


def _run_predict(args) -> int:
    from deepnum.train.images import prepare_digit
    from deepnum.train.run import softmax
    from deepnum.train.trainer import predict

    model, config = _load_model(args.model_dir)
    shape = tuple(config.get("input_shape", ()))
    if len(shape) != 3 or shape[0] != 1 or shape[1:] not in ((28, 28), (8, 8)):
        raise ValueError(f"{args.model_dir}: predict needs a model trained on 28x28 or 8x8 "
                         f"grayscale images; this one takes inputs of shape {shape or 'unknown'}")
    names = config.get("class_names") or [str(i) for i in range(10)]
    for image in args.images:
        x = prepare_digit(image, size=shape[1])
        probabilities = softmax(predict(model, x[None]))[0]
        best = int(probabilities.argmax())
        print(f"{image}: {names[best]} ({100 * probabilities[best]:.1f}%)")
        print("  " + "  ".join(f"{n}: {p:.3f}" for n, p in zip(names, probabilities)))
    return 0


# ----------------------------------------------------------------------------- summary / datasets
def _configure_summary(p):
    p.add_argument("model_dir", nargs="?", help="a training output folder or model file")
    _model_options(p)
    p.add_argument("--input-shape", type=_ints, default=[1, 28, 28],
                   help="one sample's shape for --model, e.g. 1,28,28 (default) or 64")
    p.add_argument("--num-classes", type=int, default=10)


def _run_summary(args) -> int:
    from deepnum.models import MODELS
    from deepnum.train import summary
    from deepnum.train.run import build_model

    if args.model_dir:
        model, config = _load_model(args.model_dir)
        shape = config.get("input_shape")
        if not shape:
            raise ValueError(f"{args.model_dir}: the file does not record its input shape")
    else:
        if args.model not in MODELS:
            raise ValueError(f"unknown model {args.model!r}; known models: "
                             f"{', '.join(sorted(MODELS))}")
        shape = args.input_shape
        config = {"model": args.model, "hidden": args.hidden, "activation": args.activation,
                  "dropout": args.dropout}
        model = build_model(config, shape, args.num_classes)
    _print(summary(model, shape))
    return 0


def _print(renderable) -> None:
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print(renderable)
    else:
        print(str(renderable))


def _configure_datasets(p):
    p.add_argument("--data-dir", help="also look for data files here")


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(run=run)
    return parser


def _version() -> str:
    from deepnum import __version__

    return f"deepnum {__version__}"


def main(argv=None) -> int:
    """Entry point of the ``deepnum`` command; returns the exit code."""
    from deepnum.errors import DeepnumError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except (DeepnumError, ValueError, OSError, KeyError) as error:
        message = _one_line(str(error)) or type(error).__name__
        if isinstance(error, KeyError):
            message = f"missing entry {message}"
        print(f"deepnum {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepnum {args.command}: interrupted", file=sys.stderr)
        return 130


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
