"""Pointwise functions against PyTorch: values and gradients in float64 and float32, a
finite-difference check of each, type promotion (a table of dtype pairs and Python scalars against
torch.result_type and the result of each op), and the errors PyTorch raises."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import deepnum as dn
from tests.helpers import _name, check_op, raises_both, run_both

DTYPES = [np.float64, np.float32]


def _positive(shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def _normal(shape):
    return lambda rng: rng.standard_normal(shape)


def _unit(shape):
    return lambda rng: rng.uniform(-0.9, 0.9, shape)


# name -> (fn(module, *tensors), input makers); each runs as method or function form
UNARY = {
    "sin": (lambda m, x: m.sin(x), [_normal((3, 4))]),
    "cos": (lambda m, x: x.cos(), [_normal((3, 4))]),
    "tan": (lambda m, x: m.tan(x), [_unit((3, 4))]),
    "asin": (lambda m, x: x.asin(), [_unit((5,))]),
    "acos": (lambda m, x: m.acos(x), [_unit((5,))]),
    "atan": (lambda m, x: m.atan(x), [_normal((5,))]),
    "sinh": (lambda m, x: x.sinh(), [_normal((5,))]),
    "cosh": (lambda m, x: m.cosh(x), [_normal((5,))]),
    "tanh": (lambda m, x: m.tanh(x), [_normal((3, 4))]),
    "tanh_method": (lambda m, x: x.tanh(), [_normal((3, 4))]),
    "sigmoid": (lambda m, x: m.sigmoid(x), [_normal((3, 4))]),
    "sigmoid_method": (lambda m, x: x.sigmoid(), [_normal((3, 4))]),
    "relu": (lambda m, x: m.relu(x), [_normal((3, 4))]),
    "relu_method": (lambda m, x: x.relu(), [_normal((3, 4))]),
    "exp": (lambda m, x: m.exp(x), [_normal((3, 4))]),
    "exp2": (lambda m, x: m.exp2(x), [_normal((3, 4))]),
    "expm1": (lambda m, x: x.expm1(), [_normal((3, 4))]),
    "log": (lambda m, x: m.log(x), [_positive((3, 4))]),
    "log2": (lambda m, x: x.log2(), [_positive((3, 4))]),
    "log10": (lambda m, x: m.log10(x), [_positive((3, 4))]),
    "log1p": (lambda m, x: m.log1p(x), [_positive((3, 4))]),
    "sqrt": (lambda m, x: m.sqrt(x), [_positive((3, 4))]),
    "rsqrt": (lambda m, x: x.rsqrt(), [_positive((3, 4))]),
    "reciprocal": (lambda m, x: m.reciprocal(x), [_positive((3, 4))]),
    "square": (lambda m, x: m.square(x), [_normal((3, 4))]),
    "abs": (lambda m, x: m.abs(x), [_normal((3, 4))]),
    "neg": (lambda m, x: -x, [_normal((3, 4))]),
    "erf": (lambda m, x: m.erf(x), [_normal((3, 4))]),
    "frac": (lambda m, x: m.frac(x * 3), [_normal((3, 4))]),
    "clamp": (lambda m, x: m.clamp(x, -0.5, 0.5), [_normal((3, 4))]),
    "clamp_min": (lambda m, x: x.clamp(min=0.1), [_normal((3, 4))]),
    "clamp_max": (lambda m, x: x.clamp_max(0.2), [_normal((3, 4))]),
    "clip": (lambda m, x: m.clip(x, max=0.3), [_normal((3, 4))]),
    "pow_scalar": (lambda m, x: x ** 3, [_normal((3, 4))]),
    "pow_half": (lambda m, x: x ** 0.5, [_positive((3, 4))]),
    "pow_negative": (lambda m, x: m.pow(x, -1.5), [_positive((3, 4))]),
    "rpow": (lambda m, x: 2.0 ** x, [_normal((3, 4))]),
    "nan_to_num": (lambda m, x: m.nan_to_num(x), [_normal((3, 4))]),
    "softmax": (lambda m, x: m.softmax(x, 1), [_normal((3, 4))]),
    "log_softmax": (lambda m, x: x.log_softmax(-1), [_normal((3, 4))]),
}

BINARY = {
    "add": (lambda m, a, b: a + b, [_normal((3, 1, 4)), _normal((2, 1))]),
    "add_alpha": (lambda m, a, b: m.add(a, b, alpha=2.5), [_normal((3, 4)), _normal((4,))]),
    "sub_alpha": (lambda m, a, b: a.sub(b, alpha=0.5), [_normal((3, 4)), _normal((3, 4))]),
    "rsub": (lambda m, a, b: 1 - a * b, [_normal((3, 4)), _normal((3, 4))]),
    "mul": (lambda m, a, b: m.mul(a, b), [_normal((2, 3)), _normal((1, 3))]),
    "div": (lambda m, a, b: a / b, [_normal((2, 3)), _positive((2, 3))]),
    "rdiv": (lambda m, a, b: 2 / b + a, [_normal((2, 3)), _positive((2, 3))]),
    "pow": (lambda m, a, b: m.pow(a, b), [_positive((2, 3)), _normal((2, 3))]),
    "atan2": (lambda m, a, b: m.atan2(a, b), [_normal((2, 3)), _normal((2, 3))]),
    "atan2_method": (lambda m, a, b: a.atan2(b), [_normal((2, 3)), _normal((3,))]),
    "maximum": (lambda m, a, b: m.maximum(a, b), [_normal((2, 3)), _normal((2, 3))]),
    "minimum": (lambda m, a, b: a.minimum(b), [_normal((2, 3)), _normal((3,))]),
    "where": (lambda m, a, b: m.where(a > b, a, b * 2), [_normal((2, 3)), _normal((2, 3))]),
    "where_method": (lambda m, a, b: a.where(b > 0, b), [_normal((2, 3)), _normal((2, 3))]),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.3), [_normal((2, 3)), _normal((2, 3))]),
    "addcmul": (lambda m, a, b: m.addcmul(a, a, b, value=0.5), [_normal((2, 3)), _normal((3,))]),
    "addcdiv": (lambda m, a, b: a.addcdiv(a, b, value=2), [_normal((2, 3)), _positive((2, 3))]),
    "hypot": (lambda m, a, b: m.hypot(a, b), [_normal((2, 3)), _normal((2, 3))]),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b * 3), [_normal((2, 3)), _normal((2, 3))]),
    "xlogy": (lambda m, a, b: m.xlogy(a, b), [_normal((2, 3)), _positive((2, 3))]),
    "clamp_tensors": (lambda m, a, b: m.clamp(a, min=b, max=b + 1), [_normal((2, 3)),
                                                                     _normal((2, 3))]),
    "remainder": (lambda m, a, b: m.remainder(a * 3, b), [_normal((2, 3)), _positive((2, 3))]),
    "fmod": (lambda m, a, b: m.fmod(a * 3, b), [_normal((2, 3)), _positive((2, 3))]),
    "fmod_method_negative": (lambda m, a, b: (a * 3).fmod(-b), [_normal((2, 3)),
                                                                _positive((2, 3))]),
    "div_floor": (lambda m, a, b: a - m.div(a, b, rounding_mode="floor") * b, [_normal((2, 3)),
                                                                             _positive((2, 3))]),
}

ROUNDING = ["floor", "ceil", "round", "trunc", "sign"]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch_and_finite_differences(name, rng):
    fn, makers = UNARY[name]
    check_op(fn, [make(rng) for make in makers])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_against_torch_and_finite_differences(name, rng):
    fn, makers = BINARY[name]
    check_op(fn, [make(rng) for make in makers])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ROUNDING)
def test_rounding_and_sign_have_zero_gradient(name, dtype, rng):
    x = rng.standard_normal((3, 4)) * 3
    x[0, 0] = 2.5  # round half to even, as torch
    check_op(lambda m, t: getattr(m, name)(t) * t, [x], dtypes=[dtype], gradcheck=False)

    def grad(m):
        t = m.tensor(x.astype(dtype), requires_grad=True)
        getattr(t, name)().sum().backward()
        return t.grad

    run_both(grad)


def test_round_decimals(rng):
    run_both(lambda m: m.round(m.tensor([1.2345, -2.5678], dtype=m.float64), decimals=2))


def test_abs_relu_clamp_gradients_at_their_kinks():
    """At the kink PyTorch's choice: abs'(0) = 0, relu'(0) = 0, clamp passes at the bounds."""
    def grads(m):
        x = m.tensor([-1.0, 0.0, 0.5, 1.0], requires_grad=True)
        (x.abs() + x.relu() + x.clamp(0.0, 1.0) + m.sqrt(x * x + 1)).sum().backward()
        return x.grad

    run_both(grads)


