import contextlib
import errno
import io
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
import tracemalloc
import warnings
import zlib

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
    (["train", "--val-fraction", "1.5"], "--val-fraction: must be in [0, 1), got 1.5"),
    (["evaluate", "{tmp}/nothing-here"], "no such file"),
    (["evaluate", "{tmp}/corrupt.safetensors"], "corrupt.safetensors"),
    (["summary", "--model", "nonet"], "unknown model 'nonet'"),
    (["predict", "{tmp}/corrupt.safetensors", "{tmp}/x.png"], "corrupt.safetensors"),
])
def test_errors_exit_2_with_one_line(tmp_path, capsys, argv, message):
    (tmp_path / "corrupt.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    (tmp_path / "x.png").write_bytes(b"")
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


# ----------------------------------------------------------------------------- wrong invocations
# Each must end with exit code 2 and one line on stderr (issue 15: 11 of 69 printed a traceback).
WRONG = [
    ["train", "--epochs", "many"], ["train", "--epochs", "-1"], ["train", "--epochs", "1e3"],
    ["train", "--epochs", "99999999999"], ["train", "--batch-size", "0"],
    ["train", "--batch-size", "-5"], ["train", "--lr", "nan"], ["train", "--lr", "inf"],
    ["train", "--lr", "-1"], ["train", "--lr", "0"], ["train", "--lr", "abc"],
    ["train", "--momentum", "1.5"], ["train", "--momentum", "nan"], ["train", "--dropout", "1"],
    ["train", "--dropout", "-0.1"], ["train", "--l1", "-1"], ["train", "--l2", "inf"],
    ["train", "--val-fraction", "1.5"], ["train", "--val-fraction", "nan"],
    ["train", "--early-stopping", "-1"], ["train", "--seed", "-1"],
    ["train", "--seed", str(2**64)], ["train", "--data-seed", "x"],
    ["train", "--hidden", "100000000"], ["train", "--hidden", "0"], ["train", "--hidden", ""],
    ["train", "--hidden", "8,y"], ["train", "--hidden", ",".join(["4"] * 100)],
    ["train", "--threads", "-1"], ["train", "--threads", "100000"], ["train", "--verbose", "3"],
    ["train", "--optimizer", "sgdd"], ["train", "--activation", "relux"],
    ["train", "--model", "nonet"], ["train", "--lr-schedule", "weird"],
    ["train", "--augment", "maybe"], ["train", "--dataset", "nope", "--out", "{tmp}/x"],
    ["train", "--dataset", "csv:{tmp}/missing.csv", "--out", "{tmp}/x"],
    ["train", "--dataset", "csv:{tmp}/huge-label.csv", "--out", "{tmp}/x"],
    ["train", "--dataset", "csv:{tmp}/many-classes.csv", "--out", "{tmp}/x"],
    ["train", "--dataset", ""], ["train", "--data-dir", "{tmp}/no-such-dir"],
    ["train", "--data-dir", "{tmp}/file.txt"], ["train", "--out", "{tmp}/file.txt"],
    ["train", "--resume"], ["train", "--resume", "--out", "{tmp}/empty"],
    ["train", "--resume", "--out", "{tmp}/cfg-list"],
    ["train", "--resume", "--out", "{tmp}/cfg-null-epochs"],
    ["train", "--resume", "--out", "{tmp}/cfg-bad-json"],
    ["train", "--resume", "--out", "{tmp}/cfg-deep"],
    ["train", "--resume", "--out", "{tmp}/cfg-unknown-model"],
    ["train", "--resume", "--out", "{tmp}/cfg-negative-lr"],
    ["train", "--resume", "--out", "{tmp}/cfg-nan"],
    ["train", "--dataset", "mnist", "--data-dir", "{tmp}/empty", "--out", "{tmp}/x"],
    ["train", "--no-such-option"], ["train", "--augment", "shift", "--dataset", "xor",
                                    "--out", "{tmp}/x", "--verbose", "0"],
    ["evaluate", "{tmp}/nothing-here"], ["evaluate", "{tmp}/corrupt.safetensors"],
    ["evaluate"], ["evaluate", "{run}", "--dataset", "nope"],
    ["evaluate", "{run}", "--threads", "-1"], ["evaluate", "{run}", "--data-dir", "{tmp}/nothing"],
    ["evaluate", "{tampered}"],
    ["predict", "{tmp}/corrupt.safetensors", "{tmp}/x.png"],
    ["predict", "{digits}", "{tmp}/missing.png"], ["predict", "{digits}", "{tmp}/bomb.png"],
    ["predict", "{digits}", "{tmp}/x.png"], ["predict", "{run}", "{tmp}/digit.png"],
    ["predict", "{digits}", "{tmp}"], ["predict", "{digits}"],
    ["summary", "--input-shape", "1,100000,100000"], ["summary", "--input-shape", "0,1"],
    ["summary", "--input-shape", "a,b"], ["summary", "--input-shape", "1,2,3,4,5"],
    ["summary", "--model", "nonet"], ["summary", "--num-classes", "0"],
    ["summary", "--num-classes", "10000000000"],
    ["summary", "--hidden", "65536,65536", "--input-shape", "1,28,28"],
    ["summary", "{tmp}/nothing"], ["summary", "--model", "lenet", "--input-shape", "1,2,2"],
    ["summary", "{tampered}"], ["summary", "--input-shape", "1," + "9" * 5000],
    ["datasets", "--data-dir", "{tmp}/nothing"], ["bogus-command"],
    ["train", "--dataset", "xor", "--hidden", "65536,65536,65536", "--out", "{tmp}/big"],
    ["summary", "{huge_shape}"],
    ["train", "--dataset", "xor", "--hidden", "8", "--epochs", "3", "--lr", "1e30",
     "--optimizer", "sgd", "--out", "{tmp}/diverge", "--verbose", "0"],
]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


@pytest.fixture(scope="module")
def wrong_world(tmp_path_factory):
    """Files for WRONG: corrupt ones, bad config.json files, a PNG bomb, trained runs."""
    tmp = tmp_path_factory.mktemp("wrong")
    (tmp / "corrupt.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    (tmp / "x.png").write_bytes(b"not an image")
    (tmp / "file.txt").write_text("x")
    (tmp / "empty").mkdir()
    (tmp / "huge-label.csv").write_text("1,2,0\n3,4,1e30\n")
    (tmp / "many-classes.csv").write_text("1,2,0\n3,4,30000000\n")
    configs = {"cfg-list": "[]", "cfg-null-epochs": '{"epochs": null}', "cfg-bad-json": "{",
               "cfg-deep": "[" * 100000 + "]" * 100000, "cfg-unknown-model": '{"model": "x"}',
               "cfg-negative-lr": '{"lr": -1}', "cfg-nan": '{"lr": NaN}'}
    for name, text in configs.items():
        (tmp / name).mkdir()
        (tmp / name / "config.json").write_text(text)
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)  # 20000x20000 grayscale
    (tmp / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                                   + _png_chunk(b"IDAT", zlib.compress(bytes(1000)))
                                   + _png_chunk(b"IEND", b""))
    page = np.full((40, 40), 255, np.uint8)
    page[5:35, 18:22] = 0
    Image.fromarray(page).save(tmp / "digit.png")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1", "--out",
                     str(tmp / "run"), "--verbose", "0"]) == 0
        assert main(["train", "--epochs", "0", "--hidden", "8", "--out", str(tmp / "digits"),
                     "--verbose", "0"]) == 0
    model, info = dn.load(tmp / "run" / "model.safetensors", return_metadata=True)
    dn.save(model, tmp / "tampered.safetensors",
            metadata={"config": {**info["config"], "class_names": 5}})
    dn.save(model, tmp / "huge-shape.safetensors",
            metadata={"config": {**info["config"], "input_shape": [1, 100000, 100000]}})
    return tmp


