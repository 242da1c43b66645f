"""Memoization made measurable: Fibonacci, then gradients path by path vs backprop.

Naive recursive Fibonacci recomputes the same subproblems over and over: 2*F(n+1) - 1 calls.
A memo (a dict from n to F(n)) computes each subproblem once: 2n - 1 calls.

Gradients have the same shape of problem. d(output)/d(w) is a sum, over every path from the
output down to w, of the product of the local derivatives along the path. `path_grad` does
exactly that, path by path, reusing nothing: its cost is the number of paths times their
length, and the number of paths doubles with every level of a diamond-shaped graph.
`engine.backprop` (what ``.backward()`` runs) keeps a memo of d(output)/d(node) instead and
evaluates one local derivative per edge: `backprop_cost`. `tinygrad-memo memo` prints both.
"""
from __future__ import annotations

import numbers
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from .core.engine import Node, backprop, check_inputs, toposort
from .core.tensor import Tensor
from .core.value import Value

__all__ = ["fib_naive", "fib_memo", "fib_table", "fib_naive_calls", "FIB_NAIVE_MAX",
           "path_grad", "count_paths", "backprop_cost", "memo_bytes", "TooManyPathsError",
           "DEFAULT_MAX_PATHS", "diamond_chain", "scalar_mlp", "GraphRow", "FibRow",
           "MemoReport", "measure_graph", "measure_fib", "memo_report", "format_report",
           "scalar_cross_entropy", "MLPCounts", "mlp_counts", "mlp_growth", "format_mlp_table",
           "format_count", "format_mlp_counts"]

# -- Fibonacci ----------------------------------------------------------------------------

FIB_NAIVE_MAX = 30
"""`fib_naive` refuses larger n unless ``allow_slow=True``: fib_naive(30) already makes
2,692,537 calls (about 0.4 s on CPython 3.11); every +1 multiplies that by about 1.618."""


def _check_n(n: Any, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{who}: n must be a non-negative integer, got {n!r} "
                         f"({type(n).__name__})")
    if n < 0:
        raise ValueError(f"{who}: n must be a non-negative integer, got {n}")
    return int(n)


def fib_naive_calls(n: int) -> int:
    """How many calls `fib_naive(n)` makes, from the closed form 2*F(n+1) - 1.

    (Each call is a leaf returning F(0) or F(1), or makes two calls; there are F(n+1) leaves.)
    """
    n = _check_n(n, "fib_naive_calls")
    return 2 * fib_table(n + 1)[0] - 1


def fib_naive(n: int, allow_slow: bool = False) -> tuple[int, int]:
    """F(n) by the definition F(n) = F(n-1) + F(n-2), recomputing every subproblem.

    Returns ``(F(n), calls)``; calls = 2*F(n+1) - 1, exponential in n. The call tree is
    walked with an explicit stack (one pop = one call), so it never hits the recursion
    limit, but n > FIB_NAIVE_MAX is refused unless ``allow_slow=True``.
    """
    n = _check_n(n, "fib_naive")
    if n > FIB_NAIVE_MAX and not allow_slow:
        raise ValueError(f"fib_naive({n}) would make {fib_naive_calls(n):,} calls; n above "
                         f"FIB_NAIVE_MAX={FIB_NAIVE_MAX} needs allow_slow=True "
                         f"(or use fib_memo({n}))")
    value, calls = 0, 0
    stack = [n]                      # calls still to make
    while stack:
        k = stack.pop()
        calls += 1
        if k < 2:
            value += k               # F(0) = 0, F(1) = 1: F(n) is the sum of the leaves
        else:
            stack += (k - 1, k - 2)  # F(k) = F(k-1) + F(k-2), both recomputed from scratch
    return value, calls


def fib_memo(n: int) -> tuple[int, int]:
    """F(n) by the same recursion, but every F(k) is stored in ``memo`` the first time.

    Returns ``(F(n), calls)``; calls = 2n - 1 for n >= 1: each F(k), k >= 2, is computed once
    and makes two calls, the second one a memo hit. The recursion runs on an explicit stack
    of frames ``(k, step)``, so n = 100,000 works as well as n = 10.
    """
    n = _check_n(n, "fib_memo")
    memo: dict[int, int] = {}
    calls = 1
    stack = [(n, 0)]   # step 0: just called; 1: F(k-1) known, call F(k-2); 2: both known
    while stack:
        k, step = stack.pop()
        if step == 0:
            if k in memo:             # a memo hit: no work
                continue
            if k < 2:
                memo[k] = k
                continue
            stack += ((k, 1), (k - 1, 0))
        elif step == 1:
            stack += ((k, 2), (k - 2, 0))
        else:
            memo[k] = memo[k - 1] + memo[k - 2]
            continue
        calls += 1                    # the frame pushed last is a new call
    return memo[n], calls