def test_maximum_minimum_split_the_gradient_on_ties():
    def grads(m):
        a = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = m.tensor([1.0, 0.0, 3.0], requires_grad=True)
        (m.maximum(a, b) * 3 + m.minimum(a, b)).sum().backward()
        return a.grad, b.grad

    run_both(grads)


def test_zero_to_a_power_gradient_is_minus_infinity_where_torch_gives_it():
    """d/dx 0^x = 0^x log 0: 0 for x >= 0 (PyTorch's mask), -inf where 0^x = inf (x < 0)."""
    for base in (lambda m: 0, lambda m: m.tensor(0.0), lambda m: m.zeros(4)):
        def grads(m, base=base):
            x = m.tensor([0.0, 1.0, -1.0, 2.5], requires_grad=True)
            y = base(m) ** x
            y.sum().backward()
            return y, x.grad

        run_both(grads)


def test_pow_at_zero_base_gradient_of_the_base():
    def grads(m):
        x = m.tensor([0.0, 0.0, 2.0], requires_grad=True)
        e = m.tensor([2.0, 0.5, 3.0], requires_grad=True)
        (x ** e).sum().backward()
        return x.grad, e.grad

    run_both(grads)


def test_pow_double_backward_at_zero():
    def grads(m):
        x = m.tensor([0.0, 1.5, 2.0], requires_grad=True)
        e = m.tensor([2.0, -1.0, 3.0], requires_grad=True)
        (gx, ge) = m.autograd.grad((x ** e).sum(), (x, e), create_graph=True)
        gx.sum().backward()
        return gx, x.grad, e.grad

    run_both(grads)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_tanh_exp_at_extremes(dtype):
    values = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])

    def f(m):
        x = m.tensor(values.astype(dtype), requires_grad=True)
        y = m.sigmoid(x) + m.tanh(x)
        y.sum().backward()
        return y, x.grad

    run_both(f)