@pytest.mark.parametrize("argv", WRONG, ids=lambda argv: " ".join(argv)[:60])
def test_every_wrong_invocation_exits_2_with_one_line(wrong_world, capsys, argv):
    names = {"{tmp}": wrong_world, "{run}": wrong_world / "run",
             "{digits}": wrong_world / "digits",
             "{tampered}": wrong_world / "tampered.safetensors",
             "{huge_shape}": wrong_world / "huge-shape.safetensors"}
    for key, value in names.items():
        argv = [a.replace(key, str(value)) for a in argv]
    assert main(argv) == 2
    line = _error_line(capsys)
    assert line.startswith("deepnum") and "Traceback" not in line
    assert "Warning" not in line


def test_a_diverging_run_prints_its_message_and_no_numpy_warnings(tmp_path, capsys):
    assert main(["train", "--dataset", "xor", "--hidden", "8", "--epochs", "3", "--lr", "1e30",
                 "--out", str(tmp_path / "d"), "--verbose", "0"]) == 2
    line = _error_line(capsys)
    assert "training diverged at epoch 1" in line and "RuntimeWarning" not in line


def test_a_huge_model_is_refused_by_the_parameter_budget_before_allocating(capsys):
    tracemalloc.start()
    try:
        assert main(["summary", "--hidden", "65536,65536", "--input-shape", "1,8,8"]) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "would hold more than 134,217,728 numbers" in _error_line(capsys)
    assert peak < 200 << 20  # the first layer's 4 M weights were allocated; the 4.3 G were not


