"""Benchmark: the float32 MLP training step at batch 16/64/256/1024 vs the NumPy floor and the peers.

Usage: python benchmarks/tensor_mlp.py [--quick] [--json FILE]
The workloads live in tinygrad_memo/bench.py (so that `tinygrad-memo bench` runs them from an
installed package); peers come with `pip install -e ".[bench]"`, missing ones are skipped.
"""
import sys

from tinygrad_memo.app.bench import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "mlp", *sys.argv[1:]]))
