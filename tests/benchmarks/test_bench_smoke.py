"""The benchmark suite's quick mode on a few steps, so it cannot rot (timings are not checked)."""

import json
import math

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
