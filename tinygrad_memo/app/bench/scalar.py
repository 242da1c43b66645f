"""Scalar workloads: micrograd's moons demo step, and bytes per graph node, vs micrograd.

The same network (MLP 2-16-16-1), data and loss as micrograd's demo.ipynb, on each
framework's own ``Value`` and ``MLP``; each framework runs in processes of its own.
"""
from __future__ import annotations

import gc
import random
import time
import tracemalloc
from typing import Any

from .harness import (OURS, Config, Progress, Samples, Table, missing_note, ms, peer, ratio, run_worker,
                      worker)


def moons_data(n: int) -> tuple[list[list[float]], list[float]]:
    """``n`` moons points as Python floats, labels -1 or +1 (micrograd's demo convention)."""
    from ...data import make_moons
    X, y = make_moons(n, noise=0.1, seed=0)
    return X.astype(float).tolist(), [float(2 * t - 1) for t in y]


def scalar_framework(fw: str) -> tuple[Any, Any]:
    """(Value class, MLP class) of a scalar framework, both micrograd-shaped."""
    if fw == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP
        return Value, MLP
    from ...core.value import Value
    from ...nn.scalar import MLP
    return Value, MLP


def moons_loss(Value: Any, model: Any, X: list, y: list) -> Any:
    """micrograd's demo.ipynb ``loss()``: hinge loss + 1e-4 L2 over the whole batch."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


@worker("moons")
def worker_moons(fw: str, steps: int) -> dict[str, Any]:
    """Time ``steps`` training steps of micrograd's demo (after one warm-up step), its loop
    as the notebook writes it: ``total_loss`` holds the last step's graph until the next
    step's loss replaces it, so each forward runs while the previous graph is alive (the
    cycle collector walks both) and the old graph is released inside the timed step."""
    Value, MLP = scalar_framework(fw)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    X, y = moons_data(100)
    times, losses, collections = [], [], 0
    for k in range(steps + 1):
        before = sum(s["collections"] for s in gc.get_stats())
        t0 = time.perf_counter()
        total_loss = moons_loss(Value, model, X, y)
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        dt = time.perf_counter() - t0
        losses.append(total_loss.data)
        if k:
            times.append(dt)
            collections += sum(s["collections"] for s in gc.get_stats()) - before
    return {"times": times, "loss0": losses[0], "collections": collections / steps,
            "model": f"{MLP.__module__}.{MLP.__qualname__}"}


@worker("nodes")
def worker_nodes(fw: str, n_points: int) -> dict[str, Any]:
    """Bytes per graph node: tracemalloc over the forward graph of the moons loss."""
    Value, MLP = scalar_framework(fw)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    X, y = moons_data(n_points)
    params = model.parameters()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loss = moons_loss(Value, model, X, y)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    seen, stack, seen_nodes = set(), [loss], []
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        seen_nodes.append(v)
        stack.extend(v._prev if fw == "micrograd" else v._inputs)
    ops = sum(1 for v in seen_nodes if (v._op if fw == "micrograd" else v._fn is not None))
    nodes = len(seen) - len(params)
    return {"bytes": used, "nodes": nodes, "op_nodes": ops, "bytes_per_node": used / nodes,
            "bytes_per_op_node": used / ops}


def bench_scalar(cfg: Config, progress: Progress, parts: list[str]) -> dict[str, Table]:
    """The moons step (table ``scalar``) and bytes per node (``nodes``)."""
    progress.start("scalar moons step")
    fws = [OURS] + (["micrograd"] if peer("micrograd") else [])
    res: dict[str, dict[str, Any]] = {fw: {"times": []} for fw in fws}
    for r in range(cfg.rounds_scalar):
        for fw in fws:
            progress.tick(f"{fw} (process {r + 1}/{cfg.rounds_scalar})")
            out = run_worker("moons", {"fw": fw, "steps": cfg.steps_scalar}, timeout=600)
            if "error" in out:
                raise RuntimeError(f"moons worker for {fw}: {out['error']}")
            res[fw]["times"] += out["times"]
            res[fw]["loss0"], res[fw]["model"] = out["loss0"], out["model"]
            res[fw]["collections"] = out["collections"]
    t = Table("Scalar: micrograd's moons demo step (MLP 2-16-16-1, 100 points, fwd+bwd+SGD)",
              ["framework", "median ms", "min ms", "gc collections/step", "vs micrograd (median)",
               "vs micrograd (min)"])
    mg = res.get("micrograd")
    for fw in fws:
        s = Samples(res[fw]["times"])
        t.rows.append([fw, ms(s.median), ms(s.min), f"{res[fw]['collections']:.0f}",
                       f"{Samples(mg['times']).median / s.median:.1f}x faster" if mg else "-",
                       f"{Samples(mg['times']).min / s.min:.1f}x faster" if mg else "-"])
        t.data[fw] = {"median_s": s.median, "min_s": s.min, "loss0": res[fw]["loss0"]}
    t.notes.append(f"model: {res[OURS]['model']}; each framework in its own processes "
                   f"({cfg.rounds_scalar} x {cfg.steps_scalar} steps, interleaved), default gc settings, "
                   "the notebook's loop as it is (the last step's loss held until the next replaces it)")
    if mg:
        same = abs(mg["loss0"] - res[OURS]["loss0"]) <= 1e-9 * max(1.0, abs(mg["loss0"]))
        t.notes.append(f"first-step loss: {res[OURS]['loss0']:.12f} (ours) vs {mg['loss0']:.12f} "
                       f"(micrograd): {'same' if same else 'DIFFERENT'}")
        t.data["speedup"] = Samples(mg["times"]).median / Samples(res[OURS]["times"]).median
    t.notes += missing_note([p for p in ["micrograd"] if p not in fws])

    progress.start("bytes per scalar graph node")
    m = Table("Scalar: bytes per graph node (tracemalloc, forward graph of the moons loss)",
              ["framework", "nodes", "op nodes", "bytes/node", "bytes/op node", "vs micrograd"])
    nodes = {}
    for fw in fws:
        progress.tick(fw)
        nodes[fw] = run_worker("nodes", {"fw": fw, "n_points": cfg.nodes_points}, timeout=600)
    for fw in fws:
        o = nodes[fw]
        m.rows.append([fw, f"{o['nodes']:,}", f"{o['op_nodes']:,}", f"{o['bytes_per_node']:.0f}",
                       f"{o['bytes_per_op_node']:.0f}",
                       ratio(o["bytes_per_node"], nodes["micrograd"]["bytes_per_node"])
                       if "micrograd" in nodes else "-"])
        m.data[fw] = o
    m.notes.append("a node is every Value the forward creates (inputs, lifted constants, op "
                   "results); both frameworks build the same graph, so the ratio is the same per "
                   "node and per op node")
    m.notes += missing_note([p for p in ["micrograd"] if p not in fws])
    return {"scalar": t, "nodes": m}
