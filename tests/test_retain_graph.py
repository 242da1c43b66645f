"""retain_graph: the memo's own memory. retain_graph=False frees the graph during backward
(each node lets go of its inputs once its gradient is passed on); a second backward then
raises GraphFreedError. Value graphs are kept by default (micrograd), Tensor graphs freed (PyTorch)."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest
from conftest import t64
from hypothesis import given, settings

from tinygrad_memo import Tensor, Value, grad
from tinygrad_memo.core import engine
from tinygrad_memo.core.engine import GraphFreedError
from tinygrad_memo.testing import expressions


# -- the default keeps the graph: micrograd's semantics -------------------------------------

def test_default_keeps_the_graph_so_backward_can_run_twice():
    a, b = Value(2.0), Value(3.0)
    y = a * b + a
    y.backward()
    y.backward()                       # micrograd: gradients accumulate
    assert (a.grad, b.grad) == (8.0, 4.0)
    assert Value.retains_graph is True


def test_tensor_graphs_are_freed_by_default_like_pytorch():
    assert Tensor.retains_graph is False
    x = t64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(GraphFreedError, match="second time"):
        y.backward()
    z = (x * x).sum()
    (g1,) = grad(z, [x], retain_graph=True)
    (g2,) = grad(z, [x])
    np.testing.assert_array_equal(g1, g2)
    with pytest.raises(GraphFreedError):
        grad(z, [x])


# -- retain_graph=False: freed, and a second backward says so ------------------------------

@pytest.mark.parametrize("first", ["backward", "grad"])
def test_second_backward_through_a_freed_graph_raises(first):
    x = t64([1.0, -2.0, 3.0])
    y = (x.tanh() * x).sum()
    if first == "backward":
        y.backward(retain_graph=False)
    else:
        grad(y, [x], retain_graph=False)
    with pytest.raises(GraphFreedError, match="backward through the graph a second time"):
        y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        grad(y, [x])
    assert isinstance(GraphFreedError("x"), RuntimeError)


def test_a_graph_sharing_a_freed_part_raises_too():
    a = Value(1.5)
    h = a.tanh()
    l1, l2 = h * 2, h * 3
    l1.backward(retain_graph=False)      # frees l1 and h
    with pytest.raises(GraphFreedError):
        l2.backward()
    a.grad = 0.0
    m = a.tanh()
    m1, m2 = m * 2, m * 3
    m1.backward(retain_graph=True)       # kept: the second loss can use the shared part
    m2.backward(retain_graph=False)
    assert a.grad == pytest.approx(5 * (1 - np.tanh(1.5) ** 2))


def test_retain_graph_true_allows_any_number_of_passes():
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    y = (x @ x).sum()
    for _ in range(3):
        y.backward(retain_graph=True)
    (once,) = grad((x @ x).sum(), [x])
    np.testing.assert_allclose(x.grad, 3 * once)


@settings(max_examples=60, deadline=None)
@given(expressions())
def test_freeing_does_not_change_the_gradients(expr):
    kept, freed = expr.values(), expr.values()
    expr(*kept).backward(retain_graph=True)
    expr(*freed).backward(retain_graph=False)
    assert [v.grad for v in freed] == [v.grad for v in kept]


def test_create_graph_keeps_the_graph_even_with_retain_graph_false():
    x = t64([0.5, -1.0])
    y = (x ** 3).sum()
    (g,) = grad(y, [x], create_graph=True, retain_graph=False)
    g.sum().backward(retain_graph=False)          # d/dx sum(3x^2) = 6x
    np.testing.assert_allclose(x.grad, 6 * x.data)
    a = Value(2.0)
    out = a ** 3
    out.backward(create_graph=True)
    a.grad.backward()                              # through the kept graph: 6a
    assert a.grad.data == pytest.approx(12.0 + 12.0)


def test_a_value_graph_can_be_freed_when_asked():
    a = Value(2.0)
    y = a * a
    y.backward(retain_graph=False)
    with pytest.raises(GraphFreedError):
        y.backward()
    y2 = a * a
    y2.backward(retain_graph=True)
    y2.backward()
    assert a.grad == 12.0


def test_stats_count_every_node_when_freeing():
    x = t64([1.0, 2.0])
    y = (x * x + x).sum()
    stats = {}
    engine.backprop(y, np.ones(()), stats=stats, retain_graph=False)
    assert stats == {"nodes": 4, "evaluations": 5}   # x, x*x, +x, sum; 2 + 2 + 1 edges


# -- memory: what retain_graph=False gives back -------------------------------------------

def test_freed_intermediates_die_during_backward_even_while_the_loss_is_held():
    x = t64(np.ones((4, 4)))
    h1 = (x * 2).tanh()
    refs = [weakref.ref(h1)]
    h = h1
    for _ in range(5):
        h = (h * 1.5).tanh()
        refs.append(weakref.ref(h))
    loss = h.sum()
    del h, h1
    gc.collect()
    assert all(r() is not None for r in refs)      # held by the loss's graph
    loss.backward(retain_graph=False)
    assert all(r() is None for r in refs)           # the loss no longer holds anything
    assert loss.data.shape == () and x.grad.shape == (4, 4)


def test_the_graph_is_freed_but_nodes_the_user_holds_keep_their_data():
    a = Value(0.3)
    h = a.tanh()
    y = h * h
    y.backward(retain_graph=False)
    assert h.data == pytest.approx(np.tanh(0.3)) and h.grad == pytest.approx(2 * np.tanh(0.3))
    assert not y.is_leaf                            # still knows its op, not its inputs
    assert repr(y._inputs) == "<inputs freed by backward>"


def _chain_with_weights(n_layers, shape):
    """Weights for h_k = h_{k-1} * w_k: their gradients are as big as the activations."""
    rng = np.random.default_rng(0)
    return [t64(rng.uniform(0.9, 1.1, shape)) for _ in range(n_layers)]


def _peak_of_step(ws, x, retain):
    tracemalloc.start()
    try:
        h = x
        for w in ws:
            h = h * w
        loss = h.sum()
        del h
        loss.backward(retain_graph=retain)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_of_backward_is_lower_when_the_graph_is_freed():
    shape, n = (64, 64), 24                         # 32 KiB per array
    ws = _chain_with_weights(n, shape)
    x = Tensor(np.ones(shape))
    kept = _peak_of_step(ws, x, retain=True)        # every activation + every weight grad
    for w in ws:
        w.grad = None
    freed = _peak_of_step(ws, x, retain=False)      # activations die as grads are made
    act = 64 * 64 * 8 * n
    assert kept > 1.8 * act
    assert freed < 0.7 * kept, (freed, kept)


def test_a_held_loss_keeps_nothing_alive_into_the_next_step():
    """A training loop keeps `loss` until the next step's forward is done: with a freed graph
    that costs nothing, with a kept one two graphs live at once."""
    shape, n = (64, 64), 16
    ws = _chain_with_weights(n, shape)
    x = Tensor(np.ones(shape))

    def two_steps(retain):
        tracemalloc.start()
        try:
            loss = None
            for _ in range(2):
                h = x
                for w in ws:
                    h = h * w
                loss = h.sum()                      # the previous loss dies only here
                del h
                for w in ws:
                    w.grad = None
                loss.backward(retain_graph=retain)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    kept, freed = two_steps(True), two_steps(False)
    assert freed < 0.75 * kept, (freed, kept)
