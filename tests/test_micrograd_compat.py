"""micrograd compatibility, read side: micrograd's own trace_graph notebook runs on our Value
with only its import lines changed, and Value agrees with micrograd's Value (the pip package
`micrograd`) on random expressions, including after user code assigns ints or NumPy floats
to ``.data``."""
from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

import numpy as np
import pytest

from tinygrad_memo import Value

graphviz = pytest.importorskip("graphviz")
micrograd = pytest.importorskip("micrograd.engine")

# -- the trace_graph.ipynb cells, verbatim -------------------------------------------------
# From github.com/karpathy/micrograd, trace_graph.ipynb (MIT licence, (c) Andrej Karpathy),
# with `from micrograd.engine import Value` replaced by the import at the top of this file.
from graphviz import Digraph  # noqa: E402


def trace(root):
    nodes, edges = set(), set()
    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)
    build(root)
    return nodes, edges


def draw_dot(root, format='svg', rankdir='LR'):
    """
    format: png | svg | ...
    rankdir: TB (top to bottom graph) | LR (left to right)
    """
    assert rankdir in ['LR', 'TB']
    nodes, edges = trace(root)
    dot = Digraph(format=format, graph_attr={'rankdir': rankdir}) #, node_attr={'rankdir': 'TB'})

    for n in nodes:
        dot.node(name=str(id(n)), label = "{ data %.4f | grad %.4f }" % (n.data, n.grad), shape='record')
        if n._op:
            dot.node(name=str(id(n)) + n._op, label=n._op)
            dot.edge(str(id(n)) + n._op, str(id(n)))

    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)

    return dot
# -- end of the notebook's cells -------------------------------------------------------------


def simple_example(Value: Any) -> Any:  # the notebook's "a very simple example" cell
    x = Value(1.0)
    y = (x * 2 + 1).relu()
    y.backward()
    return draw_dot(y)


def neuron_example(nn: Any, Value: Any) -> Any:  # the notebook's "a simple 2D neuron" cell
    random.seed(1337)
    n = nn.Neuron(2)
    x = [Value(1.0), Value(-2.0)]
    y = n(x)
    y.backward()
    return draw_dot(y)


def shape_of(dot: Any) -> tuple[Counter, Counter]:
    """The DOT graph with node ids replaced by their labels: (labels, edges between labels)."""
    labels = dict(re.findall(r'^\s*(\S+) \[label="?(.*?)"?(?: shape=record)?\]$', dot.source, re.M))
    edges = re.findall(r"^\s*(\S+) -> (\S+)$", dot.source, re.M)
    return Counter(labels.values()), Counter((labels[a], labels[b]) for a, b in edges)


def test_the_notebooks_simple_example_draws_the_same_graph_as_micrograd():
    ours, theirs = simple_example(Value), simple_example(micrograd.Value)
    assert shape_of(ours) == shape_of(theirs)
    labels, edges = shape_of(ours)
    assert labels["ReLU"] == 1 and labels["+"] == 1 and labels["*"] == 1 and sum(edges.values()) == 8
    assert "{ data 3.0000 | grad 1.0000 }" in labels


def test_the_notebooks_neuron_draws_the_same_graph_as_micrograd():
    import micrograd.nn as their_nn

    from tinygrad_memo.nn import scalar as our_nn  # the cell's `from micrograd import nn`

    ours, theirs = neuron_example(our_nn, Value), neuron_example(their_nn, micrograd.Value)
    assert shape_of(ours) == shape_of(theirs)
    labels, _ = shape_of(ours)
    assert labels["ReLU"] == 1 and labels["*"] == 2 and labels["+"] == 2


