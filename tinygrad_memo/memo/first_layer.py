"""Focusing on the first layer: a classifier MLP of scalars, its paths and edges counted exactly
from its layer shapes (what the demo's memo report tells)."""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Sequence

from ..core.value import Value
from .report import _table


def scalar_cross_entropy(logits: Sequence[Value], target: int) -> Value:
    """-log softmax(logits)[target] for one sample, as a graph of Values.

    Built as log(sum_k exp(z_k - m)) - (z_target - m), with m = max(z) a constant so that
    exp cannot overflow, and the sum a chain of adds. This is the loss whose graph
    `mlp_counts` counts.
    """
    zs = list(logits)
    if not zs or not all(isinstance(z, Value) for z in zs):
        raise TypeError("scalar_cross_entropy: logits must be a non-empty sequence of Values")
    if isinstance(target, bool) or not isinstance(target, numbers.Integral) \
            or not 0 <= target < len(zs):
        raise ValueError(f"scalar_cross_entropy: target must be a class index in "
                         f"[0, {len(zs)}), got {target!r}")
    m = max(z.data for z in zs)
    shifted = [z - m for z in zs]
    total = shifted[0].exp()
    for d in shifted[1:]:
        total = total + d.exp()
    return total.log() - shifted[int(target)]


@dataclass(frozen=True)
class MLPCounts:
    """The gradient of one sample's loss for every first-layer weight of an MLP classifier,
    in its graph of scalars: paths, the naive chain rule's cost, the memo's cost and size."""

    sizes: tuple[int, ...]      # inputs, hidden widths..., classes
    weights: int                # first-layer weights: inputs * first hidden width
    paths_per_weight: int       # paths from the loss to each one of them (the same for all)
    paths: int                  # ... summed over all of them
    naive_evaluations: int      # path_grad: one local derivative per edge of every path
    memo_evaluations: int       # backprop_cost: one per edge of the whole graph
    memo_entries: int           # one gradient per node

    @property
    def memo_bytes(self) -> int:
        """8 bytes (a C double) per memo entry, as `memo_bytes` counts a Value graph."""
        return 8 * self.memo_entries


def _check_sizes(sizes: Any, who: str) -> tuple[int, ...]:
    try:
        out = tuple(sizes)
    except TypeError:
        out = ()
    if len(out) < 3 or any(isinstance(n, bool) or not isinstance(n, numbers.Integral)
                           or n < 1 for n in out):
        raise ValueError(f"{who}: sizes must be (inputs, hidden widths..., classes): at least "
                         f"three positive integers, got {sizes!r}")
    return tuple(int(n) for n in out)


