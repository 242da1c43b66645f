"""register_hook on Values and Tensors (see or replace a gradient as it leaves the memo) and
nn.utils.clip_grad_norm_ (which must never write into a .grad array)."""
import gc
import weakref
import math

import numpy as np
import pytest
from hypothesis import given, settings

from tinygrad_memo import Tensor, Value, grad, nn
from tinygrad_memo.nn.utils import clip_grad_norm_
from tinygrad_memo.testing import expressions


def t64(a, requires_grad=True):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- seeing gradients ---------------------------------------------------------------------

def test_a_hook_sees_the_final_gradient_once_summed_over_every_path():
    a = Value(3.0)
    h = a * a                     # h reaches y by two paths
    seen = []
    h.register_hook(seen.append)
    a.register_hook(seen.append)
    y = h * 2 + h.tanh()
    y.backward()
    dh = 2 + (1 - math.tanh(9.0) ** 2)
    assert seen == [pytest.approx(dh), pytest.approx(dh * 6.0)]   # h first, then a
    assert a.grad == pytest.approx(dh * 6.0)


def test_tensor_hooks_see_arrays_of_the_nodes_shape():
    x = t64(np.ones((2, 3)))
    b = t64(np.zeros(3))
    h = x * 2 + b                 # b is broadcast: its gradient is summed back to (3,)
    shapes = []
    b.register_hook(lambda g: shapes.append(("b", g.shape)))
    h.register_hook(lambda g: shapes.append(("h", g.shape)))
    h.sum().backward()
    assert shapes == [("h", (2, 3)), ("b", (3,))]


# -- replacing gradients ------------------------------------------------------------------

def test_a_returned_gradient_replaces_it_for_dot_grad_and_everything_below():
    x = t64([1.0, 2.0])
    h = x * 3
    h.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: g + 1)
    (h * h).sum().backward()
    # dL/dh = 2h = [6, 12] -> *10 -> [60, 120]; dL/dx = 3 * that = [180, 360] -> +1
    np.testing.assert_allclose(x.grad, [181.0, 361.0])


def test_value_hook_replacement_and_grad():
    a, b = Value(2.0), Value(-1.0)
    h = a * b
    h.register_hook(lambda g: g * 0.5)
    out = h + a
    (ga, gb) = grad(out, [a, b])
    assert (ga, gb) == (0.5 * -1.0 + 1.0, 0.5 * 2.0)
    out.backward()
    assert (a.grad, b.grad) == (0.5, 1.0)


def test_hooks_run_in_registration_order_each_seeing_the_previous_result():
    x = t64([1.0])
    log = []
    x.register_hook(lambda g: log.append(g.copy()) or g * 2)
    x.register_hook(lambda g: log.append(g.copy()) or g + 1)
    (x * 5).sum().backward()
    assert [float(v[0]) for v in log] == [5.0, 10.0]
    assert x.grad[0] == 11.0


def test_hooks_see_nodes_with_create_graph_and_stay_differentiable():
    x = t64([0.5, 2.0])
    y = x ** 3
    y.register_hook(lambda g: g * 2)       # g is a Tensor here: its result is a node too
    (g,) = grad(y.sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, 2 * 3 * x.data ** 2)
    (gg,) = grad(g.sum(), [x])
    np.testing.assert_allclose(gg, 2 * 6 * x.data)
    a = Value(1.5)
    a.register_hook(lambda g: 3)           # a plain number becomes a Value node
    (ga,) = grad(a * a, [a], create_graph=True)
    assert isinstance(ga, Value) and ga.data == 3.0


@settings(max_examples=40, deadline=None)
@given(expressions())
def test_an_identity_hook_changes_nothing(expr):
    plain, hooked = expr.values(), expr.values()
    expr(*plain).backward()
    handles = [v.register_hook(lambda g: g) for v in hooked]
    expr(*hooked).backward()
    for h in handles:
        h.remove()
    assert [v.grad for v in hooked] == [v.grad for v in plain]


# -- lifetime and errors --------------------------------------------------------------------

def test_remove_unregisters_and_an_empty_table_means_no_hooks():
    x = t64([1.0])
    calls = []
    handle = x.register_hook(calls.append)
    (x * 2).sum().backward()
    handle.remove()
    handle.remove()                         # twice is harmless
    assert x._hooks is None
    (x * 2).sum().backward()
    assert len(calls) == 1


