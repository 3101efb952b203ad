"""Regenerate the figures the documentation shows (docs/figures/), from the demos and one run.

The figures are committed, small PNGs, rather than made during the docs build: the demos'
full runs take minutes (the build must stay well under one), and a page should show the full
run's figure, not the seconds-long ``--fast`` check. tests/demos checks that every figure here is
still one its demo writes, so a renamed figure cannot leave a page pointing at nothing.

    python docs/make_figures.py                     # run the demos the pages use, full mode
    python docs/make_figures.py --from demo-output  # copy from an earlier `deepnum demo all`
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

FIGURES = Path(__file__).resolve().parent / "figures"
# demo -> the figures of it the pages show
DEMO_FIGURES = {
    "neuron": ["boundary.png"],
    "perceptron": ["perceptron.png"],
    "xor": ["xor.png"],
    "activations": ["activations.png"],
    "nonlinearity": ["spiral.png"],
    "universal": ["universal.png"],
    "softmax": ["softmax.png"],
    "backprop": ["backprop.png"],
    "vanishing": ["vanishing.png"],
    "sgd": ["paths.png"],
    "overfitting": ["curves.png"],
    "regularization": ["regularization.png"],
    "dropout": ["dropout.png"],
    "depth": ["depth.png"],
    "alexnet": ["parameters.png"],
    "lstm": ["forecast.png"],
    "gan": ["samples_epoch004.png", "losses.png"],
    "dqn": ["learning_curve.png"],
    "playground": ["playground.png"],
}
# `deepnum train --trace` on the bundled digits: the MLP tutorial's figures
TRAIN_FIGURES = ["curves.png", "confusion_matrix.png", "first_layer.png", "gradient_flow.png",
                 "trace.png"]


def _copy(source: Path, target: Path) -> None:
    """Copy a PNG as a 256-colour palette image: a plot loses nothing visible and the file is a
    third of its size (the repository keeps every version of it)."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=256).save(target, optimize=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", help="a `deepnum demo all --out` folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(args.source) if args.source else Path(tmp) / "demos"
        if not args.source:
            from deepnum.demos import run_many

            results = run_many(list(DEMO_FIGURES), source)
            if not all(r.ok for r in results):
                print("a demo did not pass; figures not updated", file=sys.stderr)
                return 1
        for demo, files in DEMO_FIGURES.items():
            for name in files:
                _copy(source / demo / name, FIGURES / demo / name)
        from deepnum.train.run import DEFAULTS, train_run

        run = Path(tmp) / "train"
        train_run({**DEFAULTS, "trace": True}, run, verbose=0)
        for name in TRAIN_FIGURES:
            _copy(run / name, FIGURES / "train" / name)
        shutil.copyfile(run / "trace.txt", FIGURES / "train" / "trace.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