def test_comparisons_and_predicates_give_bools(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    a[0, 0], a[0, 1], a[0, 2] = np.nan, np.inf, -np.inf
    run_both(lambda m: (m.tensor(a) < m.tensor(b), m.tensor(a) >= 0, m.tensor(a) == m.tensor(a),
                        m.tensor(a) != 1.0, m.eq(m.tensor(b), m.tensor(b)), m.gt(m.tensor(b), 0),
                        m.isnan(m.tensor(a)), m.isfinite(m.tensor(a)), m.isinf(m.tensor(a)),
                        m.tensor(a).isnan(), m.tensor(a).isfinite()))


def test_allclose_isclose_equal():
    run_both(lambda m: (m.allclose(m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0 + 1e-9])),
                        m.allclose(m.tensor([1.0, 2.0]), m.tensor([1.0, 2.1])),
                        m.tensor([1.0, 2.0]).allclose(m.tensor([1.0, 2.01]), atol=0.1),
                        m.allclose(m.tensor([float("nan")]), m.tensor([float("nan")])),
                        m.allclose(m.tensor([float("nan")]), m.tensor([float("nan")]),
                                   equal_nan=True),
                        m.isclose(m.tensor([1.0, 2.0]), m.tensor([1.0, 3.0])),
                        m.equal(m.tensor([1, 2]), m.tensor([1, 2])),
                        m.equal(m.tensor([1, 2]), m.tensor([1, 3]))))


