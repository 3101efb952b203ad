import numpy as np
import pytest
import torch

import deepnum as dn
from tests.optim.common import check_kernel_matches_numpy, check_resume, compare_with_torch

CONFIGS = [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.3),
           dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
           dict(lr=0.05, weight_decay=0.1, maximize=True)]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_sgd_matches_torch_float64(kwargs, kernels):
    compare_with_torch(dn.optim.SGD, torch.optim.SGD, kwargs, np.float64)


def test_sgd_float32_and_param_groups(kernels):
    kwargs = dict(momentum=0.9, nesterov=True)
    compare_with_torch(dn.optim.SGD, torch.optim.SGD, dict(lr=0.05, **kwargs), np.float32)
    compare_with_torch(dn.optim.SGD, torch.optim.SGD, kwargs, np.float64, split=True)


def test_sgd_resume(kernels):
    check_resume(dn.optim.SGD, dict(momentum=0.9))


def test_sgd_invalid_hyperparameters():
    params = [dn.nn.Parameter(dn.zeros(2))]
    with pytest.raises(ValueError, match="SGD: lr must be >= 0, got -0.1"):
        dn.optim.SGD(params, lr=-0.1)
    with pytest.raises(ValueError, match="SGD: momentum must be >= 0, got -1"):
        dn.optim.SGD(params, momentum=-1)
    with pytest.raises(ValueError, match="nesterov"):
        dn.optim.SGD(params, nesterov=True)
    with pytest.raises(ValueError, match="empty"):
        dn.optim.SGD([])


def test_single_tensor_is_not_iterated():
    with pytest.raises(TypeError, match="wrap it in a list"):
        dn.optim.SGD(dn.nn.Parameter(dn.zeros(3, 2)), lr=0.1)


@pytest.mark.parametrize("kwargs", [c for c in CONFIGS if "momentum" in c], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_kernel_gives_the_numpy_paths_numbers(kwargs, dtype):
    check_kernel_matches_numpy(dn.optim.SGD, kwargs, dtype)
