"""Value: micrograd's published examples, every op against finite differences, IEEE edge cases."""
import math

import pytest
from conftest import BINARY
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_memo import GradcheckError, Value, gradcheck, no_grad
from tinygrad_memo.testing import expressions


def test_micrograd_sanity_check():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0
    assert x.grad == 46.0


def test_micrograd_more_ops():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert round(g.data, 4) == 24.7041
    assert round(a.grad, 4) == 138.8338
    assert round(b.grad, 4) == 645.5773


def test_reflected_operators_with_numbers_on_the_left():
    v = Value(4.0)
    assert (2 * v).data == 8.0
    assert (1 - v).data == -3.0
    assert (1 / v).data == 0.25
    assert (3 + v).data == 7.0
    assert (2 ** Value(3.0)).data == 8.0
    y = 1 / v
    y.backward()
    assert v.grad == pytest.approx(-1 / 16)


UNARY = {
    "relu": (lambda v: v.relu(), lambda x: 1.0 if x > 0 else 0.0),
    "tanh": (lambda v: v.tanh(), lambda x: 1 - math.tanh(x) ** 2),
    "exp": (lambda v: v.exp(), math.exp),
    "log": (lambda v: v.log(), lambda x: 1 / x),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2),
    "neg": (lambda v: -v, lambda x: -1.0),
    "pow3": (lambda v: v**3, lambda x: 3 * x**2),
    "pow-0.5": (lambda v: v**-0.5, lambda x: -0.5 * x**-1.5),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=st.floats(0.05, 3.0))
def test_unary_derivative_closed_form(name, x):
    f, df = UNARY[name]
    v = Value(x)
    f(v).backward()
    assert v.grad == pytest.approx(df(x), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(a=st.floats(0.1, 3.0), b=st.floats(0.1, 3.0))
def test_binary_ops_against_finite_differences(name, a, b):
    assert gradcheck(BINARY[name], [Value(a), Value(b)])


@settings(max_examples=150, deadline=None)
@given(expressions())
def test_random_expression_graphs_against_finite_differences(expr):
    assert gradcheck(expr, expr.values())


def test_node_used_twice_gets_the_sum_over_its_paths():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0


def test_backward_accumulates_until_zero_grad():
    a = Value(2.0)
    (a * 3).backward()
    (a * 3).backward()
    assert a.grad == 6.0
    a.zero_grad()
    assert a.grad == 0.0


def test_unsupported_operand_raises_type_error_like_python():
    with pytest.raises(TypeError, match="unsupported operand"):
        Value(1.0) + "x"
    with pytest.raises(TypeError, match="unsupported operand"):
        {} * Value(1.0)
    with pytest.raises(TypeError, match="real number"):
        Value("3")


def test_ieee_edge_cases_propagate_instead_of_raising():
    assert Value(1000.0).exp().data == math.inf
    assert Value(0.0).log().data == -math.inf
    assert math.isnan(Value(-1.0).log().data)
    assert (Value(1.0) / 0.0).data == math.inf
    assert math.isnan((Value(0.0) / 0.0).data)
    assert math.isnan((Value(-8.0) ** 0.5).data)
    assert Value(-1000.0).sigmoid().data == 0.0
    nan = Value(float("nan"))
    y = (nan * 2).tanh()
    y.backward()
    assert math.isnan(y.data) and math.isnan(nan.grad)
    z = Value(0.0)
    z.log().backward()  # d log(x)/dx at 0 is inf, not a ZeroDivisionError
    assert z.grad == math.inf


def test_no_grad_records_nothing():
    a = Value(2.0)
    with no_grad():
        b = a * a + 1
    assert b._inputs == () and b._fn is None
    b.backward()
    assert a.grad == 0.0


def test_detach_cuts_the_graph():
    a = Value(2.0)
    b = (a * a).detach() * a
    b.backward()
    assert a.grad == 4.0


def test_gradcheck_catches_a_wrong_derivative():
    from tinygrad_memo.core.engine import Op, apply

    bad_square = Op("bad_square", scalar=lambda x: x * x, vjps=(lambda g, out, ctx, x: g * 3 * x,))
    with pytest.raises(GradcheckError, match=r"input 0, its value: analytic gradient 6 but numeric 4"):
        gradcheck(lambda v: apply(bad_square, (v,)), [Value(2.0)])
    assert gradcheck(lambda v: apply(bad_square, (v,)), [Value(2.0)], raise_exception=False) is False
