"""The report: the machine, every chosen workload's tables as it finishes, then the targets."""
from __future__ import annotations

import os
import platform
import sys
from typing import TextIO

import numpy as np

from .harness import PEERS, WORKER_THREADS, Bench, Config, Progress, Table, peer
from .targets import targets
from .workloads import WORKLOADS


def machine() -> dict[str, str]:
    """CPU, cores, versions and thread count: the first line of the report."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "numpy": np.__version__, "threads": str(WORKER_THREADS[0])}
    for p in PEERS:
        mod = peer(p)
        info[p] = getattr(mod, "__version__", "installed") if mod else "not installed"
    return info


def run_benchmarks(cfg: Config, only: list[str] | None = None, progress: Progress | None = None,
                   out: TextIO | None = None) -> dict[str, Table]:
    """Run the workloads in ``only`` (all if None), printing each table to ``out`` (default:
    the current sys.stdout) as it is ready."""
    progress = progress or Progress()
    out = out or sys.stdout
    tables: dict[str, Table] = {}
    info = machine()
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + "\n", file=out)
    chosen = [name for name in WORKLOADS if not only or name in only]
    ran: list[Bench] = []
    for name in chosen:
        bench = WORKLOADS[name]
        if bench in ran:  # registered under several names: it ran them all at the first
            continue
        ran.append(bench)
        got = bench(cfg, progress, [n for n in chosen if WORKLOADS[n] is bench])
        progress.done()
        for key, table in got.items():
            tables[key] = table
            print(table.text(), file=out, flush=True)
    tt = targets(tables)
    tables["targets"] = tt
    print(tt.text(), file=out, flush=True)
    tables["machine"] = Table("machine", [], data=info)
    return tables