def test_logical_and_bitwise():
    run_both(lambda m: (m.tensor([True, False]) & m.tensor([True, True]),
                        m.tensor([True, False]) | m.tensor([False, False]),
                        m.tensor([True, False]) ^ m.tensor([True, True]),
                        ~m.tensor([True, False]), ~m.tensor([1, 0]),
                        m.logical_not(m.tensor([1.0, 0.0])),
                        m.logical_and(m.tensor([1, 0]), m.tensor([2, 2])),
                        m.tensor([3, 5]) & m.tensor([1, 4])))


def test_division_modes_on_integers():
    run_both(lambda m: (m.tensor([7, -7]) / 2, m.tensor([7, -7]) // 2,
                        m.div(m.tensor([7, -7]), 2, rounding_mode="trunc"),
                        m.div(m.tensor([7.0, -7.0]), 2, rounding_mode="floor"),
                        m.tensor([7, -7]) % 3, m.remainder(m.tensor([7.5, -7.5]), 2),
                        m.floor_divide(m.tensor([7, -7]), m.tensor([2, 2]))))


# ---------------------------------------------------------------------------- type promotion
NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SHAPES = {"tensor-tensor": ((2,), (2,)), "tensor-0d": ((2,), ()), "0d-0d": ((), ()),
          "0d-tensor": ((), (2,))}


@pytest.mark.parametrize("kind", sorted(SHAPES))
@pytest.mark.parametrize("a, b", list(itertools.product(NAMES, NAMES)))
def test_promotion_table_matches_torch(a, b, kind):
    """promote_types, result_type and the dtype each op gives, for every pair of dtypes and
    every mix of dimensioned and zero-dimensional tensors."""
    sa, sb = SHAPES[kind]
    assert _name(dn.promote_types(getattr(dn, a), getattr(dn, b))) == _name(
        torch.promote_types(getattr(torch, a), getattr(torch, b)))

    def dtypes_of(m):
        x, y = m.ones(sa, dtype=getattr(m, a)), m.ones(sb, dtype=getattr(m, b))
        out = [m.result_type(x, y), (x + y).dtype, (x * y).dtype, (x / y).dtype,
               m.maximum(x, y).dtype, m.where(m.tensor(True), x, y).dtype,
               m.cat([x.reshape(-1), y.reshape(-1)]).dtype]
        if "bool" not in (a, b):
            out.append((x - y).dtype)
        return out

    run_both(dtypes_of)


@pytest.mark.parametrize("scalar", [True, 2, 2.5, -3, 1e4])
@pytest.mark.parametrize("a", NAMES)
def test_scalar_promotion_matches_torch(a, scalar):
    def dtypes_of(m):
        x = m.ones(2, dtype=getattr(m, a))
        out = [m.result_type(x, scalar), (x + scalar).dtype, (scalar * x).dtype,
               (x / scalar).dtype, (scalar / x).dtype, (x ** abs(scalar)).dtype,
               m.result_type(scalar, x)]
        if a != "bool" and not isinstance(scalar, bool):
            out += [(x - scalar).dtype, (scalar - x).dtype]
        return out

    run_both(dtypes_of)


def test_promotion_in_the_issue():
    run_both(lambda m: (m.tensor([1, 2]) + 0.5, m.tensor([1, 2]) * 1.5, m.tensor([1, 2]) / 2,
                        m.maximum(m.tensor([True, False]), m.tensor([False, False])),
                        m.tensor([True]) + m.tensor([True]), m.tensor([True]) + 1,
                        m.tensor([1], dtype=m.int8) + 300, m.tensor([1.0], dtype=m.float16) * 2.0,
                        m.tensor([1.0]) + m.tensor(2.0, dtype=m.float64),
                        m.tensor([1]) + m.tensor(2.5, dtype=m.float64),
                        m.tensor([1], dtype=m.uint8) + m.tensor([1], dtype=m.int8)))


def test_gradient_flows_back_through_promotion():
    def grads(m):
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        (x * w + m.tensor([1, 2])).sum().backward()
        return x.grad, w.grad

    run_both(grads)


