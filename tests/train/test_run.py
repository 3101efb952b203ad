import numpy as np
import pytest

import deepnum as dn
from deepnum.train.run import add_shifts, augment_mode, make_schedule


def test_add_shifts_moves_each_image_one_pixel_each_way():
    x = np.zeros((1, 1, 3, 3), np.float32)
    x[0, 0, 1, 1] = 1
    shifted, labels = add_shifts(x, np.array([7]))
    assert shifted.shape == (5, 1, 3, 3) and labels.tolist() == [7] * 5
    positions = [tuple(np.argwhere(image[0])[0]) for image in shifted]
    assert positions == [(1, 1), (1, 2), (1, 0), (2, 1), (0, 1)]


def test_augment_auto_only_for_few_images():
    assert augment_mode("auto", (1, 8, 8), 1293) == "shift"
    assert augment_mode("auto", (1, 28, 28), 54000) == "none"
    assert augment_mode("auto", (2,), 100) == "none"
    assert augment_mode("auto", (1, 8, 8), 1293, "softmax") == "none"
    with pytest.raises(ValueError, match="needs images"):
        augment_mode("shift", (2,), 100)


def test_schedules():
    opt = dn.optim.SGD([dn.nn.Parameter(np.zeros(2, np.float32))], lr=0.1)
    assert make_schedule("none", opt, 10) is None
    cosine = make_schedule("cosine", opt, 4)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        cosine.step()
    assert lrs == pytest.approx([0.1, 0.1 * (1 + np.cos(np.pi / 4)) / 2, 0.05,
                                 0.1 * (1 + np.cos(3 * np.pi / 4)) / 2])
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        make_schedule("warm", opt, 3)


def test_compile_gives_the_eager_runs_numbers(tmp_path):
    # `deepnum train --compile`: each step replayed from a captured plan, bit for bit the eager
    # step (the same metrics file), and the plan was really used (no fallback reason)
    from deepnum.train.run import DEFAULTS, train_run

    config = {**DEFAULTS, "epochs": 2, "hidden": [32], "augment": "none"}
    eager = train_run(config, tmp_path / "eager", verbose=0)
    compiled = train_run({**config, "compile": True}, tmp_path / "compiled", verbose=0)
    for key in ("test_loss", "test_accuracy"):
        assert compiled["metrics"][key] == eager["metrics"][key]
    assert compiled["trainer"].captured is not None and compiled["trainer"].captured.reason is None