def mlp_counts(sizes: Sequence[int]) -> MLPCounts:
    """Exact counts for the first layer's weights of the classifier MLP ``sizes`` = (inputs,
    hidden widths..., classes), from the shapes alone, so any depth takes microseconds.

    The graph is the one ``nn.scalar.MLP(sizes[0], sizes[1:])`` and `scalar_cross_entropy`
    build for one sample of Python floats: a neuron is ``b + w1*x1 + ... + wn*xn``, a chain
    of adds, with ReLU on the hidden layers (any one-input activation counts the same).
    A hidden unit reaches the loss once through every unit of each later layer, so a
    first-layer weight has (classes + 1) * (product of the later hidden widths) paths.
    tests/test_memo.py checks every figure against count_paths, path_grad, backprop_cost
    and memo_bytes on networks actually built.
    """
    sizes = _check_sizes(sizes, "mlp_counts")
    inputs, *hidden, classes = sizes
    # Walk down from the loss one layer at a time, keeping two sums over the layer's units:
    # the paths from the loss into them, and the edges along those paths.
    # Into logit z_k: loss -> log -> the chain of adds summing the exps (C - 1 edges down
    # to exp(z_1 - m), C - k + 1 to exp(z_k - m) for k >= 2) -> exp -> z_k - m -> z_k; and
    # into z_target once more: loss -> z_target - m -> z_target.
    paths = classes + 1
    lengths = 4 * classes + (classes - 1) * (classes + 2) // 2 + 2
    for n in reversed(hidden):
        # unit i (of n) is the term at place i of every neuron above it: n - i + 1 edges
        # down that neuron's chain of adds to its mul, 1 to the unit, 1 through its relu
        lengths = n * lengths + paths * (n * (n + 1) // 2 + 2 * n)
        paths = n * paths
    # a first-layer weight at place j: inputs - j + 1 edges down the chain, 1 to the weight
    per_weight = paths // hidden[0]   # the same for every weight: its unit's share
    naive = inputs * lengths + paths * (inputs * (inputs + 1) // 2 + inputs)
    # Per neuron with fan-in n: n weights, 1 bias, n muls, n adds (2 edges each), a relu on
    # hidden layers (1 edge); each first-layer mul also lifts its float input to a leaf.
    # The loss: per class a constant, a sub (2 edges) and an exp (1); classes - 1 adds,
    # the log (1) and the final sub (2).
    nodes = inputs * hidden[0] + 4 * classes + 1
    edges = 5 * classes + 1
    for i, (n, out) in enumerate(zip([inputs, *hidden], [*hidden, classes])):
        relu = i < len(hidden)
        nodes += out * (3 * n + 1 + relu)
        edges += out * (4 * n + relu)
    return MLPCounts(sizes, inputs * hidden[0], per_weight, inputs * paths, naive, edges, nodes)


def mlp_growth(inputs: int, width: int, classes: int, max_hidden: int) -> list[MLPCounts]:
    """`mlp_counts` for 1, 2, ..., max_hidden hidden layers of ``width`` units."""
    return [mlp_counts((inputs, *[width] * k, classes)) for k in range(1, max_hidden + 1)]


def format_count(x: int) -> str:
    """``x`` with thousands separators, or as ``1.23e+45`` from ten digits on: integer
    arithmetic only, so no float overflow and no limit on the digits of int-to-str."""
    if x < 10 ** 9:
        return f"{x:,}"
    e = (x.bit_length() - 1) * 30102 // 100_000     # floor(log10(x)), or a little below
    while 10 ** (e + 1) <= x:
        e += 1
    unit = 10 ** (e - 2)                             # keep three significant digits
    q, r = divmod(x, unit)
    q += 2 * r >= unit
    if q == 1000:
        q, e = 100, e + 1
    return f"{q // 100}.{q % 100:02d}e+{e}"


def _times(n: int, d: int) -> str:
    """n / d as a factor, exact for any size."""
    q = n // d
    return f"{n / d:,.1f}x" if q < 10 ** 4 else f"{format_count(q)}x"


def format_mlp_counts(c: MLPCounts) -> str:
    """The figures of one network, one per line."""
    n = format_count(c.weights)
    rows = [("paths from the loss to one first-layer weight", format_count(c.paths_per_weight)),
            (f"paths from the loss to all {n} of them", format_count(c.paths)),
            ("naive chain rule, path by path", f"{format_count(c.naive_evaluations)} "
                                               "local-derivative evaluations"),
            ("memoized backprop, one per edge", f"{format_count(c.memo_evaluations)} "
                                                "local-derivative evaluations"),
            ("naive / memoized", _times(c.naive_evaluations, c.memo_evaluations)),
            ("the memo's memory", f"{format_count(c.memo_entries)} gradients (one per node), "
                                  f"{format_count(c.memo_bytes)} bytes")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def format_mlp_table(rows: Sequence[MLPCounts], mark: tuple[int, ...] | None = None) -> str:
    """`mlp_growth`'s rows as a table, one per number of hidden layers (the row whose sizes
    equal ``mark`` is flagged "<- this model"), then the growth per layer and a legend."""
    header = ("hidden", "paths/weight", "all paths", "naive evals", "memo evals",
              "naive/memo", "memo entries", "memo bytes")
    body = [(str(len(r.sizes) - 2), format_count(r.paths_per_weight), format_count(r.paths),
             format_count(r.naive_evaluations), format_count(r.memo_evaluations),
             _times(r.naive_evaluations, r.memo_evaluations), format_count(r.memo_entries),
             format_count(r.memo_bytes)) for r in rows]
    table = _table(header, body).splitlines()
    for i, r in enumerate(rows):
        if r.sizes == mark:
            table[i + 1] += "  <- this model"
    lines = ["\n".join(table)]
    if len(rows) >= 2:
        a, b = rows[0], rows[1]
        lines.append(f"Each further hidden layer multiplies the paths by {b.paths // a.paths:,} "
                     f"and adds {b.memo_evaluations - a.memo_evaluations:,} memoized "
                     "evaluations:\nexponential against linear.")
    lines.append(
        "hidden: hidden layers. paths: from the loss to one first-layer weight, and to all\n"
        "of them. naive evals: the local derivatives the chain rule evaluates path by path\n"
        "(as path_grad does). memo evals: those memoized backward evaluates, one per edge of\n"
        "the whole graph (backprop_cost). memo entries, bytes: one gradient per node, 8 bytes\n"
        "each (memo_bytes). All counted exactly from the layer shapes (mlp_counts); 1.23e+9\n"
        "means 1,230,000,000 after rounding.")
    return "\n\n".join(lines)
