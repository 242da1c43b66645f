"""The node layout (engine.Node): two input slots for a binary op, labels off the node."""
import gc

import numpy as np

from tinygrad_memo import Tensor, Value
from tinygrad_memo.core import engine


def test_a_binary_node_keeps_its_inputs_in_two_slots_and_reads_them_as_a_tuple():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    assert c._x is a and c._y is b
    assert c._inputs == (a, b) and c._ctx is None
    p = a ** 3  # a unary op with a ctx: the tuple of inputs, then the ctx
    assert p._inputs == (a,) and p._ctx == 3
    assert a._inputs == () and a._ctx is None and a.is_leaf
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    s = t.sum(axis=0)
    assert s._inputs == (t,) and s._ctx[0] == (0,)


def test_a_binary_value_node_is_one_object_the_cycle_collector_tracks():
    a, b = Value(1.0), Value(2.0)
    gc.collect()
    before = len(gc.get_objects())
    nodes = [a + b for _ in range(1000)]
    added = len(gc.get_objects()) - before
    assert 1000 <= added < 1100, added  # a node each (a tuple of inputs would double it)
    assert not hasattr(nodes[0], "__dict__")
    assert Value.__basicsize__ == object.__basicsize__ + 7 * 8  # seven slots


def test_labels_live_off_the_node_and_go_when_it_dies():
    v = Value(1.0, label="x")
    w = v * 2.0
    w.label = "y"
    assert v.label == "x" and w.label == "y" and (v + 1.0).label is None
    assert "label='x'" in repr(v)
    key = id(w)
    assert key in engine._LABELS
    del w
    assert key not in engine._LABELS  # reference counting removed the entry
    v.label = None
    assert v.label is None and id(v) not in engine._LABELS
    t = Tensor([1.0, 2.0], label="t")
    assert t.label == "t" and "label='t'" in repr(t)
