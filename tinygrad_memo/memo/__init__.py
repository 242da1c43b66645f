"""Memoization made measurable: Fibonacci, then gradients path by path vs backprop.

Naive recursive Fibonacci recomputes the same subproblems over and over: 2*F(n+1) - 1 calls.
A memo (a dict from n to F(n)) computes each subproblem once: 2n - 1 calls.

Gradients have the same shape of problem. d(output)/d(w) is a sum, over every path from the
output down to w, of the product of the local derivatives along the path. `path_grad` does
exactly that, path by path, reusing nothing: its cost is the number of paths times their
length, and the number of paths doubles with every level of a diamond-shaped graph.
`engine.backprop` (what ``.backward()`` runs) keeps a memo of d(output)/d(node) instead and
evaluates one local derivative per edge: `backprop_cost`. `tinygrad-memo memo` prints both.

Modules: `fibonacci`, `paths` (path_grad, count_paths, backprop_cost), `graphs` (the
example graphs), `report` (the table by depth), `first_layer` (an MLP counted from its shapes).
"""
from .fibonacci import fib_naive, fib_memo, fib_table, fib_naive_calls, FIB_NAIVE_MAX
from .paths import path_grad, count_paths, backprop_cost, memo_bytes, TooManyPathsError, DEFAULT_MAX_PATHS
from .graphs import diamond_chain, scalar_mlp
from .report import GraphRow, FibRow, MemoReport, measure_graph, measure_fib, memo_report, format_report
from .first_layer import (MLPCounts, format_count, format_mlp_counts, format_mlp_table, mlp_counts,
                          mlp_growth, scalar_cross_entropy)

__all__ = ["fib_naive", "fib_memo", "fib_table", "fib_naive_calls", "FIB_NAIVE_MAX",
           "path_grad", "count_paths", "backprop_cost", "memo_bytes", "TooManyPathsError",
           "DEFAULT_MAX_PATHS", "diamond_chain", "scalar_mlp", "GraphRow", "FibRow",
           "MemoReport", "measure_graph", "measure_fib", "memo_report", "format_report",
           "scalar_cross_entropy", "MLPCounts", "mlp_counts", "mlp_growth", "format_mlp_table",
           "format_count", "format_mlp_counts"]