def fib_table(n: int) -> tuple[int, int]:
    """F(n) bottom-up (dynamic programming): fill F(0), F(1), ..., F(n) in order.

    Returns ``(F(n), cells)``: n + 1 cells, each computed once from the two before it. No
    recursion and no dict, because the order of the subproblems is known in advance (as
    the topological order of a graph is, for backprop).
    """
    n = _check_n(n, "fib_table")
    table = [0, 1]
    for k in range(2, n + 1):
        table.append(table[k - 1] + table[k - 2])
    return table[n], n + 1


# -- gradients: every path vs the memo ------------------------------------------------------

DEFAULT_MAX_PATHS = 100_000
"""`path_grad` refuses graphs with more paths than this unless given a larger max_paths."""


class TooManyPathsError(ValueError):
    """`path_grad` was asked to enumerate more paths than its ``max_paths``."""

    def __init__(self, paths: int, max_paths: int) -> None:
        self.paths, self.max_paths = paths, max_paths
        super().__init__(
            f"path_grad: {paths:,} paths lead from the output to wrt, more than "
            f"max_paths={max_paths:,}; pass a larger max_paths to enumerate them anyway, "
            f"or use backward(), which evaluates one local derivative per edge")


def _targets(output: Any, wrt: Any, who: str) -> list[Node]:
    """Check ``output`` and ``wrt`` the way `grad` does; wrt as a list."""
    if not isinstance(output, Node):
        raise TypeError(f"{who}: output is {type(output).__name__}, expected a Value or Tensor")
    if isinstance(output, Tensor):
        if not output.requires_grad:
            raise ValueError(f"{who}: the output does not require grad, so it has no graph "
                             "(create its inputs with requires_grad=True)")
        if output.size != 1:
            raise ValueError(f"{who}: the output must have one element, got shape "
                             f"{output.shape}; reduce it first (e.g. .sum())")
    return check_inputs(wrt, who, "wrt")


def _seed(output: Node) -> Any:
    """d(output)/d(output): 1.0 for a Value, ones for a one-element Tensor."""
    return output._seed(None, False)


def count_paths(output: Node, wrt: Node | Iterable[Node]) -> int:
    """The number of paths from ``output`` down to the nodes of ``wrt`` (summed over wrt).

    Counted by memoization, not by enumeration: ``paths[node]`` is the number of paths from
    the output to ``node``, and in reverse topological order each node hands its finished
    count to its inputs once. This is the memo loop of `engine.backprop` with every local
    derivative replaced by 1, so it takes one step per edge even when the count is 2**1000.
    """
    targets = set(_targets(output, wrt, "count_paths"))
    paths: dict[Node, int] = {output: 1}
    for node in reversed(toposort(output)):
        n = paths[node]                  # final: every path into node has been counted
        for parent in node._inputs:
            if parent.requires_grad:
                paths[parent] = paths.get(parent, 0) + n
    return sum(paths.get(t, 0) for t in targets)


def _local_vjp(g: Any, node: Node, i: int) -> Any:
    """g times d(node)/d(node's i-th input): one local derivative, evaluated."""
    op = node._fn
    assert op is not None  # only a node made by an op has local derivatives
    return op.vjps[i](g, node.data, node._ctx, *[p.data for p in node._inputs])


