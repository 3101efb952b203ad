"""dtypes against PyTorch: the dtype objects and their aliases and properties, the default dtype
(set_default_dtype and what it changes), conversions (.to, .type, .type_as, .long() ...), the
legacy typed constructors, result_type/promote_types/can_cast, and the Python conversions
(int, float, bool, index)."""

import numpy as np
import pytest
import torch

import deepnum as dn
from tests.helpers import _name, raises_both, run_both

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
         "complex64", "complex128"]
ALIASES = [("float", "float32"), ("double", "float64"), ("half", "float16"), ("long", "int64"),
           ("int", "int32"), ("short", "int16"), ("cfloat", "complex64"),
           ("cdouble", "complex128")]


@pytest.mark.parametrize("name", NAMES)
def test_dtype_properties_match_torch(name):
    run_both(lambda m: (getattr(m, name), getattr(m, name).is_floating_point,
                        getattr(m, name).is_complex, getattr(m, name).is_signed,
                        getattr(m, name).itemsize, str(getattr(m, name)).split(".")[1],
                        m.ones(2, dtype=getattr(m, name)).dtype,
                        m.ones(2, dtype=getattr(m, name)).element_size()))


@pytest.mark.parametrize("alias, name", ALIASES)
def test_dtype_aliases_are_the_same_object(alias, name):
    for m in (torch, dn):
        assert getattr(m, alias) is getattr(m, name)


def test_dtypes_compare_and_hash_like_torch():
    run_both(lambda m: (m.float32 == m.float32, m.float32 == m.float64, m.float32 != m.int32,
                        len({m.float32, m.float, m.float64}), m.ones(1).dtype == m.float32,
                        m.ones(1).dtype in (m.float16, m.float32)))
    assert dn.float32 == np.float32 and dn.ones(1).dtype == np.dtype("float32")  # NumPy too


def test_default_dtype_changes_floats_and_factories_and_is_restored():
    def f(m):
        before = m.get_default_dtype()
        m.set_default_dtype(m.float64)
        try:
            inside = (m.get_default_dtype(), m.tensor([1.5]), m.tensor(2.5), m.zeros(2),
                      m.ones(1), m.tensor([1]) / 2, m.arange(0.0, 2.0), m.ones(1) + 1.5,
                      m.randn(2).dtype, m.rand(2).dtype, m.linspace(0, 1, 3), m.full((2,), 1.5),
                      m.tensor([1]) * 0.5, m.tensor([True]).float(), m.eye(2).dtype,
                      m.tensor([1.0], dtype=m.float32) * 2.5, m.empty(1).dtype)
        finally:
            m.set_default_dtype(before)
        return before, inside, m.get_default_dtype(), m.zeros(1).dtype

    run_both(f)
    raises_both(lambda m: m.set_default_dtype(m.int64), "floating")


def test_conversions():
    run_both(lambda m: (m.tensor([1.7, -1.2]).long(), m.tensor([1.7, 0.0]).bool(),
                        m.tensor([1.7, -1.2]).int(), m.tensor([1, 0]).float(),
                        m.tensor([1, 0]).double(), m.tensor([1, 0]).half(),
                        m.tensor([1, 0]).short(), m.tensor([1, 100]).char(),
                        m.tensor([1.5, 0.0]).byte(), m.tensor([3.9, -3.9]).to(m.int64),
                        m.tensor([1, 2]).to(dtype=m.float64), m.tensor([1.0]).to(m.ones(1).int()),
                        m.tensor([1.0]).type(m.float64), m.tensor([1.0]).type(m.int16),
                        m.tensor([1.0]).type("torch.DoubleTensor" if m is torch
                                             else "deepnum.DoubleTensor"),
                        m.tensor([1.0]).type("torch.LongTensor"),
                        m.tensor([2.5]).type_as(m.ones(1, dtype=m.int32)),
                        m.tensor([True, False]).sum().dtype))


def test_conversion_is_differentiable_and_a_no_op_for_the_same_dtype():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x.double() * x.to(m.float64) + x.float()
        y.sum().backward()
        same = x.float() is x, x.to(m.float32) is x, x.to("cpu") is x, x.type(m.float32) is x
        return y, x.grad, same, x.to(m.float32, copy=True) is x

    run_both(f)


