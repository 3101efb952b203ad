"""benchmarks/models.py's quick mode on its smallest case, so it cannot rot (timings are not
checked; the memory probes, which start fresh processes, are left out)."""

import json
import math

import pytest

from benchmarks import models


def test_quick_resnet20_case_runs_and_writes_json(tmp_path):
    path = tmp_path / "models.json"
    result = models.main(["--quick", "--cases", "resnet20", "--no-memory", "--json", str(path)])
    saved = json.loads(path.read_text())
    assert saved["rows"] == json.loads(json.dumps(result["rows"], default=str))
    assert {r["contender"] for r in result["rows"]} == {"deepnum", "pytorch"}
    for row in result["rows"]:
        assert row["case"] == "resnet20" and row["batch"] == 64 and row["size"] == 32
        assert row["median_step_s"] > 0 and math.isfinite(row["median_step_s"])
    deepnum = next(r for r in result["rows"] if r["contender"] == "deepnum")
    assert deepnum["ratio_vs_pytorch"] > 0 and "target_met" in deepnum
    assert result["threads"]["torch"] == 1
    assert "| deepnum |" in result["table"]


@pytest.mark.parametrize("name", ["resnet20", "alexnet"])  # AlexNet's twin is built there
def test_twins_start_from_the_same_weights(name):
    """The PyTorch twin gets deepnum's initial weights: the same logits in eval mode."""
    import numpy as np
    import torch

    import deepnum as dn

    case = models.CASES[name]
    ours, theirs = models.models(case)
    x, _ = models.batches(dict(case, batch=2), 1)
    ours.eval(), theirs.eval()
    with dn.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(dn.Tensor._wrap(x[0])).numpy(),
                                   theirs(torch.from_numpy(x[0])).numpy(), rtol=1e-4, atol=1e-5)
