"""Benchmark: micrograd's moons demo step, taken apart — where the time of the notebook's
loop goes, and how much of it the graph's lifetime decides.

``tinygrad-memo bench --only scalar`` gives the ratio (issue 15's target: >= 15x micrograd).
This script says why the ratio is what it is. Each variant runs in processes of its own
(in turn, ``--rounds`` times), default gc settings, the notebook's loop
(``total_loss = loss(); model.zero_grad(); total_loss.backward(); SGD``), and reports per
step (medians and minimums; ``gc.callbacks`` times the cycle collector):

- forward: building the graph, and how much of it the collector took;
- release: the previous step's graph, freed when ``total_loss`` is replaced;
- backward: ``zero_grad()`` and ``backward()``; the whole step; full collections per step.

Variants: ``micrograd`` (its own Value and MLP), ``held`` (ours, the notebook's loop as it
is: the last loss keeps its graph alive through the next forward), ``freed`` (ours with
``Value.retains_graph = False``: backward lets go of each node's inputs, as PyTorch does,
so the graph dies inside backward), ``dropped`` (ours, the loss deleted between steps,
outside the timed part). Then, with the collector off, the Python cost of the forward and
backward alone, and the cost of one full collection with one moons graph alive.

Usage: python benchmarks/moons_anatomy.py [--steps 12] [--points 100] [--rounds 2] [--quick]
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from typing import Any

from tinygrad_memo.app.bench.scalar import moons_data, moons_loss, scalar_framework

VARIANTS = ("micrograd", "held", "freed", "dropped")
PARTS = ("forward", "forward_gc", "release", "backward", "step")


def _collector_clock() -> list[float]:
    """[seconds inside the collector so far, full collections so far, the current
    collection's start], kept by a gc callback."""
    clock = [0.0, 0.0, 0.0]  # total, full collections, start of the current collection

    def tick(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            clock[2] = time.perf_counter()
        else:
            clock[0] += time.perf_counter() - clock[2]
            clock[1] += info["generation"] == 2
    gc.callbacks.append(tick)
    return clock


def worker(variant: str, steps: int, points: int) -> dict[str, Any]:
    """Run one variant's loop in this process; per-step parts in ms."""
    Value, MLP = scalar_framework("micrograd" if variant == "micrograd" else "ours")
    if variant == "freed":
        Value.retains_graph = False
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    X, y = moons_data(points)
    params = model.parameters()
    clock = _collector_clock()
    rows: list[dict[str, float]] = []
    fulls = 0.0
    total_loss = None
    for k in range(steps + 1):
        if variant == "dropped":
            total_loss = None
        in_gc, full0 = clock[0], clock[1]
        t0 = time.perf_counter()
        new_loss = moons_loss(Value, model, X, y)
        t1 = time.perf_counter()
        forward_gc = clock[0] - in_gc
        total_loss = new_loss  # the notebook's `total_loss, acc = loss()`: the old graph goes
        del new_loss
        t2 = time.perf_counter()
        model.zero_grad()
        total_loss.backward()
        t3 = time.perf_counter()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= learning_rate * p.grad
        t4 = time.perf_counter()
        if k:  # the first step warms up
            rows.append({"forward": t1 - t0, "forward_gc": forward_gc, "release": t2 - t1,
                         "backward": t3 - t2, "step": t4 - t0})
            fulls += clock[1] - full0
    total_loss = None
    gc.disable()  # the Python alone, and one full collection with one graph alive
    fwd, bwd = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        loss = moons_loss(Value, model, X, y)
        t1 = time.perf_counter()
        model.zero_grad()
        loss.backward()
        fwd.append(t1 - t0)
        bwd.append(time.perf_counter() - t1)
        del loss
        gc.collect()
    alive = moons_loss(Value, model, X, y)  # one graph, as a step's forward leaves it
    tracked = len(gc.get_objects())
    full = []
    for _ in range(3):
        t0 = time.perf_counter()
        gc.collect()
        full.append(time.perf_counter() - t0)
    del alive
    gc.enable()
    return {"rows": rows, "fulls": fulls / steps, "python_forward": min(fwd),
            "python_backward": min(bwd), "full_collection": min(full), "tracked": tracked}


def run(variant: str, steps: int, points: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", variant, "--steps", str(steps), "--points", str(points)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if res.returncode:
        raise RuntimeError(f"moons_anatomy: the {variant} worker failed:\n{res.stderr}")
    return json.loads(res.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="20 points, 2 steps, 1 round (a smoke test)")
    ap.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.points, args.rounds = 2, 20, 1
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps, args.points)))
        return 0
    try:
        import micrograd  # noqa: F401
        variants = VARIANTS
    except ImportError:
        print("micrograd is not installed (pip install -e '.[bench]'): its row is skipped")
        variants = VARIANTS[1:]
    got: dict[str, dict[str, Any]] = {v: {"rows": []} for v in variants}
    for _ in range(args.rounds):
        for v in variants:
            out = run(v, args.steps, args.points)
            got[v]["rows"] += out["rows"]
            got[v].update({k: out[k] for k in out if k != "rows"})

    def med(v: str, part: str) -> float:
        return statistics.median(r[part] for r in got[v]["rows"]) * 1e3

    def low(v: str, part: str) -> float:
        return min(r[part] for r in got[v]["rows"]) * 1e3

    print(f"micrograd's moons step, {args.points} points, {args.rounds} x {args.steps} steps per "
          "variant, default gc; ms per step, median (min)\n")
    print("| variant | forward | of which the collector | release old graph | zero_grad + backward "
          "| step | full collections/step | vs micrograd (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for v in variants:
        cells = [f"{med(v, p):.1f} ({low(v, p):.1f})" for p in PARTS]
        vs = f"{med('micrograd', 'step') / med(v, 'step'):.1f}x" if "micrograd" in got else "-"
        print(f"| {v} | " + " | ".join(cells) + f" | {got[v]['fulls']:.2f} | {vs} |")
    print("\nwith the collector off (min of 3), and one full collection with one graph alive:\n")
    print("| variant | forward (ms) | backward (ms) | full collection (ms) | tracked objects "
          "| ns per tracked object |")
    print("|---|---|---|---|---|---|")
    for v in variants:
        g = got[v]
        print(f"| {v} | {g['python_forward'] * 1e3:.1f} | {g['python_backward'] * 1e3:.1f} | "
              f"{g['full_collection'] * 1e3:.1f} | {g['tracked']:,} | "
              f"{g['full_collection'] / g['tracked'] * 1e9:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
