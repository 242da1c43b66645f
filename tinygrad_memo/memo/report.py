"""The table "naive vs memoized" by depth: Fibonacci calls and backprop's local derivatives."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..core.engine import Node, backprop
from .fibonacci import fib_memo, fib_naive, fib_naive_calls
from .paths import _seed, count_paths, memo_bytes, path_grad
from .graphs import diamond_chain, scalar_mlp


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
