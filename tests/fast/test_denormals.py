"""set_flush_denormal against torch's: subnormal floats become 0, in this thread, and back."""

import numpy as np
import pytest
import torch

import deepnum as dn
from deepnum.fast import denormals


@pytest.fixture
def restore():
    yield
    dn.set_flush_denormal(False)
    torch.set_flush_denormal(False)


def test_flushing_turns_subnormal_results_into_zero_like_torch(restore):
    if not denormals.supported():
        assert dn.set_flush_denormal(True) is False
        pytest.skip("needs Numba on an x86 CPU")
    tiny = np.float32(1e-39)  # subnormal in float32
    assert dn.set_flush_denormal(True) is True and denormals.flushing()
    assert torch.set_flush_denormal(True)
    ours = (dn.tensor([tiny]) * 1.0).item()
    theirs = (torch.tensor([tiny]) * 1.0).item()
    assert ours == theirs == 0.0
    dn.set_flush_denormal(False)
    torch.set_flush_denormal(False)
    assert not denormals.flushing()
    assert (dn.tensor([tiny]) * 1.0).item() == pytest.approx(1e-39, rel=1e-3)