@pytest.mark.parametrize("case, match", [
    (lambda m: m.tensor([True]) - m.tensor([True]), "Subtraction.*two bool tensors"),
    (lambda m: m.tensor([1.0]) - m.tensor([True]), "Subtraction.*bool tensor"),
    (lambda m: 1 - m.tensor([True, False]), "Subtraction.*bool tensor"),
    (lambda m: m.tensor([1.0]) - True, "Subtraction.*bool tensor"),
    (lambda m: m.ones(2, 3) + m.ones(4), "size of tensor a"),
    (lambda m: m.ones(2, 3) * m.ones(3, 2), "size of tensor a"),
    (lambda m: m.tensor([1, 2]) ** -1, "negative integer powers"),
    (lambda m: m.clamp(m.ones(2)), "At least one of 'min' or 'max'"),
    (lambda m: m.div(m.ones(2), 2, rounding_mode="up"), "rounding_mode"),
    (lambda m: -m.tensor([True, False]), "Negation.*bool tensor"),
    (lambda m: m.tensor([1.0]) & m.tensor([1.0]), None),
    (lambda m: ~m.tensor([1.0]), None),
])
def test_errors_match_torch(case, match):
    raises_both(case, match)


def test_integer_and_bool_inputs_of_pointwise_functions():
    run_both(lambda m: (m.tensor([-3, 0, 2]).sign(), m.tensor([True, False]).sign(),
                        m.tensor([-1, 5]).clamp(0, 3), m.tensor([-1, 5]).clamp(0.5, 3.5),
                        m.tensor([-1, 2]).abs(), m.tensor([-1, 2]).relu(),
                        m.tensor([0, 1]).exp(), m.tensor([1, 4]).sqrt(), m.tensor([True]).sigmoid(),
                        m.tensor([1, 2]).round(), m.tensor([1, 2]).floor(),
                        m.tensor([2, 3]) ** m.tensor([2, 0]), 2 ** m.tensor([1, 2]),
                        2.0 ** m.tensor([1, 2]), m.tensor([2, 3]) ** 0.5,
                        m.where(m.tensor([True, False]), 1.0, 0.0),
                        m.where(m.tensor([True, False]), m.tensor([1, 2]), 0.5),
                        m.tensor([1.0, -1.0, 0.0]) / 0, m.tensor([1, -1, 0]) / 0))


@pytest.mark.parametrize("case", [lambda m: m.tensor([1, 2]) // 0, lambda m: m.tensor([1, 2]) % 0,
                                  lambda m: m.fmod(m.tensor([1, 2]), m.tensor([1, 0])),
                                  lambda m: m.div(m.tensor([3]), 0, rounding_mode="trunc")])
def test_integer_division_by_zero_raises(case):
    raises_both(case, "ZeroDivisionError")


# ---------------------------------------------------------------------------- broadcasting
BROADCAST_OPS = {
    "add": lambda m, a, b: a + b, "sub": lambda m, a, b: a - b, "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 1), "pow": lambda m, a, b: (a * a + 0.5) ** b,
    "maximum": lambda m, a, b: m.maximum(a, b), "atan2": lambda m, a, b: m.atan2(a, b + 3),
    "where": lambda m, a, b: m.where(a > b, a, b * 2), "lerp": lambda m, a, b: a.lerp(b, 0.3),
}


@st.composite
def broadcastable_shapes(draw):
    """Two shapes that broadcast: a common shape, each side dropping leading dims and setting
    some sizes to 1."""
    shape = draw(st.lists(st.integers(1, 3), min_size=0, max_size=4))

    def side():
        lead = draw(st.integers(0, len(shape)))
        return tuple(1 if draw(st.booleans()) else n for n in shape[lead:])

    return side(), side()


@settings(max_examples=40, deadline=None)
@given(shapes=broadcastable_shapes(), name=st.sampled_from(sorted(BROADCAST_OPS)),
       seed=st.integers(0, 2**16))
def test_broadcasting_values_and_gradients_match_torch(shapes, name, seed):
    """Property: for any two broadcastable shapes, value and both gradients equal torch's (the
    gradient summed back to each operand's shape)."""
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes)
    fn = BROADCAST_OPS[name]
    check_op(fn, [a, b], gradcheck=False)
