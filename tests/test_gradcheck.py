"""gradcheck and numerical_grad: they must pass right gradients, catch wrong ones, and say where."""
import numpy as np
import pytest
from hypothesis import given, settings

from tinygrad_memo import GradcheckError, Tensor, Value, gradcheck, numerical_grad
from tinygrad_memo.core.engine import Op, apply
from tinygrad_memo.testing import Expression, broadcastable_shapes, expressions, tensors

# a deliberately wrong primitive: forward x**2, derivative 3x instead of 2x
BAD = Op("bad_square", array=np.square, scalar=lambda x: x * x,
         vjps=(lambda g, out, ctx, x: g * 3 * x,))


def bad_square(t):
    return apply(BAD, (t,))


def test_numerical_grad_matches_closed_forms():
    x = Tensor(np.array([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True)
    (g,) = numerical_grad(lambda t: (t ** 3).sum(), [x])
    np.testing.assert_allclose(g, 3 * x.data ** 2, rtol=1e-6)
    v = Value(0.3)
    (gv,) = numerical_grad(lambda a: a.exp(), [v])
    assert gv == pytest.approx(np.exp(0.3), rel=1e-8)
    (gw,) = numerical_grad(lambda t: t * 2, [x], grad_output=np.array([[1.0, 0], [0, 3.0]]))
    np.testing.assert_allclose(gw, [[2.0, 0.0], [0.0, 6.0]], rtol=1e-6)


def test_numerical_grad_restores_the_inputs():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    before = x.data.copy()
    numerical_grad(lambda t: (t * t).sum(), [x])
    np.testing.assert_array_equal(x.data, before)


def test_gradcheck_error_names_input_element_and_both_numbers():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([[0.5, 1.5], [2.0, -1.0]]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: (a * 2).sum() + bad_square(b).sum(), [x, y])
    msg = str(info.value)
    assert "input 1, element (0, 0)" in msg
    assert "analytic gradient 1.5 but numeric 1" in msg  # 3 * 0.5 vs 2 * 0.5
    assert "difference 0.5" in msg


def test_gradcheck_checks_every_output_element_of_a_non_scalar_output():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    assert gradcheck(lambda t: t * t, [x])
    assert not gradcheck(lambda t: bad_square(t), [x], raise_exception=False)


def test_gradcheck_refuses_float32_and_non_nodes():
    with pytest.raises(ValueError, match="input 0 is float32; finite differences need float64"):
        gradcheck(lambda t: t.sum(), [Tensor([1.0], requires_grad=True)])
    with pytest.raises(TypeError, match="input 0 is list"):
        gradcheck(lambda t: t, [[1.0]])
    with pytest.raises(TypeError, match="fn must return a Value or Tensor, got float"):
        gradcheck(lambda v: 1.0, [Value(1.0)])


@settings(deadline=None, max_examples=25)
@given(tensors(min_value=0.5, max_value=2.0))
def test_gradcheck_rejects_the_wrong_derivative_everywhere(x):
    assert not gradcheck(bad_square, [x], raise_exception=False)


@settings(max_examples=30)
@given(broadcastable_shapes(3))
def test_broadcastable_shapes_strategy(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)  # raises if they do not broadcast


@settings(max_examples=30)
@given(expressions(max_inputs=2, max_steps=6))
def test_expressions_run_on_values_and_tensors_alike(expr):
    assert isinstance(expr, Expression)
    out_v = expr(*expr.values())
    out_t = expr(*[Tensor(np.array(x)) for x in expr.inputs])
    np.testing.assert_allclose(out_t.data, out_v.data, rtol=1e-5, atol=1e-8)
    assert repr(expr).startswith("Expression(v0 = ")
    with pytest.raises(TypeError, match=f"takes {expr.n_inputs} inputs"):
        expr()


@settings(deadline=None, max_examples=20)
@given(x=tensors(shape=(3,), dtype=np.float32, min_value=0.1, max_value=0.3),
       y=tensors(shape=(2,), dtype=np.float16, min_value=-0.1, max_value=0.7))
def test_tensors_strategy_takes_bounds_a_narrow_float_cannot_hold(x, y):
    # 0.1 is not a float32: the bounds are rounded inwards instead of Hypothesis refusing them
    assert x.dtype == np.float32 and np.all((x.data >= 0.1) & (x.data <= 0.3))
    assert y.dtype == np.float16 and np.all((y.data >= -0.1) & (y.data <= 0.7))
