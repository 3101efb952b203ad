"""Devices against PyTorch: dn.device, .device, .to(device[, dtype]), .cpu(), device= on the
factories, is_cuda, dn.cuda; and the one clear error for CUDA (deepnum computes on the CPU)."""

import pytest
import torch

import deepnum as dn
from tests.helpers import run_both

CUDA = "computes on the CPU only"


def test_device_objects():
    run_both(lambda m: (m.device("cpu"), str(m.device("cpu")), m.device("cpu").type,
                        m.device("cpu").index, m.device("cpu") == m.device("cpu"),
                        str(m.device("cuda:1")), m.device("cuda", 0).index, m.device("cuda:1").type,
                        m.device(m.device("cpu")), m.device("cpu", 0).index,
                        len({m.device("cpu"), m.device("cpu")})))
    assert repr(dn.device("cpu")) == repr(torch.device("cpu")) == "device(type='cpu')"
    assert repr(dn.device("cuda", 1)) == repr(torch.device("cuda", 1))


def test_tensors_are_on_the_cpu():
    run_both(lambda m: (m.ones(2).device, m.zeros(2, device="cpu").device,
                        m.tensor([1.0], device=m.device("cpu")).device, m.ones(2).is_cuda,
                        m.ones(2).cpu(), m.ones(2).to("cpu"), m.ones(2).to(m.device("cpu")),
                        m.ones(2).to("cpu", m.float64), m.ones(2).to(m.device("cpu"), m.int32),
                        m.ones(2).to(device="cpu", dtype=m.float16), m.ones(2).to(m.zeros(1).cpu()),
                        m.ones(2).to("cpu", non_blocking=True),
                        m.randn(2, device="cpu").device, m.arange(3, device="cpu").device,
                        m.full((1,), 2.0, device="cpu").device,
                        m.zeros_like(m.ones(1), device="cpu").device,
                        m.ones(1).new_zeros(2, device="cpu").device, m.eye(2, device="cpu").device,
                        m.ones(2).get_device()))


def test_the_device_idiom_of_pytorch_programs_picks_the_cpu():
    run_both(lambda m: (m.cuda.is_available(), m.cuda.device_count(),
                        m.device("cuda" if m.cuda.is_available() else "cpu"),
                        m.backends.mps.is_available()))


@pytest.mark.parametrize("move", [
    lambda m: m.ones(2).cuda(), lambda m: m.ones(2).to("cuda"), lambda m: m.ones(2).to("cuda:0"),
    lambda m: m.ones(2).to(m.device("cuda")), lambda m: m.zeros(2, device="cuda"),
    lambda m: m.tensor([1.0], device="cuda"), lambda m: m.randn(2, device="cuda:0"),
    lambda m: m.ones(2).to("mps"), lambda m: m.ones(2).to("cuda", m.float64),
])
def test_cuda_raises_one_clear_error(move):
    """torch raises because this machine has no GPU; deepnum always, with one message."""
    with pytest.raises(RuntimeError, match=CUDA):
        move(dn)
    if not torch.cuda.is_available():
        with pytest.raises((RuntimeError, AssertionError)):
            move(torch)


def test_bad_device_strings():
    for m in (torch, dn):
        with pytest.raises(RuntimeError, match="Expected one of|Invalid device string"):
            m.device("gpu")
        with pytest.raises(RuntimeError, match="Invalid device string"):
            m.device("cuda:x")


def test_a_device_compares_with_a_string_a_deliberate_difference():
    """dn.device('cpu') == 'cpu' is True (torch: False), so `x.device == 'cpu'` means what it
    says."""
    assert dn.ones(1).device == "cpu" and dn.device("cpu") != "cuda"
    assert (torch.device("cpu") == "cpu") is False
