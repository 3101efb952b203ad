"""GoogLeNet: the reference parameter counts, torchvision's keys and layouts (a torch twin's state
dict loads unchanged and gives its outputs, auxiliary heads included), Inception's concatenation."""

import numpy as np
import pytest
import torch

import deepnum as dn
from deepnum.models import build
from deepnum.models.googlenet import GoogLeNet, GoogLeNetOutputs, Inception
from tests.helpers import check_against_torch
from tests.models.twins import TorchGoogLeNet, TorchInception, check_twin


def test_parameter_counts_and_depth():
    assert build("googlenet").num_parameters() == 6_624_904  # torchvision, no auxiliary heads
    with_aux = GoogLeNet()  # torchvision's default: aux_logits=True
    assert with_aux.num_parameters() == 13_004_888
    assert with_aux.depth == 22


def test_googlenet_matches_its_torch_twin(rng):
    """Full-size network with both auxiliary classifiers, at 64x64 (the ceil-mode pools give
    32 -> 16 -> 8 -> 4 -> 2): keys, evaluation output, the three training outputs, gradients."""
    ours = GoogLeNet(num_classes=7, aux_logits=True, dropout=0.0, dropout_aux=0.0)
    theirs = TorchGoogLeNet(num_classes=7, aux_logits=True, dropout=0.0, dropout_aux=0.0)
    assert "inception4a.branch2.1.bn.running_var" in ours.state_dict()
    assert "aux2.fc2.weight" in ours.state_dict()
    check_twin(ours, theirs, rng.standard_normal((2, 3, 64, 64)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inception_concatenates_its_branches_like_torch(dtype, rng):
    ours, theirs = Inception(6, 2, 3, 4, 2, 3, 1), TorchInception(6, 2, 3, 4, 2, 3, 1)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    out = check_against_torch(ours, theirs, [rng.standard_normal((2, 6, 5, 7))], dtype)
    assert out.shape == (2, 2 + 4 + 3 + 1, 5, 7)


def test_inception_gradcheck(rng):
    block = Inception(3, 2, 2, 2, 1, 2, 1).double()
    block.eval()
    x = dn.tensor(rng.standard_normal((1, 3, 4, 5)), requires_grad=True)
    assert dn.gradcheck(block, [x])


def test_auxiliary_heads_only_in_training(rng):
    model = GoogLeNet(num_classes=4, in_channels=1)
    x = dn.tensor(rng.standard_normal((2, 1, 28, 28)).astype(np.float32))
    out = model(x)
    assert isinstance(out, GoogLeNetOutputs)
    assert [t.shape for t in out] == [(2, 4)] * 3
    model.eval()
    with dn.no_grad():
        assert model(x).shape == (2, 4)
    plain = build("googlenet", input_shape=(1, 28, 28), num_classes=4)  # 28x28 ends at 1x1
    assert plain.aux1 is None and plain(x).shape == (2, 4)


def test_initialisation_is_torchvisions():
    """Weights N(0, 0.01^2) truncated to [-2, 2], batch norm 1 and 0."""
    dn.manual_seed(0)
    model = build("googlenet")
    w = model.inception4e.branch2[1].conv.weight.numpy()  # 320 x 160 x 3 x 3
    assert abs(w.std() / 0.01 - 1) < 0.01 and np.abs(w).max() < 2
    bn = model.inception4e.branch2[1].bn
    assert bn.eps == 0.001 and np.all(bn.weight.numpy() == 1) and np.all(bn.bias.numpy() == 0)
    reference = torch.empty(320, 160, 3, 3)
    torch.nn.init.trunc_normal_(reference, std=0.01, a=-2, b=2)
    assert abs(w.std() / reference.std().item() - 1) < 0.02


@pytest.mark.parametrize("make,match", [
    (lambda: GoogLeNet(dropout=1.2), "dropout"),
    (lambda: GoogLeNet(num_classes=0), "num_classes"),
    (lambda: build("googlenet", input_shape=(3, 224)), "input_shape"),
])
def test_bad_options_fail_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_save_and_load(tmp_path, rng):
    model = GoogLeNet(num_classes=3, in_channels=1)
    model.eval()
    dn.save(model, tmp_path / "googlenet.safetensors")
    loaded = dn.load(tmp_path / "googlenet.safetensors")
    assert loaded.aux_logits and loaded.aux2 is not None
    x = dn.tensor(rng.standard_normal((1, 1, 32, 32)).astype(np.float32))
    loaded.eval()
    with dn.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