def test_the_activation_budget_stops_a_forward_pass(monkeypatch, capsys):
    monkeypatch.setattr("deepnum.train.run.MAX_ACTIVATIONS", 1000)
    assert main(["summary", "--model", "mlp", "--input-shape", "1,28,28"]) == 2
    assert "the layers' outputs reach" in _error_line(capsys)


def _command(monkeypatch, run):
    from deepnum.cli import COMMANDS

    monkeypatch.setitem(COMMANDS, "probe", ("a test command", lambda p: None, run))


def test_an_unexpected_error_is_one_line_with_a_debug_hint(monkeypatch, capsys):
    def run(args):
        raise TypeError("unsupported operand")

    _command(monkeypatch, run)
    assert main(["probe"]) == 1
    line = _error_line(capsys)
    assert "deepnum probe: internal error: TypeError: unsupported operand" in line
    assert "run with --debug for the traceback" in line
    for argv in (["--debug", "probe"], ["probe", "--debug"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and "--debug for" not in err


def test_warnings_are_shown_after_a_command_that_succeeds(monkeypatch, capsys):
    def run(args):
        warnings.warn("something odd", UserWarning, stacklevel=1)
        print("still running", file=sys.stderr)
        return 0

    _command(monkeypatch, run)
    assert main(["probe"]) == 0
    err = capsys.readouterr().err
    assert err.index("still running") < err.index("UserWarning: something odd")


def test_registered_commands_get_finite_float_and_64_bit_int_options(monkeypatch, capsys):
    from deepnum.cli import COMMANDS

    def configure(p):
        p.add_argument("--scale", type=float, default=1.0)
        p.add_argument("--count", type=int, default=1)

    monkeypatch.setitem(COMMANDS, "probe", ("a test command", configure, lambda args: 0))
    assert main(["probe", "--scale", "2.5", "--count", "3"]) == 0
    for argv in (["--scale", "nan"], ["--scale", "-inf"], ["--count", str(2**70)],
                 ["--count", "9" * 5000]):
        assert main(["probe", *argv]) == 2
        assert argv[0] in _error_line(capsys)


def test_a_full_disk_names_the_file(tmp_path, monkeypatch, capsys):
    import deepnum.file_format as serialization

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(serialization.os, "fsync", full)
    assert main(["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1",
                 "--out", str(tmp_path / "r"), "--verbose", "0"]) == 2
    line = _error_line(capsys)
    assert f"{tmp_path / 'r' / 'config.json'}: No space left on device" in line
    assert not [p for p in (tmp_path / "r").iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_folder_names_the_file(tmp_path, monkeypatch, capsys):
    import deepnum.file_format as serialization

    def read_only(prefix, suffix, dir):
        raise OSError(errno.EROFS, "Read-only file system", f"{dir}/{prefix}abcdefgh{suffix}")

    monkeypatch.setattr(serialization.tempfile, "mkstemp", read_only)
    assert main(["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1",
                 "--out", str(tmp_path / "r"), "--verbose", "0"]) == 2
    assert f"{tmp_path / 'r' / 'config.json'}: Read-only file system" in _error_line(capsys)


def test_stale_temporaries_of_a_killed_run_are_removed_at_the_next_start(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    stale = [".checkpoint.safetensors.k2j4_9xq.tmp", ".model.safetensors.abcdefgh.tmp",
             ".config.json.00000000.tmp"]
    kept = [".other.safetensors.abcdefgh.tmp", ".checkpoint.safetensors.short.tmp",
            "checkpoint.safetensors.abcdefgh.tmp", ".checkpoint.safetensors.ABCDEFGH.tmp",
            "notes.tmp"]
    for name in stale + kept:
        (out / name).write_bytes(b"partial")
    (out / ".history.csv.abcdefgh.tmp").mkdir()  # a folder of that name is not ours either
    assert main(["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1",
                 "--out", str(out), "--verbose", "0"]) == 0
    left = {p.name for p in out.iterdir()}
    assert not left & set(stale)
    assert set(kept) | {".history.csv.abcdefgh.tmp"} <= left


@pytest.mark.parametrize("config, problem", [
    ({"epochs": None}, "field epochs: None is not of type 'integer'"),
    ({"lr": float("nan")}, "field lr: nan is not a finite number"),
    ({"hidden": (8, 0)}, "field hidden[1]: 0 is less than the minimum of 1"),
    ({"optimizer": "sgdd"}, "unknown optimizer 'sgdd'"),
])
def test_train_run_checks_its_config_like_the_command(tmp_path, config, problem):
    from deepnum.errors import ConfigError
    from deepnum.train.run import train_run

    with pytest.raises(ConfigError, match=re.escape(problem)):
        train_run({"dataset": "xor", **config}, tmp_path / "r", verbose=0)
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    # `deepnum evaluate RUN | head -3`: the reader stops reading; nothing is wrong
    import subprocess

    script = ("import sys; from deepnum.cli import main, COMMANDS\n"
              "def run(args):\n"
              "    for i in range(100000): print('line', i)\n"
              "COMMANDS['probe'] = ('a test command', lambda p: None, run)\n"
              "sys.exit(main(['probe']))\n")
    done = subprocess.run(["bash", "-o", "pipefail", "-c",
                           f"{sys.executable} -c \"{script}\" | head -2"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout == "line 0\nline 1\n" and done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_evaluate_on_data_with_other_classes_than_the_model(tmp_path, capsys):
    """Found by the 20,000-case CLI fuzz: `evaluate RUN --dataset csv:F` with more classes in F
    than the model has outputs was an internal error (IndexError, exit 1). Now one line, exit 2;
    and fewer classes than outputs scores the data, the model's other classes in the report."""
    run = tmp_path / "xor"
    assert main(["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1", "--out",
                 str(run), "--verbose", "0"]) == 0
    three = tmp_path / "three.csv"
    three.write_text("".join(f"{i % 7},{i % 5},{i % 3}\n" for i in range(60)))
    capsys.readouterr()
    assert main(["evaluate", str(run), "--dataset", f"csv:{three}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has 3 classes, but the model in" in err[0] \
        and "has 2 outputs" in err[0]

    five = tmp_path / "five.csv"
    five.write_text("".join(f"{i % 7},{i % 4},{i % 5}\n" for i in range(60)))
    assert main(["train", "--dataset", f"csv:{five}", "--hidden", "4", "--epochs", "1", "--out",
                 str(tmp_path / "five"), "--verbose", "0"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "five"), "--dataset", f"csv:{three}"]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "macro" in printed
    rows = [line.split()[0] for line in printed.splitlines()[2:]]
    assert rows[:5] == ["0", "1", "2", "3", "4"], printed  # the model's classes 3 and 4 too
