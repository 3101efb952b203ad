import numpy as np
import pytest
import torch

import deepnum as dn
from tests.optim.common import check_resume, compare_with_torch

CONFIGS = [dict(lr=0.1), dict(lr=0.1, lr_decay=0.05), dict(lr=0.1, initial_accumulator_value=0.5),
           dict(lr=0.1, weight_decay=0.1, eps=1e-6, maximize=True)]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_adagrad_matches_torch_float64(kwargs):
    compare_with_torch(dn.optim.Adagrad, torch.optim.Adagrad, kwargs, np.float64)


def test_adagrad_float32_and_param_groups():
    compare_with_torch(dn.optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01),
                       np.float32)
    compare_with_torch(dn.optim.Adagrad, torch.optim.Adagrad, dict(lr_decay=0.01), np.float64,
                       split=True)


def test_adagrad_resume():
    check_resume(dn.optim.Adagrad, dict(lr_decay=0.01, initial_accumulator_value=0.1))


def test_adagrad_invalid_hyperparameters():
    params = [dn.nn.Parameter(dn.zeros(2))]
    with pytest.raises(ValueError, match="Adagrad: lr_decay must be >= 0, got -1"):
        dn.optim.Adagrad(params, lr_decay=-1)
    with pytest.raises(ValueError, match="Adagrad: initial_accumulator_value must be >= 0"):
        dn.optim.Adagrad(params, initial_accumulator_value=-1)
