"""grad(), create_graph (gradients of gradients), no_grad, detach, and the engine's promises:
no recursion, each node's gradient reused by every path, graphs freed by reference counting."""
import gc
import math
import weakref

import numpy as np
import pytest
from conftest import t64
from hypothesis import given, settings

from tinygrad_memo import Tensor, Value, grad, gradcheck, no_grad
from tinygrad_memo.core.engine import backprop, toposort
from tinygrad_memo.testing import expressions, tensors


# -- grad() ------------------------------------------------------------------------------------

def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = Value(3.0), Value(4.0)
    gx, gy = grad(x * y + x, [x, y])
    assert (gx, gy) == (5.0, 3.0)
    assert x.grad == 0.0 and y.grad == 0.0
    t = t64([1.0, 2.0])
    (gt,) = grad((t * t).sum(), [t])
    np.testing.assert_array_equal(gt, [2.0, 4.0])
    assert t.grad is None


def test_grad_of_an_intermediate_node_and_an_unused_input():
    x, unused = Value(2.0), Value(7.0)
    h = x * x
    gh, gx, gu = grad(h.tanh(), [h, x, unused])
    assert gh == pytest.approx(1 - math.tanh(4.0) ** 2)
    assert gx == pytest.approx(gh * 4.0)
    assert gu == 0.0


def test_grad_with_grad_output_is_a_vector_jacobian_product():
    x = t64([1.0, 2.0, 3.0])
    (g,) = grad(x ** 2, [x], grad_output=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(g, [2.0, 0.0, -6.0])


def test_grad_input_errors():
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"inputs\[0\] is float"):
        grad(x * 2, [1.0])
    with pytest.raises(ValueError, match=r"inputs\[1\] does not require grad"):
        t = t64([1.0])
        grad(t * 2, [t, Tensor([1.0])], grad_output=np.ones(1))
    with pytest.raises(TypeError, match="output is float"):
        grad(1.0, [x])


# -- gradients of gradients ----------------------------------------------------------------

def test_second_derivatives_of_scalars_closed_form():
    x = Value(0.7)
    (g,) = grad(x ** 3 + x.tanh(), [x], create_graph=True)
    (h,) = grad(g, [x])
    t = math.tanh(0.7)
    assert g.data == pytest.approx(3 * 0.49 + 1 - t * t)
    assert h == pytest.approx(6 * 0.7 - 2 * t * (1 - t * t))
    (h2,) = grad(grad(x.exp() * x, [x], create_graph=True)[0], [x], create_graph=True)
    (h3,) = grad(h2, [x])  # third derivative of x e^x is (x + 3) e^x
    assert h3 == pytest.approx((0.7 + 3) * math.exp(0.7))


def test_hessian_vector_product_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    v = rng.normal(size=4)
    x = t64(rng.normal(size=4))
    f = x @ (Tensor(A) @ x)
    (g,) = grad(f, [x], create_graph=True)
    np.testing.assert_allclose(g.data, (A + A.T) @ x.data)
    (hv,) = grad(g, [x], grad_output=v)
    np.testing.assert_allclose(hv, (A + A.T) @ v)


def test_backward_after_create_graph_accumulates_second_derivative():
    x = t64([1.0, 2.0])
    (g,) = grad((x ** 3).sum(), [x], create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)


