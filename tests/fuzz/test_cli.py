"""argv fuzzing of the ``deepnum`` command, in-process through ``deepnum.cli.main``: every
invocation a fuzzer can build from the registered commands' own options (so commands added with
``add_command`` are fuzzed too) and a pool of odd values exits 0, or 2 with exactly one line on
stderr -- never 1 (an unexpected exception), never a traceback, never a hang, within a bounded
peak memory."""

import argparse
import contextlib
import io
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import deepnum as dn
from deepnum.cli import build_parser, main
from deepnum.train.run import set_threads
from tests.fuzz import cases
from tests.fuzz._bounds import PeakBound, log_case, time_limit
from tests.fuzz.mutate import png

# long-running by design (web servers: the Playground and the docs site; the lectures' demos,
# minutes each): not fuzzed here
EXCLUDED = ("playground", "docs", "demo")

VALUES = [
    "", "0", "1", "2", "-1", "3.5", "1e3", "nan", "inf", "-inf", "1e308", "1e-320", "0.5", "0.99",
    "1.0", "x", "-", "--", "99999999999999999999", "9" * 50, "1,2", "8,8", "65536",
    "65536,65536", "100000000", "1,28,28", "1,8,8", "64", "1,100000,100000", "3,32,32", "0,1",
    "a,b", "1x8x8", "\x00", "\u00e9", "xor", "circle", "spiral", "plane", "digits", "mnist",
    "mnist-test", "nope", "csv:{csv}", "csv:{bad_csv}", "csv:{big_label_csv}", "csv:{tmp}/none.csv",
    "csv:", "{run}", "{digits}", "{corrupt}", "{png}", "{bomb}", "{text}", "{tmp}/missing",
    "{tmp}", "/proc/deepnum-fuzz", "{resumable}", "mlp", "softmax", "perceptron", "lenet5",
    "alexnet-small", "lstm-rows", "playground", "sgd", "adam", "rmsprop", "relu", "tanh", "sign",
    "cosine", "step", "none", "shift", "auto",
]
OUT_VALUES = ["{case}/out", "{case}/a/b", "{tmp}/file.txt", "", "/proc/deepnum-fuzz",
              "{resumable}", "{digits}/model.safetensors"]
# options whose valid values would make a case legitimately long: drawn from small values only
SMALL = {"--epochs": ["0", "1", "2", "-1", "x", "1e3", "100001", "nan", ""],
         "--early-stopping": ["0", "1", "-1", "x"],
         "--batch-size": ["1", "7", "64", "0", "-3", "x", "1048577"]}


# values that get a case past the first checks, by option (any command's option with that
# name); options of other commands get their choices and default, then VALUES
PLAUSIBLE = {
    "--dataset": ["xor", "circle", "spiral", "gauss", "csv:{csv}", "digits"],
    "--model": ["mlp", "softmax", "perceptron", "lenet5", "alexnet-small", "lstm-rows",
                "playground", "dqn-mlp"],
    "--hidden": ["8", "4,4", "16", "1", "65536"], "--input-shape": ["1,28,28", "1,8,8", "64", "2",
                                                                  "3,32,32", "1,28"],
    "--lr": ["0.1", "0.01", "1e30", "1e-8"], "--data-dir": ["{tmp}", "{case}"],
    "--num-classes": ["2", "10", "1"], "--threads": ["0", "1", "2"],
}
MODEL_PATHS = ["{run}", "{digits}", "{corrupt}", "{run}/model.safetensors", "{tmp}/missing",
               "{resumable}", "{text}"]
IMAGE_PATHS = ["{png}", "{bomb}", "{text}", "{tmp}/missing.png", "{tmp}"]


