"""The workloads of ``tinygrad-memo bench``, in the order the report prints them.

Adding one: a module with its worker jobs (``@worker("JOB")`` functions that time one
framework in a fresh process) and a `Bench` function ``bench_x(cfg, progress, parts)``
returning ``{table key: Table}``; then one line below. Names registered to the same
function run together in the same processes (``parts``: which of them were chosen). Its
settings, if it needs new ones, are fields of `harness.Config` (full and ``quick``); its
targets, if any, rows in `targets.targets`.
"""
from __future__ import annotations

from .chain import bench_chain
from .harness import Bench
from .memory import bench_memory
from .scalar import bench_scalar
from .tensor import bench_tensor
from .traced import bench_jit

WORKLOADS: dict[str, Bench] = {
    "scalar": bench_scalar,     # tables: scalar, nodes
    "chain": bench_chain,
    "mlp": bench_tensor,        # mlp and ops share their processes: see bench_tensor
    "ops": bench_tensor,        # tables: ops, broadcast
    "memory": bench_memory,
    "jit": bench_jit,           # traced steps (tinygrad_memo.jit) against their references
}