def test_op_strings_are_micrographs():
    a, b = Value(2.0), Value(3.0)
    assert [(a + b)._op, (a * b)._op, (a ** 2)._op, (a ** 2.0)._op, (a ** -1)._op, a.relu()._op,
            a.tanh()._op, a.exp()._op, a._op] == ["+", "*", "**2", "**2.0", "**-1", "ReLU", "tanh", "exp", ""]
    ma = micrograd.Value(2.0)
    assert (ma ** 2)._op == "**2" and (ma ** 2.0)._op == "**2.0" and ma.relu()._op == "ReLU"
    # one node each here; micrograd builds a - b as a + (-b), -a as a * -1, a / b as a * b**-1
    assert [(a - b)._op, (-a)._op, (a / b)._op] == ["-", "neg", "/"]
    assert (a * b)._prev == {a, b} and (a * a)._prev == {a} and a._prev == set()


# -- random expressions against micrograd's Value -------------------------------------------------

def _build(lib: Any, program: list[tuple], leaves: list[Any]) -> list[Any]:
    """Run one random program on one library's Values: each step makes a node from earlier ones."""
    nodes = list(leaves)
    for op, i, j, c in program:
        x, y = nodes[i], nodes[j]
        nodes.append({
            "+": lambda: x + y, "*": lambda: x * y, "-": lambda: x - y, "/": lambda: x / y,
            "**": lambda: x ** c, "relu": lambda: x.relu(), "neg": lambda: -x,
            "c+": lambda: c + x, "c*": lambda: c * x, "c-": lambda: c - x, "c/": lambda: c / y,
        }[op]())
    return nodes


def _program(rng: random.Random, n_leaves: int, steps: int) -> list[tuple]:
    ops = ["+", "*", "-", "/", "**", "relu", "neg", "c+", "c*", "c-", "c/"]
    return [(rng.choice(ops), rng.randrange(n_leaves + k), rng.randrange(n_leaves + k),
             rng.choice([2, 3, -1, 2.0])) for k in range(steps)]


@pytest.mark.parametrize("seed", range(60))
def test_random_expressions_agree_with_micrograd(seed):
    rng = random.Random(seed)
    while True:  # the first program micrograd runs without raising (it raises for 0 ** -1, x / 0)
        datas = [rng.choice([rng.uniform(0.5, 2.0), -rng.uniform(0.5, 2.0)]) for _ in range(4)]
        program = _program(rng, len(datas), 12)
        try:
            theirs = _build(micrograd, program, [micrograd.Value(d) for d in datas])
            their_loss = sum(theirs[-6:], micrograd.Value(0.0))
        except (ZeroDivisionError, OverflowError):
            continue
        if abs(their_loss.data) < 1e12:
            break
    ours = _build(Value, program, [Value(d) for d in datas])
    loss = sum(ours[-6:], Value(0.0))
    loss.backward()
    their_loss.backward()
    np.testing.assert_allclose([n.data for n in ours], [n.data for n in theirs], rtol=1e-9)
    np.testing.assert_allclose([n.grad for n in ours[:4]], [n.grad for n in theirs[:4]],
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("make", [int, np.float64, np.float32], ids=["int", "float64", "float32"])
def test_data_and_grad_set_to_ints_or_numpy_floats_still_backpropagate(make):
    """micrograd's Neuron has ``Value(0)`` biases and user code writes ``p.data = 0``."""
    rtol = 1e-6 if make is np.float32 else 1e-12
    for lib in (Value, micrograd.Value):
        a, b, c = lib(1.0), lib(2.0), lib(0.5)
        a.data, b.data, c.data = make(0), make(3), make(-2)
        b.grad = 0  # an int gradient to accumulate into
        y = (a * b + b ** 2 - c / b + (a - c).relu() + b ** -1) * c + 2 / b
        y.backward()
        got = [y.data, a.grad, b.grad, c.grad]
        if lib is Value:
            ours = got
    np.testing.assert_allclose(ours, got, rtol=rtol)


def test_negative_int_data_to_a_fractional_power_is_nan_not_complex():
    a = Value(1.0)
    a.data = -8
    y = a ** 0.5
    y.backward()
    assert np.isnan(y.data) and np.isnan(a.grad) and isinstance(a.grad, float)
    b = Value(1.0)
    b.data = 0
    (Value(1.0) / b).backward()  # an int zero divisor: inf, no ZeroDivisionError
    assert b.grad == -np.inf
