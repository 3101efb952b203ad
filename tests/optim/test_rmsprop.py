import numpy as np
import pytest
import torch

import deepnum as dn
from tests.optim.common import check_resume, compare_with_torch

CONFIGS = [dict(lr=0.01), dict(lr=0.01, alpha=0.9, eps=1e-6), dict(lr=0.01, momentum=0.9),
           dict(lr=0.01, centered=True), dict(lr=0.005, centered=True, momentum=0.5,
                                              weight_decay=0.1, maximize=True)]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_rmsprop_matches_torch_float64(kwargs):
    compare_with_torch(dn.optim.RMSprop, torch.optim.RMSprop, kwargs, np.float64)


def test_rmsprop_float32_and_param_groups():
    compare_with_torch(dn.optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True,
                                                                   momentum=0.9), np.float32)
    compare_with_torch(dn.optim.RMSprop, torch.optim.RMSprop, dict(momentum=0.5), np.float64,
                       split=True)


def test_rmsprop_resume():
    check_resume(dn.optim.RMSprop, dict(centered=True, momentum=0.9))


def test_rmsprop_invalid_hyperparameters():
    params = [dn.nn.Parameter(dn.zeros(2))]
    for name, value in (("lr", -0.01), ("alpha", -0.5), ("eps", -1.0), ("momentum", -0.9),
                        ("weight_decay", -1.0)):
        with pytest.raises(ValueError, match=f"RMSprop: {name} must be >= 0, got {value}"):
            dn.optim.RMSprop(params, **{name: value})
