"""``deepnum train --trace --tensorboard``: the gradient-flow files and the event files land next
to the other outputs, and a resumed traced run keeps one row per epoch."""

import csv

import pytest

from deepnum.cli import main


def test_train_trace_and_tensorboard_write_their_files(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    out = tmp_path / "run"
    argv = ["train", "--dataset", "circle", "--hidden", "8", "--epochs", "2", "--out", str(out),
            "--verbose", "0", "--trace", "--tensorboard"]
    assert main(argv) == 0
    for name in ("gradient_flow.png", "trace.png", "curves.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    text = (out / "trace.txt").read_text()
    assert "delta^1" in text and "W^2" in text
    rows = list(csv.DictReader(open(out / "gradient_stats.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    norms = [k for k in rows[0] if k.startswith("grad_norm/") and k.endswith("weight")]
    assert len(norms) == 2 and all(float(rows[-1][k]) > 0 for k in norms)  # 2 weight matrices
    assert list((out / "tensorboard" / "train").glob("events.out.tfevents.*"))
    assert list((out / "tensorboard" / "validation").glob("events.out.tfevents.*"))

    assert main(["train", "--out", str(out), "--resume", "--epochs", "3", "--verbose", "0"]) == 0
    rows = list(csv.DictReader(open(out / "gradient_stats.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]  # the setting is resumed with the run
