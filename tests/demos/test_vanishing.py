"""``deepnum demo vanishing``: the claim is measured, and the demo fails when it does not hold."""

import deepnum.nn as nn
from deepnum.demos import main, run, vanishing


def test_fast_mode_measures_the_claim(tmp_path):
    result = run("vanishing", tmp_path, fast=True)
    assert result.status == "passed", result.message
    rows = {r["network"]: r for r in result.tables[0][2]}
    assert rows["sigmoid, default init"]["delta1_over_delta10"] < 1e-3
    assert 0.1 < rows["ReLU, He init"]["delta1_over_delta10"] < 10
    assert (tmp_path / "vanishing.png").read_bytes()[:4] == b"\x89PNG"


def test_a_claim_that_does_not_hold_fails_the_demo(tmp_path, monkeypatch, capsys):
    # pretend the "sigmoid" network is ReLU + He: its delta^1 no longer vanishes
    configs = dict(vanishing.CONFIGS)
    configs["sigmoid, default init"] = (nn.ReLU, "he", 1.0)
    monkeypatch.setattr(vanishing, "CONFIGS", configs)
    assert main(["vanishing", "--fast", "--out", str(tmp_path)]) == 1
    assert "FAILED vanishing" in capsys.readouterr().err
