"""`deepnum export` and `deepnum convert` end to end: train, export, run in onnxruntime."""

import numpy as np
import torch

import deepnum as dn
from deepnum.cli import main
from deepnum.serialization import load_state_dict
from tests.onnx.helpers import run_onnxruntime


def test_train_then_export_runs_in_onnxruntime(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(run)]) == 0
    assert main(["export", str(run), "--format", "onnx"]) == 0
    assert "wrote" in capsys.readouterr().out
    path = run / "model.onnx"
    model = dn.load(run / "model.safetensors").eval()
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    with dn.no_grad():
        want = model(dn.tensor(x)).numpy()
    np.testing.assert_allclose(run_onnxruntime(path, x)[0], want, rtol=1e-5, atol=1e-6)
    out = tmp_path / "fixed.onnx"
    assert main(["export", str(run), "--out", str(out), "--static-batch", "--opset", "13"]) == 0
    assert run_onnxruntime(out, x[:1])[0].shape == (1, 10)


def test_convert_a_pytorch_checkpoint_and_an_onnx_file(tmp_path, capsys):
    torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / "l.pt")
    assert main(["convert", str(tmp_path / "l.pt"), str(tmp_path / "l.safetensors")]) == 0
    assert load_state_dict(tmp_path / "l.safetensors")["weight"].shape == (2, 3)
    dn.onnx.export(dn.nn.Linear(3, 2), dn.randn(1, 3), tmp_path / "l.onnx")
    assert main(["convert", str(tmp_path / "l.onnx"), str(tmp_path / "g.safetensors")]) == 0
    assert type(dn.load(tmp_path / "g.safetensors")).__name__ == "OnnxGraph"
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    assert main(["convert", str(tmp_path / "bad.pt"), str(tmp_path / "x.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "bad.pt" in err and len(err.strip().splitlines()) == 1
    assert main(["export", str(tmp_path / "missing")]) == 2