def path_grad(output: Node, wrt: Node | Iterable[Node],
              max_paths: int = DEFAULT_MAX_PATHS) -> tuple[list[Any], int]:
    """Gradients of ``output`` for each node of ``wrt`` by the chain rule, path by path.

    d(output)/d(w) = sum over paths output -> ... -> w of the product of the local
    derivatives along the path. Every path is walked and its product recomputed from the
    output down; nothing is stored or reused between paths. That is the foil of
    ``.backward()``: the same sum, exponentially many terms. Returns ``(grads,
    local_derivative_evaluations)``; grads agree with ``.backward()`` up to rounding.

    First the paths are counted with `count_paths` (itself a memoized pass, one step per
    edge), and more than ``max_paths`` raises `TooManyPathsError` before any work.
    Tensor graphs work too: along a path the local Jacobians are applied as a chain of
    vector-Jacobian products. Iterative, so deep graphs need no recursion.
    """
    items = _targets(output, wrt, "path_grad")
    if isinstance(max_paths, bool) or not isinstance(max_paths, numbers.Integral) \
            or max_paths < 0:
        raise ValueError(f"path_grad: max_paths must be a non-negative integer, got {max_paths!r}")
    n_paths = count_paths(output, items)
    if n_paths > max_paths:
        raise TooManyPathsError(n_paths, max_paths)
    targets = set(items)
    # Only walk into nodes from which some target can be reached (inputs first in toposort).
    leads: set[Node] = set()
    for node in toposort(output):
        if node in targets or any(p in leads for p in node._inputs):
            leads.add(node)

    seed = _seed(output)
    grads: dict[Node, Any] = {}
    evaluations = 0
    path: list[tuple[Node, int]] = []         # the current path, as (node, input index) edges
    stack: list[tuple[Node, int, Any]] = [(output, 0, None)]   # (node, its depth, edge into it)
    while stack:
        node, depth, edge = stack.pop()
        if edge is not None:
            del path[depth - 1:]
            path.append(edge)
        if node in targets:                   # one complete path: its product, from scratch
            g = seed
            for child, i in path:
                g = _local_vjp(g, child, i)
            evaluations += len(path)
            grads[node] = g if node not in grads else grads[node] + g
        for i, parent in enumerate(node._inputs):
            if parent.requires_grad and parent in leads:
                stack.append((parent, depth + 1, (node, i)))
    return [grads[x] if x in grads else x._zero_grad_like(False) for x in items], evaluations


def backprop_cost(output: Node) -> int:
    """Local-derivative evaluations that memoized backward performs: one per edge.

    Counted by the engine during a real backward pass (`engine.backprop` with ``stats``),
    which leaves every ``.grad`` untouched.
    """
    _targets(output, (), "backprop_cost")
    stats: dict[str, int] = {}
    backprop(output, _seed(output), accumulate=False, stats=stats)
    return stats["evaluations"]


def _nbytes(g: Any) -> int:
    """Bytes of one stored gradient: 8 for a Python float (a C double), .nbytes for arrays."""
    return int(getattr(g, "nbytes", 8))


def memo_bytes(output: Node) -> int:
    """Bytes of gradient the memo stores in a backward pass: one gradient per node.

    Measured on a real backward (the gradients of every node, as the engine computes them),
    counting the numbers themselves: 8 bytes per scalar, ``nbytes`` per array. (The engine
    drops an entry once it has been passed on, so the memo's peak is lower; CPython adds
    its own object and dict overhead on top.)
    """
    _targets(output, (), "memo_bytes")
    nodes = toposort(output)
    found = backprop(output, _seed(output), accumulate=False, wanted=nodes)
    return sum(_nbytes(g) for g in found.values())


# -- the graphs of the report ----------------------------------------------------------------


def diamond_chain(depth: int, a: float = 0.7, b: float = 0.4) -> tuple[Value, list[Value]]:
    """x -> (x*a, x*b) -> their sum, ``depth`` times. Returns ``(output, [x])``.

    Every level offers two ways down, so there are 2**depth paths from the output to x,
    each 2*depth edges long, while the graph has only 6 edges per level (the constants a
    and b are leaves too). d(output)/dx = (a + b)**depth.
    """
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 0:
        raise ValueError(f"diamond_chain: depth must be a non-negative integer, got {depth!r}")
    x = Value(1.0, label="x")
    y = x
    for _ in range(depth):
        y = y * a + y * b
    return y, [x]


def scalar_mlp(layers: int, width: int = 3, seed: int = 0) -> tuple[Value, list[Value]]:
    """A micrograd-style network of Values: ``width`` inputs, ``layers - 1`` tanh layers of
    ``width`` neurons, one linear output neuron. Returns ``(output, parameters)``.

    A weight in the first layer reaches the output through every choice of one neuron per
    later hidden layer: width**(layers - 2) paths, so path counts grow by ``width`` per layer.
    """
    if isinstance(layers, bool) or not isinstance(layers, numbers.Integral) or layers < 1:
        raise ValueError(f"scalar_mlp: layers must be a positive integer, got {layers!r}")
    if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
        raise ValueError(f"scalar_mlp: width must be a positive integer, got {width!r}")
    rng = random.Random(seed)
    xs: list[Value] = [Value(rng.uniform(-1, 1)) for _ in range(width)]
    params: list[Value] = []
    for layer in range(layers):
        last = layer == layers - 1
        outs = []
        for _ in range(1 if last else width):
            ws = [Value(rng.uniform(-1, 1)) for _ in xs]
            act = Value(0.0)
            params += ws
            params.append(act)                      # the bias
            for w, x in zip(ws, xs):
                act = act + w * x
            outs.append(act if last else act.tanh())
        xs = outs
    return xs[0], params


# -- the report: naive vs memoized, by depth ---------------------------------------------