SECOND_ORDER = {
    "mul_div": lambda x: (x * x / (1 + x * x)).sum(),
    "exp_log": lambda x: (x.exp() + (x * x + 1).log()).sum(),
    "tanh_sigmoid": lambda x: (x.tanh() * x.sigmoid()).sum(),
    "sqrt_pow": lambda x: ((x * x + 1).sqrt() + (x * x + 1) ** -1.5 + 2 ** x).sum(),
    "matmul": lambda x: (x @ x.T).tanh().sum(),
    "reductions": lambda x: (x.sum(axis=0) ** 2).sum() + (x.mean(axis=1, keepdims=True) * x).sum(),
    "max": lambda x: (x.max(axis=1) ** 2).sum(),
    "shape": lambda x: (x.T.reshape(-1)[::2] ** 3).sum() + (x[[0, 0, 1]] ** 2).sum(),
    "softmax": lambda x: (x.softmax(axis=1) * x).sum() + x.log_softmax(axis=0)[0].sum(),
    "broadcast": lambda x: ((x + x[0]) * x.sum(axis=0, keepdims=True)).tanh().sum(),
    "relu_abs": lambda x: ((x * x).relu() * x + x.abs() * x).sum(),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
@settings(deadline=None, max_examples=15)
@given(x=tensors(shape=(2, 3), min_value=-2, max_value=2))
def test_second_derivatives_of_every_op_against_finite_differences(name, x):
    f = SECOND_ORDER[name]
    if name in ("max", "relu_abs"):  # kinks: keep finite differences where the function is smooth
        d = x.data
        if name == "relu_abs" and np.min(np.abs(d)) < 1e-3:
            return
        if name == "max" and np.min(np.abs(np.diff(np.sort(d, axis=1), axis=1))) < 1e-3:
            return
    # d/dx of the (differentiable) gradient is the Hessian; check H @ w against differences
    assert gradcheck(lambda t: grad(f(t), [t], create_graph=True)[0], [x])


@settings(deadline=None, max_examples=60)
@given(expressions())
def test_second_derivatives_of_random_scalar_graphs(expr):
    def first(*vs):
        return sum(grad(expr(*vs), list(vs), create_graph=True), Value(0.0))
    assert gradcheck(first, expr.values(), atol=1e-4, rtol=1e-3)


# -- no_grad, detach ---------------------------------------------------------------------------

def test_no_grad_builds_no_graph_and_restores_the_mode():
    x = t64([1.0, 2.0])
    with no_grad():
        y = (x * 2).exp()
        with no_grad():
            pass
        z = x + 1
    assert not y.requires_grad and y._inputs == () and not z.requires_grad
    w = x * 2
    assert w.requires_grad


def test_no_grad_as_a_decorator():
    @no_grad()
    def f(t):
        return t * 3

    x = t64([1.0])
    assert not f(x).requires_grad and (x * 3).requires_grad


def test_detach_shares_data_and_stops_gradients():
    x = t64([1.0, 2.0])
    d = x.detach()
    assert d.data is x.data and not d.requires_grad
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


def test_zero_grad_resets():
    x = t64([1.0])
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0])
    x.zero_grad()
    assert x.grad is None


# -- the engine's promises ----------------------------------------------------------------------

def test_a_million_deep_chain_needs_no_recursion():
    x = Value(0.5)
    v = x
    for _ in range(1_000_000):
        v = v * 1.0000001
    v.backward()
    assert x.grad == pytest.approx(1.0000001 ** 1_000_000, rel=1e-9)


def test_deep_tensor_chain():
    x = t64([1.0, 2.0])
    v = x
    for _ in range(20_000):
        v = v * 1.0 + 0.0
    v.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def diamond_chain(x, depth):
    """x -> (a, b) -> a + b, repeated: 2**depth paths from the output back to x."""
    for _ in range(depth):
        x = x * 1.0 + x * 1.0
    return x


def test_diamond_chain_node_reached_by_exponentially_many_paths():
    x = Value(1.5)
    depth = 60  # 2**60 paths; the memo makes it 6 local derivatives per level
    y = diamond_chain(x, depth)
    stats = {}
    backprop(y, 1.0, stats=stats)
    assert x.grad == 2.0 ** depth  # closed form: every path contributes 1
    # per level: two products (each differentiates x and its constant 1.0) and one sum
    assert stats["evaluations"] == 6 * depth
    assert stats["nodes"] == len(toposort(y))


def test_diamond_chain_with_tensors():
    x = t64([1.0, -1.0])
    y = diamond_chain(x.tanh(), 30).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 2.0 ** 30 * (1 - np.tanh(x.data) ** 2))


def test_toposort_puts_every_input_before_its_users():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a  # a is reached directly and through c
    e = d * c + b
    order = toposort(e)
    pos = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for p in n._inputs:
            assert pos[id(p)] < pos[id(n)]
    assert len(order) == len({id(n) for n in order}) == 6  # a, b, c, d, d*c, e: each once


def test_dropped_graphs_are_freed_by_reference_counting():
    gc.collect()
    gc.disable()
    try:
        x = Value(1.0)
        t = t64(np.ones((3, 3)))
        v, y = x, t
        for _ in range(100):
            v = (v * 2 + 1).tanh() / 3
            y = (y @ y).tanh().sum(axis=0, keepdims=True) * y / 3
        v.backward()
        y.sum().backward()
        probe = weakref.ref(v)
        del v, y, x, t
        assert probe() is None  # freed at once, no cycle collector needed
        assert gc.collect() == 0
    finally:
        gc.enable()