def test_a_hook_dies_with_its_node():
    h = Value(1.0) * 2
    h.register_hook(print)
    alive = weakref.ref(h)
    del h
    assert alive() is None                  # no table keeps the node (or its hook) alive


def test_a_hook_that_refers_to_its_own_tensor_does_not_keep_the_graph_alive():
    x = t64([1.0, 2.0])
    y = x * 3
    y.register_hook(lambda g, y=y: g * y.data)   # the hook holds y: a cycle the collector frees
    alive = weakref.ref(y)
    del y
    gc.collect()
    assert alive() is None


def test_a_handle_that_outlives_its_node_removes_nothing_else():
    a = Value(1.0) * 2
    handle = a.register_hook(print)
    del a
    b = Value(1.0) * 2                       # may reuse a's id
    b.register_hook(print)
    handle.remove()
    assert b._hooks == [print]


def test_hook_errors_name_what_was_wrong():
    x = t64([1.0, 2.0])
    h = x * 2
    h.register_hook(lambda g: np.ones(3))
    with pytest.raises(ValueError, match=r"returned a gradient of shape \(3,\) for a node of "
                                         r"shape \(2,\)"):
        h.sum().backward()
    a = Value(1.0)
    a.register_hook(lambda g: "big")
    with pytest.raises(TypeError, match="a Value's gradient is a number"):
        (a * 2).backward()
    with pytest.raises(TypeError, match="expected a function"):
        x.register_hook(3)
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(print)
    del h, a
    gc.collect()


# -- clip_grad_norm_ --------------------------------------------------------------------------

def test_clip_grad_norm_scales_all_gradients_together_with_new_arrays():
    w, b = t64(np.zeros((2, 2))), t64(np.zeros(2))
    w.grad = np.full((2, 2), 3.0)
    b.grad = np.array([4.0, 0.0])
    old_w = w.grad
    total = clip_grad_norm_([w, b], max_norm=1.0)
    assert total == pytest.approx(math.sqrt(4 * 9 + 16))
    joint = math.sqrt((w.grad ** 2).sum() + (b.grad ** 2).sum())
    assert joint == pytest.approx(1.0, rel=1e-5)
    assert w.grad is not old_w and (old_w == 3.0).all()      # the old array is untouched
    assert w.grad.dtype == np.float64


def test_clip_grad_norm_leaves_small_gradients_alone_and_handles_values():
    p = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    p.grad = np.array([0.1, 0.0, 0.0], dtype=np.float32)
    kept = p.grad
    assert clip_grad_norm_(p, 5.0) == pytest.approx(0.1)
    assert p.grad is kept
    a, b, none = Value(0.0), Value(0.0), t64([0.0])
    a.grad, b.grad = 3.0, 4.0
    assert clip_grad_norm_([a, b, none], 1.0, norm_type=math.inf) == 4.0
    assert (a.grad, b.grad) == (pytest.approx(0.75), pytest.approx(1.0))
    assert clip_grad_norm_([none], 1.0) == 0.0


def test_clip_grad_norm_on_a_model_in_a_training_step():
    model = nn.MLP(3, [8, 2], seed=0)
    x = Tensor(np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32))
    loss = (model(x) ** 2).sum() * 100
    loss.backward()
    total = clip_grad_norm_(model.parameters(), 0.5)
    assert total > 0.5
    after = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum())
                          for p in model.parameters()))
    assert after == pytest.approx(0.5, rel=1e-4)


def test_clip_grad_norm_errors():
    p = t64([1.0])
    p.grad = np.array([np.nan])
    assert math.isnan(clip_grad_norm_(p, 1.0))
    with pytest.raises(RuntimeError, match="NaN or inf"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm must be a non-negative number"):
        clip_grad_norm_(p, -1.0)
    with pytest.raises(ValueError, match="norm_type must be >= 1"):
        clip_grad_norm_(p, 1.0, norm_type=0.5)
    with pytest.raises(TypeError, match=r"parameters\[0\] is ndarray"):
        clip_grad_norm_([np.zeros(2)], 1.0)
