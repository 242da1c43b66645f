"""Memory of one deep-MLP training step: the peak next to what the step must hold.

What it must hold is weights + activations (every array a graph node owns) + gradients;
the peak is tracemalloc's over forward, backward and the SGD update.
"""
from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import numpy as np

from .harness import Config, Progress, Table, run_worker, worker
from .mlp import mlp_weights


@worker("memory")
def worker_memory(depth: int, width: int, batch: int) -> dict[str, Any]:
    """tracemalloc peak of one step of a deep ReLU MLP, next to what the step must hold."""
    from ...core.engine import toposort
    from ...core.tensor import Tensor
    sizes = [width] * (depth + 1) + [10]
    w0 = mlp_weights(sizes)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(batch, width)).astype(np.float32)
    y = rng.integers(0, 10, size=batch)
    rows = np.arange(batch)
    P = [Tensor(w, requires_grad=True) for w in w0]
    x = Tensor(X)
    weights = sum(w.nbytes for w in w0)
    gc.collect()
    tracemalloc.start()
    h = x
    for i in range(0, len(P) - 2, 2):
        h = (h @ P[i] + P[i + 1]).relu()
    loss = -(h @ P[-2] + P[-1]).log_softmax(axis=-1)[rows, y].mean()
    nodes = toposort(loss)
    # every array the graph owns (views such as reshapes share their base's memory)
    acts = sum(n.data.nbytes for n in nodes if n._fn is not None and n.data.base is None)
    del nodes
    fwd_peak = tracemalloc.get_traced_memory()[1]
    loss.backward()
    for p in P:
        p.data -= 0.01 * p.grad
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    grads = sum(p.grad.nbytes for p in P)
    need = weights + acts + grads
    return {"weights": weights, "activations": acts, "gradients": grads, "peak_step": peak,
            "peak_forward": fwd_peak, "peak_total": peak + weights, "ratio": (peak + weights) / need}


def bench_memory(cfg: Config, progress: Progress, parts: list[str]) -> dict[str, Table]:
    progress.start("memory of a deep-MLP step")
    depth, width, batch = cfg.memory_shape
    o = run_worker("memory", {"depth": depth, "width": width, "batch": batch}, timeout=600)
    if "error" in o:
        raise RuntimeError(f"memory worker: {o['error']}")
    mb = lambda n: f"{n / 2**20:.1f}"  # noqa: E731
    t = Table(f"Memory: one training step of a {depth}-hidden-layer MLP, width {width}, "
              f"batch {batch}, float32 (tracemalloc)",
              ["weights MiB", "activations MiB", "gradients MiB", "sum MiB", "peak MiB", "peak / sum"])
    need = o["weights"] + o["activations"] + o["gradients"]
    t.rows.append([mb(o["weights"]), mb(o["activations"]), mb(o["gradients"]), mb(need),
                   mb(o["peak_total"]), f"{o['ratio']:.2f}x"])
    t.notes.append("activations: every array a graph node owns (matmul, bias add, relu outputs, ...);"
                   " peak: weights + tracemalloc peak over forward, backward and the SGD update")
    t.data = o
    return {"memory": t}
