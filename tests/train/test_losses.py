import numpy as np
import pytest
import torch

import deepnum as dn
from deepnum.train.losses import get_loss, multiclass_hinge_loss, perceptron_loss


def test_perceptron_loss_is_zero_when_the_true_class_wins():
    logits = dn.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]], requires_grad=True)
    loss = perceptron_loss(logits, np.array([0, 1]))
    loss.backward()
    assert loss.item() == 0
    np.testing.assert_array_equal(logits.grad.numpy(), 0)


def test_perceptron_gradient_is_rosenblatts_update():
    # One misclassified sample: the gradient moves the true class up and the winner down by x.
    x = dn.tensor([[1.0, -2.0]])
    w = dn.tensor([[0.0, 0.0], [1.0, 0.0]], requires_grad=True)  # class 1 wins for x
    loss = perceptron_loss(x @ w.T, np.array([0]))
    loss.backward()
    assert loss.item() == pytest.approx(1.0)
    np.testing.assert_allclose(w.grad.numpy(), [[-1.0, 2.0], [1.0, -2.0]])  # -x, +x


def test_hinge_loss_matches_crammer_singer_formula_and_torch_gradient(rng):
    z = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 6)
    logits = dn.tensor(z, requires_grad=True)
    multiclass_hinge_loss(logits, t).backward()
    zt = torch.tensor(z, requires_grad=True)
    margin = 1.0 - torch.nn.functional.one_hot(torch.tensor(t), 4).double()
    expected = torch.relu((zt + margin).amax(1) - zt[torch.arange(6), torch.tensor(t)]).mean()
    expected.backward()
    assert multiclass_hinge_loss(dn.tensor(z), t).item() == pytest.approx(expected.item())
    np.testing.assert_allclose(logits.grad.numpy(), zt.grad.numpy(), atol=1e-12)


def test_mse_loss_matches_column_output_to_flat_targets():
    loss = get_loss("mse")(dn.tensor([[1.0], [3.0]]), np.array([0.0, 1.0], np.float32))
    assert loss.item() == pytest.approx((1 + 4) / 2)


def test_get_loss_names_and_errors():
    assert get_loss("cross-entropy") is get_loss("cross_entropy")
    with pytest.raises(ValueError, match="unknown loss 'l7'"):
        get_loss("l7")
