"""The example scripts' fast versions run end to end, write their files, and learn something.

Each example is imported from examples/ and run through its ``main(argv)``; the numbers it returns
are the ones it printed. Learning is checked against the start of the same run or against chance.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MNIST = Path("/work/shared/data/mnist/t10k-images-idx3-ubyte.gz")


def _load(name: str):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


def _needs_mnist():
    common = _load("_common")
    try:
        common.load_mnist_test()
    except Exception as error:  # noqa: BLE001 - any failure to find the data means skip
        pytest.skip(f"MNIST test digits not available: {error}")


def test_lstm_mnist_rows_fast_learns(tmp_path):
    _needs_mnist()
    results = _load("lstm_mnist_rows").main(["--fast", "--out", str(tmp_path)])
    assert results["final_loss"] < results["first_loss"]
    assert results["test_accuracy"] > 0.25                  # chance is 0.10
    for name in ("curves.png", "model.safetensors", "results.json"):
        assert (tmp_path / name).stat().st_size > 0


def test_lstm_forecast_fast_learns(tmp_path):
    results = _load("lstm_forecast").main(["--fast", "--out", str(tmp_path)])
    assert results["final_train_mse"] < 0.6 * results["first_train_mse"]
    assert (tmp_path / "forecast.png").exists() and (tmp_path / "model.safetensors").exists()


@pytest.mark.slow
def test_gan_digits_fast_learns(tmp_path):
    _needs_mnist()
    results = _load("gan_digits").main(["--fast", "--out", str(tmp_path)])
    assert results["mean_image_gap_after"] < 0.7 * results["mean_image_gap_before"]
    assert results["judge_held_out_accuracy"] > 0.3
    assert (tmp_path / "samples_epoch004.png").exists() and (tmp_path / "losses.png").exists()
    assert (tmp_path / "generator.safetensors").exists()


@pytest.mark.slow
def test_dqn_cartpole_fast_learns(tmp_path):
    pytest.importorskip("gymnasium")
    results = _load("dqn_cartpole").main(["--fast", "--out", str(tmp_path), "--render"])
    assert results["last_episodes_mean_return"] > 2 * results["first_episodes_mean_return"]
    assert results["eval_mean_return"] > 30                 # a random policy averages ~22
    assert (tmp_path / "learning_curve.png").exists() and (tmp_path / "agent.gif").exists()


def test_dcgan_fast_learns(tmp_path):
    _needs_mnist()
    results = _load("dcgan").main(["--fast", "--out", str(tmp_path)])
    assert results["mean_image_gap_after"] < 0.95 * results["mean_image_gap_before"]
    assert np.mean(results["d_loss"][-5:]) < 2 * np.log(2)  # D does better than chance
    for name in ("samples_epoch003.png", "losses.png", "generator.safetensors",
                 "discriminator.safetensors", "results.json"):
        assert (tmp_path / name).stat().st_size > 0


def test_char_transformer_fast_learns(tmp_path):
    results = _load("char_transformer").main(["--fast", "--out", str(tmp_path)])
    # below the first evaluation and below the unigram model: it learned from context
    assert results["final_held_out_bits"] < results["first_held_out_bits"] - 0.5
    assert results["final_held_out_bits"] < results["unigram_bits"]
    assert all(s.startswith(("We hold these", "He has ")) for s in results["samples"])
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert (tmp_path / "model.safetensors").stat().st_size > 0