def _commands() -> dict:
    """{command: ({option string: plausible values}, [positional names])} from the real
    parser."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = {}
    for name, p in sub.choices.items():
        if name in EXCLUDED:
            continue
        options, positionals = {}, []
        for action in p._actions:
            if not action.option_strings:
                positionals.append(action.dest)
            for option in action.option_strings:
                if option in ("-h", "--help"):
                    continue
                values = list(PLAUSIBLE.get(option, []))
                values += [str(c) for c in action.choices or ()]
                default = action.default
                if isinstance(default, list):
                    values.append(",".join(map(str, default)))
                elif default not in (None, argparse.SUPPRESS, False, True):
                    values.append(str(default))
                options[option] = values if action.nargs != 0 else None
        commands[name] = (dict(sorted(options.items())), positionals)
    return commands


COMMANDS = _commands()


@st.composite
def argv(draw):
    command = draw(st.sampled_from(sorted(COMMANDS)) if draw(st.integers(0, 19))
                   else st.just("bogus"))
    options, positionals = COMMANDS.get(command, ({}, []))
    words = [] if draw(st.integers(0, 9)) else [draw(st.sampled_from(["--debug", "--version",
                                                                       "-h", "--x"]))]
    words.append(command)
    if command == "train":  # quick unless the fuzzer says otherwise (later options win)
        words += ["--dataset", "xor", "--epochs", "1", "--verbose", "0", "--out", "{case}/run"]
    for name in positionals + ["extra"]:
        if draw(st.integers(0, 9)) == 0:  # leave it out (or, for "extra", add one)
            continue
        if name == "extra":
            break
        pool = {"model_dir": MODEL_PATHS, "images": IMAGE_PATHS}.get(name, VALUES)
        words += draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2))
    for _ in range(draw(st.integers(0, 6))):
        if not options:
            break
        option = draw(st.sampled_from(sorted(options)))
        words.append(option)
        plausible = options[option]
        if plausible is None:  # a flag
            continue
        if option == "--out":
            words.append(draw(st.sampled_from(OUT_VALUES)))
        elif option in SMALL:
            words.append(draw(st.sampled_from(SMALL[option])))
        elif plausible and draw(st.integers(0, 2)):
            words.append(draw(st.sampled_from(plausible)))
        elif draw(st.integers(0, 5)):
            words.append(draw(st.sampled_from(VALUES)) if draw(st.integers(0, 4))
                         else draw(st.text(max_size=12)))
    return words


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The files the values name: trained runs, a corrupt model, images, CSVs."""
    tmp = tmp_path_factory.mktemp("cli-fuzz")
    (tmp / "corrupt.safetensors").write_bytes(b"\x10" + bytes(7) + b"{not json")
    (tmp / "text.txt").write_text("not an image")
    (tmp / "file.txt").write_text("x")
    (tmp / "bomb.png").write_bytes(png(20000, 20000))
    (tmp / "good.csv").write_text("".join(f"{i % 7},{i % 5},{i % 3}\n" for i in range(60)))
    (tmp / "bad.csv").write_text("1,2,0\n3,4\n")
    (tmp / "big-label.csv").write_text("1,2,0\n3,4,30000000\n")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1", "--out",
                     str(tmp / "run"), "--verbose", "0"]) == 0
        assert main(["train", "--epochs", "0", "--hidden", "8", "--out", str(tmp / "digits"),
                     "--verbose", "0"]) == 0
    page = np.full((40, 40), 255, np.uint8)
    page[5:35, 18:22] = 0
    Image.fromarray(page).save(tmp / "digit.png")
    return tmp


@pytest.fixture(scope="module", autouse=True)
def _offline(tmp_path_factory):
    """No network (--download fails at once) and an empty home (no cached MNIST)."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in the fuzz test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("deepnum.data.download.urlopen", refuse)
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        patch.delenv("DEEPNUM_DATA", raising=False)
        patch.delenv("XDG_CACHE_HOME", raising=False)
        yield


_bound = None


@settings(max_examples=cases(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(words=argv())
def test_every_invocation_exits_0_or_2_with_one_line(world, tmp_path_factory, words):
    global _bound
    _bound = _bound or PeakBound(3 << 30)  # a model within the 2**27-number budget, and more
    case = tmp_path_factory.mktemp("case")
    names = {"{case}": case, "{tmp}": world, "{run}": world / "run", "{digits}": world / "digits",
             "{corrupt}": world / "corrupt.safetensors", "{png}": world / "digit.png",
             "{bomb}": world / "bomb.png", "{text}": world / "text.txt",
             "{csv}": world / "good.csv", "{bad_csv}": world / "bad.csv",
             "{big_label_csv}": world / "big-label.csv", "{resumable}": case / "resumable"}
    if any("{resumable}" in w for w in words):
        shutil.copytree(world / "run", case / "resumable")
    for key, value in names.items():
        words = [w.replace(key, str(value)) for w in words]
    out, err = io.StringIO(), io.StringIO()
    state = dn.random.get_state()
    try:
        with time_limit(120, words), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            code = main(words)
    finally:
        set_threads(1)
        dn.random.set_state(state)
    err = err.getvalue()
    log_case(test="cli", argv=words, code=code, err=err[-300:])
    assert code in (0, 2), (code, words, err[-2000:])
    if "--debug" not in words:  # which asks for the traceback and the held-back warnings
        assert "Traceback" not in err, (words, err[-2000:])
        if code == 2:
            assert err.count("\n") == 1, (words, err[-2000:])
    _bound.check(f"after {words}")
