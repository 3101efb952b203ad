"""benchmarks/conv_floor.py's pieces on ResNet-20's shapes, so the floor cannot rot (timings are
only checked to be positive)."""

from benchmarks import conv_floor


def test_resnet20_convolutions_are_read_in_forward_order():
    shapes = conv_floor.conv_shapes(conv_floor.models.CASES["resnet20"])
    assert len(shapes) == 19  # the stem and 2 per block, 9 blocks (the shortcuts have no conv)
    x, w, stride, padding, out, needs_input_grad, batch_last = shapes[0]
    assert x == (64, 3, 32, 32) and w == (16, 3, 3, 3) and out == (64, 16, 32, 32)
    assert not needs_input_grad and not batch_last  # the images: no gradient, batch-first
    assert shapes[7][1] == (32, 16, 3, 3) and shapes[7][2] == (2, 2)
    assert all(s[5] for s in shapes[1:]) and shapes[-1][0] == (64, 64, 8, 8)


def test_each_timing_runs():
    assert conv_floor.product_seconds(16, 144, 5000, 1) > 0  # whole and blocked, both ways
    assert conv_floor.product_seconds(16, 5000, 144, 1, pixels="k") > 0
    import torch

    import deepnum

    for lib in (deepnum, torch):
        for batch_last in (False, True):
            assert conv_floor.conv_seconds(lib, (2, 3, 6, 6), (4, 3, 3, 3), (1, 1), (1, 1), True,
                                           batch_last, 1) > 0
