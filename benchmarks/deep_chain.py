"""Benchmark: issue 3's figures in one run.

The 1,000,000-deep scalar chain (forward and backward time, vs the peers), and the per-op
overhead of a 1,000-op elementwise chain on shape (8,) next to plain NumPy's forward per op.

Usage: python benchmarks/deep_chain.py [--quick] [--json FILE]
The workloads live in tinygrad_memo/bench.py (so that `tinygrad-memo bench` runs them from an
installed package); peers come with `pip install -e ".[bench]"`, missing ones are skipped.
"""
import sys

from tinygrad_memo.app.bench import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "chain,ops", *sys.argv[1:]]))