@dataclass(frozen=True)
class FibRow:
    """Fibonacci at one n; ``naive_calls`` is None where the naive run was skipped."""

    n: int
    value: int
    naive_calls: int | None
    memo_calls: int


@dataclass(frozen=True)
class GraphRow:
    """One graph at one depth; the naive fields are None where it had too many paths."""

    depth: int
    paths: int
    naive_evaluations: int | None
    naive_seconds: float | None
    memo_evaluations: int
    memo_seconds: float
    memo_bytes: int


def _best_time(fn: Callable[[], Any], repeat: int = 3, budget: float = 0.2) -> tuple[Any, float]:
    """fn's result and its best wall time over up to ``repeat`` runs (fewer if slow)."""
    best, spent, result = float("inf"), 0.0, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if spent > budget:
            break
    return result, best


def measure_fib(n: int, naive_limit: int) -> FibRow:
    """Measured call counts; naive is run only if it makes at most ``naive_limit`` calls."""
    value, memo_calls = fib_memo(n)
    naive_calls = None
    if fib_naive_calls(n) <= naive_limit:
        naive_calls = fib_naive(n, allow_slow=True)[1]
    return FibRow(n, value, naive_calls, memo_calls)


def measure_graph(depth: int, output: Node, wrt: Sequence[Node], naive_limit: int) -> GraphRow:
    """Naive path-by-path gradients (if at most ``naive_limit`` paths) vs memoized backprop,
    each counted by the code that does the work and timed (best of a few runs)."""
    paths = count_paths(output, wrt)
    naive_evals = naive_s = None
    if paths <= naive_limit:
        (_, naive_evals), naive_s = _best_time(lambda: path_grad(output, wrt, naive_limit))
    seed = _seed(output)
    stats: dict[str, int] = {}
    _, memo_s = _best_time(lambda: backprop(output, seed, accumulate=False, stats=stats))
    return GraphRow(depth, paths, naive_evals, naive_s, stats["evaluations"], memo_s,
                    memo_bytes(output))


@dataclass(frozen=True)
class MemoReport:
    """What ``tinygrad-memo memo`` measured: one row per depth for each problem."""

    fibonacci: list[FibRow]
    diamond: list[GraphRow]
    mlp: list[GraphRow]
    naive_limit: int
    width: int


def memo_report(max_depth: int, naive_limit: int = 20_000, width: int = 3) -> MemoReport:
    """Fibonacci, the diamond chain and the scalar MLP at every depth 1..max_depth, naive
    vs memoized. Naive runs are skipped beyond ``naive_limit`` calls or paths."""
    report = MemoReport([], [], [], naive_limit, width)
    for d in range(1, max_depth + 1):
        report.fibonacci.append(measure_fib(d, naive_limit))
        report.diamond.append(measure_graph(d, *diamond_chain(d), naive_limit))
        report.mlp.append(measure_graph(d, *scalar_mlp(d, width), naive_limit))
    return report


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def _count(x: int | None, skipped: str) -> str:
    return skipped if x is None else f"{x:,}"


def _ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1e3:.3f}"


def format_report(report: MemoReport) -> str:
    """The report as three plain-text tables, one row per depth."""
    fib = _table(("n", "F(n)", "naive calls", "memoized calls"), [
        (str(r.n), f"{r.value:,}", _count(r.naive_calls, "too many calls"), f"{r.memo_calls:,}")
        for r in report.fibonacci])
    header = ("depth", "paths", "naive evals", "naive ms", "memo evals", "memo ms",
              "memo bytes")

    def graph(rows: list[GraphRow]) -> str:
        return _table(header, [
            (str(r.depth), f"{r.paths:,}", _count(r.naive_evaluations, "too many paths"),
             _ms(r.naive_seconds), f"{r.memo_evaluations:,}", _ms(r.memo_seconds),
             f"{r.memo_bytes:,}") for r in rows])

    return "\n\n".join([
        "Fibonacci: calls to compute F(n), n = depth",
        fib,
        "Diamond chain: depth levels of x -> (x*a, x*b) -> sum; gradient w.r.t. the input x",
        graph(report.diamond),
        f"Scalar MLP: depth layers, width {report.width}, tanh; gradient w.r.t. every weight "
        "and bias",
        graph(report.mlp),
        "evals = local derivatives evaluated. naive = path_grad: every path on its own,\n"
        f"skipped above {report.naive_limit:,} paths (or calls). memo = the memo loop of "
        "backward (backprop_cost).\nmemo bytes = the gradients the memo stores, one per node, "
        "8 bytes each (memo_bytes).",
    ])


# -- focusing on the first layer: a classifier MLP of scalars, counted from its shapes ------


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
