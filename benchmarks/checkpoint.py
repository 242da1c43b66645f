"""Benchmark: gradient checkpointing, the memory/time trade-off of one training step.

A deep ReLU MLP (default 32 hidden layers of width 512, batch 256, float32, 10 classes,
cross-entropy) takes one SGD step, plainly and with every block (Linear + ReLU) wrapped in
`tinygrad_memo.checkpoint`. Reported, each as checkpointed / plain:

- activations: the memory the graph holds when the forward pass ends (tracemalloc, the
  arrays allocated by the forward and still alive): what backward will need;
- peak: tracemalloc's peak over the whole step (forward, backward, update), on top of the
  weights, so it includes the gradients of the weights that both runs must make;
- time: median step time, the two variants interleaved (A, B, A, B, ...) so that load on
  a shared machine hits both alike.

Targets (issue 8): activations <= 0.5x at a step time <= 1.5x.

Usage: python benchmarks/checkpoint.py [--depth 32] [--width 512] [--batch 256]
                                       [--repeats 7] [--quick]
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from typing import Callable

import numpy as np

from tinygrad_memo import Tensor, checkpoint, nn, optim


def build(depth: int, width: int, seed: int = 0) -> tuple[list[nn.Linear], nn.Linear]:
    rng = np.random.default_rng(seed)
    blocks = [nn.Linear(width, width, seed=rng) for _ in range(depth)]
    return blocks, nn.Linear(width, 10, seed=rng)


def make_step(blocks: list[nn.Linear], head: nn.Linear, x: Tensor, y: np.ndarray,
              use_checkpoint: bool, retain_graph: bool | None = None) -> Callable[..., Tensor]:
    """One training step; ``between`` (if given) runs after the forward, before backward."""
    params = [p for layer in blocks + [head] for p in layer.parameters()]
    opt = optim.SGD(params, lr=1e-3)
    relu_blocks = [lambda h, layer=layer: layer(h).relu() for layer in blocks]

    def step(between: Callable[[], None] | None = None) -> Tensor:
        opt.zero_grad()
        h = x
        for block in relu_blocks:
            h = checkpoint(block, h) if use_checkpoint else block(h)
        loss = nn.cross_entropy(head(h), y)
        del h
        if between is not None:
            between()
        loss.backward(retain_graph=retain_graph)
        opt.step()
        return loss
    return step


def memory(step: Callable[..., Tensor]) -> dict[str, int]:
    """Bytes: what the graph holds after the forward pass, and the peak over the step."""
    gc.collect()
    held: dict[str, int] = {}
    tracemalloc.start()
    try:
        step(between=lambda: held.setdefault("activations", tracemalloc.get_traced_memory()[0]))
        held["peak"] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return held


def times(steps: dict[str, Callable[..., Tensor]], repeats: int) -> dict[str, list[float]]:
    """Step times in seconds, the variants interleaved."""
    out: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():  # warm-up: first-touch page faults, NumPy caches
        step()
    for _ in range(repeats):
        for name, step in steps.items():
            gc.collect()
            t0 = time.perf_counter()
            step()
            out[name].append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", type=int, default=32, help="hidden layers (default 32)")
    parser.add_argument("--width", type=int, default=512, help="layer width (default 512)")
    parser.add_argument("--batch", type=int, default=256, help="batch size (default 256)")
    parser.add_argument("--repeats", type=int, default=7, help="timed steps per variant")
    parser.add_argument("--quick", action="store_true", help="a small model, for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.depth, args.width, args.batch, args.repeats = 8, 64, 32, 3
    for name in ("depth", "width", "batch", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer")

    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(args.batch, args.width)).astype(np.float32))
    y = rng.integers(0, 10, size=args.batch)
    blocks, head = build(args.depth, args.width)
    variants = {
        "plain": make_step(blocks, head, x, y, use_checkpoint=False),
        "plain, retain_graph=False": make_step(blocks, head, x, y, False, retain_graph=False),
        "checkpoint per block": make_step(blocks, head, x, y, use_checkpoint=True),
        "checkpoint, retain_graph=False": make_step(blocks, head, x, y, True, retain_graph=False),
    }
    weights = sum(p.data.nbytes for layer in blocks + [head] for p in layer.parameters())
    mem = {name: memory(step) for name, step in variants.items()}
    secs = times(variants, args.repeats)

    mib = lambda n: f"{n / 2**20:8.1f}"  # noqa: E731
    print(f"One SGD step of a {args.depth}-hidden-layer ReLU MLP, width {args.width}, batch "
          f"{args.batch}, float32; weights {weights / 2**20:.1f} MiB (tracemalloc, "
          f"median of {args.repeats} interleaved steps)")
    print(f"{'variant':31s} {'activations MiB':>16s} {'peak MiB':>9s} {'step ms':>8s}")
    for name in variants:
        med = statistics.median(secs[name]) * 1e3
        print(f"{name:31s} {mib(mem[name]['activations']):>16s} {mib(mem[name]['peak']):>9s} "
              f"{med:8.1f}")
    plain, ck = "plain", "checkpoint per block"
    act = mem[ck]["activations"] / mem[plain]["activations"]
    peak = mem[ck]["peak"] / mem[plain]["peak"]
    slow = statistics.median(secs[ck]) / statistics.median(secs[plain])
    print(f"checkpoint / plain: activations {act:.2f}x (target <= 0.5x), peak {peak:.2f}x, "
          f"step time {slow:.2f}x (target <= 1.5x)")
    met = act <= 0.5 and slow <= 1.5
    if args.quick:
        print("targets: not judged (--quick: a model this small measures Python overhead)")
    else:
        print("targets:", "met" if met else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
