"""Benchmark: micrograd's moons demo step and bytes per graph node, vs micrograd.

Usage: python benchmarks/scalar_moons.py [--quick] [--json FILE]
The workloads live in tinygrad_memo/bench.py (so that `tinygrad-memo bench` runs them from an
installed package); peers come with `pip install -e ".[bench]"`, missing ones are skipped.
"""
import sys

from tinygrad_memo.app.bench import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "scalar", *sys.argv[1:]]))
