"""dn.compile's prepared convolution stage against the eager layers: the same numbers bit for bit,
for every geometry it takes and every one it hands back to the op's own stage."""

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
from deepnum.fast.inference import PreparedConv

RNG = np.random.default_rng(0)


def _conv(**kw):
    return nn.Conv2d(3, 5, kw.pop("kernel", 3), **kw)


CASES = {
    "conv": lambda: [_conv()],
    "conv-relu": lambda: [_conv(padding=1), nn.ReLU()],
    "conv-relu-pool": lambda: [_conv(padding=2, kernel=5), nn.ReLU(), nn.MaxPool2d(2)],
    "strided-dilated-no-bias": lambda: [_conv(stride=2, dilation=2, bias=False), nn.ReLU(),
                                        nn.MaxPool2d(2, 1)],
    "rectangular-padding": lambda: [nn.Conv2d(3, 4, (3, 5), padding=(2, 1)), nn.ReLU(),
                                    nn.MaxPool2d((2, 3), (2, 2), dilation=(1, 2))],
    "ceil-mode-pool": lambda: [_conv(), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True)],
    "padded-pool": lambda: [_conv(), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)],
    "two-groups": lambda: [nn.Conv2d(4, 6, 3, groups=2), nn.ReLU(), nn.MaxPool2d(2)],
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_convolutions_equal_the_eager_layers_bit_for_bit(case, dtype, kernels):
    dn.manual_seed(0)
    layers = CASES[case]()
    channels = layers[0].in_channels
    model = nn.Sequential(*layers, nn.Flatten()).eval()
    if dtype == np.float64:
        model = model.double()
    compiled = dn.compile(model)
    for n in (1, 3, 3, 50, 1):  # new shapes, the same shape again, the kernels' batch size
        x = dn.tensor(RNG.standard_normal((n, channels, 13, 12)).astype(dtype))
        with dn.no_grad():
            np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())
    assert compiled.reason is None


def test_what_runs_prepared_and_what_keeps_its_stage():
    def first_stage(case, height, width):
        compiled = dn.compile(nn.Sequential(*CASES[case]()).eval())
        channels = 4 if case == "two-groups" else 3
        with dn.no_grad():
            compiled(dn.tensor(RNG.standard_normal((2, channels, height, width)).astype(
                np.float32)))
        return compiled._inference[1][0]

    assert first_stage("conv-relu-pool", 13, 12).runs
    # ceil mode, 3x3 conv then 3/2 pool: 11 rows take 5 windows exactly; 10 columns need a 5th
    # that hangs over the edge, which the op's own stage pads
    assert first_stage("ceil-mode-pool", 13, 13).runs
    assert not first_stage("ceil-mode-pool", 13, 12).runs
    assert not first_stage("padded-pool", 13, 12).runs
    assert not isinstance(first_stage("two-groups", 13, 12), PreparedConv)


def test_large_inputs_keep_the_ops_own_stage(monkeypatch):
    from deepnum.fast import inference

    monkeypatch.setattr(inference, "MAX_KEPT_COLUMNS", 1000)
    model = nn.Sequential(*CASES["conv-relu-pool"]()).eval()
    compiled = dn.compile(model)
    x = dn.tensor(RNG.standard_normal((2, 3, 13, 12)).astype(np.float32))
    with dn.no_grad():
        np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())
    assert not compiled._inference[1][0].runs
