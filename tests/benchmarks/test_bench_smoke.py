"""The benchmark suite's quick mode on a few steps, so it cannot rot (timings are not checked)."""

import json
import math

import pytest

from benchmarks import bench


def test_quick_suite_runs_every_case_and_writes_json(tmp_path):
    path = tmp_path / "bench.json"
    result = bench.main(["--quick", "--steps", "2", "--lenet-steps", "1", "--repeats", "1",
                         "--warmup", "0", "--samples", "1000", "--calls-one", "3",
                         "--calls-batch", "1", "--threads", "1", "--no-sklearn",
                         "--json", str(path)])
    saved = json.loads(path.read_text())
    assert saved["rows"] == json.loads(json.dumps(result["rows"], default=str))
    timed = [r for r in result["rows"] if "skipped" not in r]
    cases = {(r["case"], r["batch"]) for r in timed}
    assert {("mlp-train", 128), ("mlp-train", 32), ("mlp-infer", 1), ("mlp-infer", 1000),
            ("dcgan-train", 8)} <= cases
    contenders = {r["contender"] for r in timed if r["case"] == "mlp-train"}
    assert contenders == {"deepnum", "pytorch", "numpy-floor"}
    assert {r["contender"] for r in timed if r["case"] == "mlp-infer"} == {
        "deepnum", "deepnum-compile", "pytorch", "numpy-floor"}
    for row in timed:
        assert row["median_s"] > 0 and math.isfinite(row["median_s"])
        if row["contender"] == "deepnum":
            assert row["ratio_vs_pytorch"] > 0
            # targets are per batch size (the quick DCGAN runs batch 8, its target is for 64)
            assert ("target_met" in row) == ((row["case"], row["batch"]) in bench.TARGETS)
    deepnum_mlp = next(r for r in timed if r["case"] == "mlp-train" and r["contender"] == "deepnum")
    assert deepnum_mlp["gflops"] > 0 and 0 < deepnum_mlp["fraction_of_peak"]
    assert deepnum_mlp["tracemalloc_peak_mib"] > 0
    assert result["threads"]["torch"] == 1
    assert "| deepnum |" in result["table"]


def test_the_alternating_comparisons_run_and_report_both_contenders():
    from benchmarks import alternate

    for compare, names in (("trainer", ("loop_s", "fit_s")), ("compile", ("eager_s",
                                                                          "compile_s"))):
        rows = alternate.main(["--compare", compare, "--models", "mlp", "--batches", "64",
                               "--pairs", "2", "--samples", "256"])
        assert len(rows) == 1 and all(rows[0][n] > 0 for n in names)
        assert rows[0]["low"] <= rows[0]["overhead"] <= rows[0]["high"]


def test_stepping_the_trainer_and_the_loop_in_turn_trains_both_on_the_same_batches():
    """--interleave step: the loop's copy of the model sees the Trainer's batches, so both end
    with the same weights, bit for bit (the timing is only fair if the work is the same)."""
    import numpy as np

    from benchmarks import alternate, realdata

    x, y = realdata.load("mnist-test")
    models = []
    real_models = realdata._models

    def remembered(name):
        pair = real_models(name)
        models.append(pair[0])
        return pair

    realdata._models = remembered
    try:
        times = alternate._interleaved_epochs("mlp", x[:300], y[:300], 64,
                                              realdata.orders(300, 3), 2)
    finally:
        realdata._models = real_models
    assert len(times["loop"]) == len(times["fit"]) == 2 and min(times["fit"]) > 0
    loop_model, fit_model = models
    for a, b in zip(loop_model.parameters(), fit_model.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    with pytest.raises(SystemExit):
        alternate.main(["--compare", "compile", "--interleave", "step"])
    with pytest.raises(SystemExit):  # the Trainer's options price its parts, stepped in turn
        alternate.main(["--no-check"])
    rows = alternate.main(["--interleave", "step", "--no-check", "--no-metrics", "--models",
                           "mlp", "--batches", "64", "--pairs", "1", "--samples", "256"])
    assert rows[0]["loop_s"] > 0 and rows[0]["fit_s"] > 0


def test_deepnum_train_is_timed_against_pytorch_on_as_many_digits():
    from benchmarks import realdata

    row = realdata.run_cli("mlp", 256, 2)
    assert row["train_samples"] == 8000 and row["deepnum_train_s"] > 0 and row["pytorch_s"] > 0
    # the ratio is of the unrounded times, the row keeps them to 4 decimals and it to 3
    cli, torch_s = row["deepnum_train_s"], row["pytorch_s"]
    slack = cli / torch_s * (0.5e-4 / cli + 0.5e-4 / torch_s) + 0.5e-3
    assert row["ratio_vs_pytorch"] == pytest.approx(cli / torch_s, abs=slack)


def test_realdata_can_flush_subnormals_for_every_contender():
    import deepnum as dn
    from benchmarks import realdata
    from deepnum.fast import denormals

    try:
        realdata.main(["--models", "mlp", "--data", "random", "--batches", "512", "--epochs",
                       "1", "--flush-all"])
        # on for PyTorch's epochs too, and Trainer.fit left it on as it found it
        assert denormals.flushing() == denormals.supported()
    finally:
        dn.set_flush_denormal(False)


def test_realdata_refuses_an_unknown_data_set_in_one_line(capsys):
    from benchmarks import realdata

    with pytest.raises(SystemExit) as stop:
        realdata.main(["--data", "mnist-test,digits"])
    assert stop.value.code == 2
    assert "--data: unknown digits; use mnist-test, fashion, random" in capsys.readouterr().err
