import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import deepnum as dn
from deepnum.cli import main


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from deepnum.train.run import set_threads

    set_threads(1)


def _error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # exactly one line, no traceback
    return err


def test_train_writes_every_file(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--hidden", "8", "--epochs", "3", "--out", str(out),
                 "--verbose", "0"]) == 0
    printed = capsys.readouterr().out
    assert "Test accuracy:" in printed and str(out) in printed
    for name in ("model.safetensors", "config.json", "metrics.json", "history.csv",
                 "checkpoint.safetensors", "curves.png", "confusion_matrix.png"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"test_accuracy", "test_loss", "epochs_run", "seconds"} <= set(metrics)
    assert metrics["epochs_run"] == 3
    assert len((out / "history.csv").read_text().splitlines()) == 4
    model = dn.load(out / "model.safetensors")
    assert model(dn.zeros(1, 2)).shape == (1, 2)


def test_perceptron_and_softmax_train_and_report_accuracy(tmp_path, capsys):
    for name in ("perceptron", "softmax"):
        assert main(["train", "--model", name, "--epochs", "3",
                     "--out", str(tmp_path / name),
                     "--verbose", "0"]) == 0
        accuracy = json.loads((tmp_path / name / "metrics.json").read_text())["test_accuracy"]
        assert accuracy > 0.75, (name, accuracy)  # chance is 0.1; 20 epochs reach about 0.95
    assert json.loads((tmp_path / "perceptron" / "config.json").read_text())["loss"] == \
        "perceptron"


def _picture(image8, path):
    big = np.kron(image8, np.ones((10, 10)))
    page = np.ones((120, 140))
    page[25:105, 35:115] -= big
    Image.fromarray((np.clip(page, 0, 1) * 255).astype(np.uint8)).save(path)


@pytest.mark.slow
def test_evaluate_predict_and_summary_of_a_trained_digits_model(tmp_path, capsys):
    out = tmp_path / "digits"
    assert main(["train", "--epochs", "5", "--out", str(out), "--verbose", "0"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    printed = capsys.readouterr().out
    accuracy = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    assert f"test accuracy {accuracy:.4f}" in printed and "macro" in printed

    from deepnum.data import load_digits

    _, _, x_test, y_test = load_digits()
    paths = []
    for i in range(10):
        paths.append(tmp_path / f"digit{i}.png")
        _picture(x_test[i], paths[-1])
    assert main(["predict", str(out), *map(str, paths)]) == 0
    lines = capsys.readouterr().out.splitlines()
    predicted = [int(line.split(": ")[1].split(" ")[0]) for line in lines[::2]]
    assert np.mean(np.array(predicted) == y_test[:10]) >= 0.8
    assert lines[1].strip().startswith("0: ")

    assert main(["summary", str(out)]) == 0
    assert "Total params: 50,826" in capsys.readouterr().out


def test_summary_of_a_registered_model_and_datasets(capsys):
    assert main(["summary", "--model", "mlp", "--input-shape", "1,28,28"]) == 0
    assert "Total params: 235,146" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    printed = capsys.readouterr().out
    assert "digits" in printed and "csv:PATH" in printed


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "many"], "invalid int value"),
    (["train", "--dataset", "nope", "--out", "{tmp}/x"], "unknown data set 'nope'"),
    (["train", "--dataset", "csv:{tmp}/missing.csv", "--out", "{tmp}/x"], "missing.csv"),
    (["train", "--optimizer", "sgdd", "--dataset", "xor", "--out", "{tmp}/x"],
     "unknown optimizer 'sgdd'"),
    (["train", "--resume"], "--resume needs --out"),
    (["train", "--val-fraction", "1.5"], "--val-fraction must be in"),
    (["evaluate", "{tmp}/nothing-here"], "no such file"),
    (["evaluate", "{tmp}/corrupt.safetensors"], "corrupt.safetensors"),
    (["summary", "--model", "nonet"], "unknown model 'nonet'"),
    (["predict", "{tmp}/corrupt.safetensors", "x.png"], "corrupt.safetensors"),
])
def test_errors_exit_2_with_one_line(tmp_path, capsys, argv, message):
    (tmp_path / "corrupt.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    assert code == 2
    assert message in _error_line(capsys)


def _weights(path):
    model = dn.load(path)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.slow
def test_sigkill_at_a_random_moment_then_resume_gives_bit_identical_weights(tmp_path):
    """The run is killed (SIGKILL: no cleanup) at a random moment after its first checkpoint."""
    args = ["train", "--epochs", "25", "--hidden", "64", "--verbose", "0", "--seed", "3"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    command = [sys.executable, "-m", "deepnum.cli"]
    subprocess.run([*command, *args, "--out", str(tmp_path / "a")], check=True, env=env,
                   capture_output=True, timeout=600)
    checkpoint = tmp_path / "b" / "checkpoint.safetensors"
    process = subprocess.Popen([*command, *args, "--out", str(tmp_path / "b")], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not checkpoint.exists():
            assert process.poll() is None, "the run ended before its first checkpoint"
            time.sleep(0.01)
        time.sleep(random.Random().uniform(0, 1.0))
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (tmp_path / "b" / "model.safetensors").exists()
    subprocess.run([*command, "train", "--out", str(tmp_path / "b"), "--resume", "--verbose", "0"],
                   check=True, env=env, capture_output=True, timeout=600)
    a, b = _weights(tmp_path / "a" / "model.safetensors"), _weights(tmp_path / "b" /
                                                                      "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].numpy().tobytes() == b[key].numpy().tobytes(), key
    history_a = (tmp_path / "a" / "history.csv").read_text()
    assert history_a == (tmp_path / "b" / "history.csv").read_text()


def test_a_builder_without_the_standard_options_is_a_one_line_error(capsys, monkeypatch):
    from deepnum.models import MODELS

    monkeypatch.setitem(MODELS, "odd", lambda units: None)
    assert main(["summary", "--model", "odd"]) == 2
    assert "model 'odd' cannot be built from input_shape" in _error_line(capsys)


def test_playground_subcommand_is_wired_and_rejects_a_bad_port(capsys, monkeypatch):
    served = {}
    monkeypatch.setattr("deepnum.playground.server.serve",
                        lambda host, port, open_browser, max_sessions: served.update(
                            host=host, port=port, open=open_browser) or 0)
    assert main(["playground", "--port", "0", "--open"]) == 0
    assert served == {"host": "127.0.0.1", "port": 0, "open": True}
    monkeypatch.undo()
    assert main(["playground", "--port", "99999"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--port" in err
