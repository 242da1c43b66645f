"""``tinygrad-memo bench``: this project against the peers that are installed.

Every workload runs the same work on each framework, interleaved (A, B, C, A, B, C, ...),
and reports the median and the minimum of the samples; ratios are always taken between
numbers measured in the same run, since absolute times on a shared machine are noise.
Each framework runs in processes of its own (``python -m tinygrad_memo.app.bench worker
...``): micrograd's graphs are cyclic garbage, and one framework's garbage would slow the
next one's collections. Peers (``pip install -e .[bench]``): micrograd, PyTorch (CPU), HIPS
autograd, MyGrad; a missing peer is skipped with a note. The NumPy floor is a hand-written
forward+backward of the same math, the floor for any NumPy-based framework.

The harness ships in the package so that an installed copy can run it. Its files:
``harness`` (peers, worker processes, timing, tables, `Config`), ``workloads`` (the
registry: one line per workload), one module per workload (``scalar``, ``chain``,
``tensor`` with ``mlp`` and ``per_op``, ``memory``), ``targets`` and ``report``.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .workloads import WORKLOADS

HELP = "the performance report against the peers that are installed (micrograd, PyTorch, ...)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument("--json", metavar="FILE", help="also write every number to FILE as JSON")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="BLAS/OpenMP threads for every framework (default 1: repeatable on a "
                             "shared machine; PyTorch gets the same)")
    parser.add_argument("--only", metavar="LIST",
                        help=f"comma-separated workloads to run, from: {', '.join(WORKLOADS)}")


def run(args: argparse.Namespace) -> int:
    from ..cli import UsageError, check_writable_file
    from . import report
    from .harness import WORKER_THREADS, Config
    only = None
    if args.only is not None:
        only = [w.strip() for w in args.only.split(",") if w.strip()]
        unknown = [w for w in only if w not in WORKLOADS]
        if unknown or not only:
            raise UsageError(f"--only: unknown workload {', '.join(unknown) or repr(args.only)}; "
                             f"choose from {', '.join(WORKLOADS)}")
    if args.json:
        d = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(d):
            raise UsageError(f"--json: directory {d} does not exist")
        check_writable_file(Path(args.json), "--json")  # before the run, not after it
    if args.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {args.threads}")
    WORKER_THREADS[0] = args.threads
    cfg = Config.quick() if args.quick else Config()
    tables = report.run_benchmarks(cfg, only)
    if args.json:
        try:
            with open(args.json, "w") as f:
                json.dump({k: {"title": t.title, "header": t.header, "rows": t.rows,
                               "notes": t.notes, "data": t.data} for k, t in tables.items()},
                          f, indent=1, default=str)
        except OSError as exc:
            raise UsageError(f"--json {args.json}: cannot write it ({exc.strerror or exc})") from None
        print(f"wrote {args.json}")
    return 0