def test_type_without_arguments_names_the_tensor_type():
    """Deliberately deepnum's names: 'deepnum.FloatTensor' where torch says 'torch.FloatTensor'."""
    for m in (torch, dn):
        prefix = m.__name__
        assert m.ones(1).type() == f"{prefix}.FloatTensor"
        assert m.ones(1, dtype=m.int64).type() == f"{prefix}.LongTensor"
        assert m.ones(1, dtype=m.bool).type() == f"{prefix}.BoolTensor"
        assert m.ones(1, dtype=m.float64).type() == f"{prefix}.DoubleTensor"


def test_legacy_typed_constructors():
    run_both(lambda m: (m.FloatTensor([1, 2]), m.LongTensor([1, 2]), m.FloatTensor(2, 3).shape,
                        m.DoubleTensor([1]), m.IntTensor([1]), m.ByteTensor([1]),
                        m.BoolTensor([1, 0]), m.LongTensor(3).shape, m.HalfTensor([1.0]),
                        m.Tensor([1, 2]), m.Tensor([[1, 2]]).dtype, m.Tensor(2, 3).shape,
                        m.Tensor([]).shape))
    assert dn.Tensor(2, 3).sum().item() == 0  # deliberate: zeros, torch leaves memory as is


def test_tensor_of_an_ndarray_keeps_its_dtype_a_deliberate_difference():
    """torch.Tensor(int64 ndarray) converts to float32; deepnum.Tensor keeps the array's dtype
    (its data loaders and buffers rely on it). dn.tensor and torch.tensor agree."""
    a = np.array([1, 2])
    assert torch.Tensor(a).dtype == torch.float32
    assert dn.Tensor(a).dtype == dn.int64
    run_both(lambda m: m.tensor(a))


def test_promote_types_result_type_can_cast():
    pairs = [("int64", "float32"), ("uint8", "int8"), ("bool", "int16"), ("float16", "float64"),
             ("int32", "int64"), ("uint8", "bool"), ("int8", "float16")]
    for a, b in pairs:
        assert _name(dn.promote_types(getattr(dn, a), getattr(dn, b))) == _name(
            torch.promote_types(getattr(torch, a), getattr(torch, b)))
        for cast in ((a, b), (b, a)):
            assert dn.can_cast(getattr(dn, cast[0]), getattr(dn, cast[1])) == torch.can_cast(
                getattr(torch, cast[0]), getattr(torch, cast[1])), cast
    run_both(lambda m: (m.result_type(m.ones(1, dtype=m.int32), 1.5),
                        m.result_type(m.ones(1, dtype=m.int8), m.tensor(1000)),
                        m.result_type(m.ones(1, dtype=m.float16), m.tensor(1.0,
                                                                           dtype=m.float64)),
                        m.result_type(m.ones(1, dtype=m.bool), True),
                        m.result_type(m.ones(1, dtype=m.uint8), -1)))


def test_python_conversions():
    run_both(lambda m: (int(m.tensor(3.7)), int(m.tensor(-3.7)), float(m.tensor(2)),
                        bool(m.tensor(0.0)), bool(m.tensor([1])), [10, 20, 30][m.tensor(1)],
                        int(m.tensor([[5]])), m.tensor(2).item(), m.tensor(2.5).item(),
                        m.tensor(True).item(), m.tensor([[3]]).item(), m.tensor([1, 2]).tolist(),
                        m.tensor([1.5]).tolist(), m.tensor([[True]]).tolist(),
                        f"{m.tensor(2.345):.2f}", list(range(5)[m.tensor(2):]),
                        complex(m.tensor(1.5))))


@pytest.mark.parametrize("case, match", [
    (lambda m: [1, 2][m.tensor(1.0)], "only integer tensors"),
    (lambda m: [1, 2][m.tensor([1, 0])], "only integer tensors"),
    (lambda m: bool(m.tensor([1, 2])), "ambiguous"),
    (lambda m: int(m.tensor([1, 2])), "only one element tensors"),
    (lambda m: float(m.ones(0)), "only one element tensors"),
    (lambda m: m.tensor([1, 2]).item(), "cannot be converted to Scalar"),
    (lambda m: m.ones(2, dtype=m.int64, requires_grad=True), "floating point"),
    (lambda m: len(m.tensor(1.0)), "0-d tensor"),
    (lambda m: iter(m.tensor(1.0)), "0-d tensor"),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)
