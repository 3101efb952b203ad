import numpy as np
import pytest
import torch

import deepnum as dn
from tests.optim.common import check_kernel_matches_numpy, check_resume, compare_with_torch

CONFIGS = [dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6),
           dict(lr=0.01, weight_decay=0.05), dict(lr=0.01, amsgrad=True),
           dict(lr=0.01, maximize=True, weight_decay=0.01)]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_matches_torch_float64(name, kwargs, kernels):
    compare_with_torch(getattr(dn.optim, name), getattr(torch.optim, name), kwargs, np.float64)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_float32_and_param_groups(name, kernels):
    ours, theirs = getattr(dn.optim, name), getattr(torch.optim, name)
    compare_with_torch(ours, theirs, dict(lr=0.01, amsgrad=True), np.float32)
    compare_with_torch(ours, theirs, dict(weight_decay=0.1), np.float64, split=True)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_resume(name, kernels):
    check_resume(getattr(dn.optim, name), dict(amsgrad=True))


def test_adam_invalid_hyperparameters():
    params = [dn.nn.Parameter(dn.zeros(2))]
    with pytest.raises(ValueError, match="Adam: lr must be >= 0, got -1"):
        dn.optim.Adam(params, lr=-1)
    with pytest.raises(ValueError, match=r"AdamW: betas must be two numbers in \[0, 1\), got "
                                         r"\(0.9, 1.0\)"):
        dn.optim.AdamW(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Adam: eps must be >= 0, got -1e-08"):
        dn.optim.Adam(params, eps=-1e-8)
    with pytest.raises(ValueError, match="Adam: weight_decay must be >= 0, got -0.1"):
        dn.optim.Adam(params, weight_decay=-0.1)
    with pytest.raises(ValueError, match="betas"):
        dn.optim.Adam([{"params": params, "betas": (-0.1, 0.9)}])


@pytest.mark.parametrize("kwargs", CONFIGS + [dict(lr=0.01, amsgrad=True, weight_decay=0.1)],
                         ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_kernel_gives_the_numpy_paths_numbers(name, kwargs, dtype):
    check_kernel_matches_numpy(getattr(dn.optim, name), kwargs, dtype)
