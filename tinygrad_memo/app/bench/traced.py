"""The ``jit`` workload: traced steps (`tinygrad_memo.jit`) against their references.

Three targets of issue 15, each a ratio measured in one run: the traced moons step against
micrograd's eager step (each in processes of its own); the traced float32 MLP step
(64-128-128-10, forward, backward, SGD) against hand-written NumPy with buffers allocated
once and updates in place, and the traced 1,000-op chain on shape (8,) against NumPy's
forward alone (both sides in one process, in turn). Trace time is reported next to replay.
"""
from __future__ import annotations

import random
import time
from typing import Any, Callable

import numpy as np

from .harness import FLOOR, Config, Progress, Samples, Table, ms, peer, run_worker, time_calls, us, worker
from .mlp import mlp_weights
from .per_op import op_chain_cases
from .scalar import moons_data, moons_loss, scalar_framework
from .tensor import MLP_SIZES, N_OPS

JIT = "tinygrad_memo jit"
BATCHES = (16, 256)
LR = 0.01


@worker("jit_moons")
def worker_moons(fw: str, steps: int) -> dict[str, Any]:
    """micrograd's demo loop (zero_grad, forward, backward, SGD): eager micrograd, or ours
    with the loss traced (the first call, timed apart, traces)."""
    Value, MLP = scalar_framework("micrograd" if fw == "micrograd" else "ours")
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    X, y = moons_data(100)
    params = model.parameters()
    if fw == "micrograd":
        def loss_step() -> float:
            loss = moons_loss(Value, model, X, y)
            model.zero_grad()
            loss.backward()
            return loss.data
    else:
        from ...jit import jit
        traced = jit(lambda X, y: moons_loss(Value, model, X, y))

        def loss_step() -> float:
            model.zero_grad()
            return traced(X, y).data
    times, trace_s = [], None
    for k in range(steps + 2):
        t0 = time.perf_counter()
        loss = loss_step()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= learning_rate * p.grad
        dt = time.perf_counter() - t0
        if k == 0:
            trace_s, loss0 = dt, loss
        elif k > 1 or fw == "micrograd":  # the jit's second call checks against eager: skipped
            times.append(dt)
    return {"times": times, "trace_s": trace_s, "loss0": loss0}


def mlp_cases(batch: int, fw: str) -> tuple[Callable[[], float], float | None]:
    """(one SGD step returning its loss, seconds the trace took or None) for ``fw``."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(batch, MLP_SIZES[0])).astype(np.float32)
    y = rng.integers(0, MLP_SIZES[-1], size=batch)
    W = mlp_weights(MLP_SIZES)
    if fw == FLOOR:
        return numpy_mlp_step(X, y, W), None
    from ...core.tensor import Tensor
    from ...jit import jit
    from ...nn import cross_entropy
    P = [Tensor(w, requires_grad=True) for w in W]

    def loss(X: np.ndarray, y: np.ndarray) -> Any:
        h = Tensor(X)
        for i in range(0, len(P) - 2, 2):
            h = (h @ P[i] + P[i + 1]).relu()
        return cross_entropy(h @ P[-2] + P[-1], y)
    traced = jit(loss)

    def step() -> float:
        out: Any = traced(X, y)
        for p in P:  # the floor's update, in place (the .grad arrays are the step's own)
            p.grad *= LR
            p.data -= p.grad
            p.grad = None
        return out.item()
    t0 = time.perf_counter()
    step()
    trace_s = time.perf_counter() - t0
    step()  # the first replay is checked against eager
    return step, trace_s


def numpy_mlp_step(X: np.ndarray, y: np.ndarray, W: list[np.ndarray]) -> Callable[[], float]:
    """The MLP step by hand in NumPy: every buffer allocated once, every update in place."""
    n, rows = len(X), np.arange(len(X))
    layers = len(W) // 2
    Z = [np.empty((n, w.shape[1]), np.float32) for w in W[::2]]
    H = [np.empty_like(z) for z in Z[:-1]]
    mask = [np.empty(z.shape, bool) for z in Z[:-1]]
    D = [np.empty_like(z) for z in Z]
    GW = [np.empty_like(w) for w in W]
    m, s = np.empty((n, 1), np.float32), np.empty((n, 1), np.float32)
    e = np.empty_like(Z[-1])

    def step() -> float:
        h = X
        for i in range(layers):
            np.matmul(h, W[2 * i], out=Z[i])
            Z[i] += W[2 * i + 1]
            if i < layers - 1:
                h = np.maximum(Z[i], 0, out=H[i])
        z = Z[-1]
        np.max(z, axis=1, keepdims=True, out=m)
        np.subtract(z, m, out=e)
        loss = -(e[rows, y] - np.log(np.exp(e, out=e).sum(axis=1, out=s[:, 0]))).mean()
        dz = np.divide(e, s, out=D[-1])
        dz[rows, y] -= 1
        dz *= 1.0 / n
        for i in range(layers - 1, -1, -1):
            a = X if i == 0 else H[i - 1]
            np.matmul(a.T, dz, out=GW[2 * i])
            np.sum(dz, axis=0, out=GW[2 * i + 1])
            if i:
                np.matmul(dz, W[2 * i].T, out=D[i - 1])
                dz = np.multiply(D[i - 1], np.greater(Z[i - 1], 0, out=mask[i - 1]), out=D[i - 1])
            for k in (2 * i, 2 * i + 1):
                GW[k] *= LR
                W[k] -= GW[k]
        return float(loss)
    return step


def chain_case(fw: str) -> tuple[Callable[[], Any], float | None]:
    """NumPy's forward alone, or the traced chain's forward+backward (and its trace time)."""
    if fw == FLOOR:
        return op_chain_cases(N_OPS, only=FLOOR)["numpy forward only"], None
    from ...core.tensor import Tensor
    from ...jit import jit
    rng = np.random.default_rng(2)
    x, b, w = (Tensor(rng.uniform(-1, 1, 8).astype(np.float32), requires_grad=True) for _ in range(3))
    c = 1.0001

    def chain() -> Any:
        y = x
        for i in range(N_OPS):
            k = i & 3
            y = y * c if k == 0 else y + b if k == 1 else y.tanh() if k == 2 else y * w
        return y.sum()
    traced = jit(chain)

    def step() -> None:
        traced()
        x.grad = b.grad = w.grad = None
    t0 = time.perf_counter()
    step()
    trace_s = time.perf_counter() - t0
    step()
    return step, trace_s


@worker("jit_tensor")
def worker_tensor(sample_s: float, samples: int) -> dict[str, Any]:
    """Both sides of the MLP and chain workloads in this one process, sample by sample in
    turn (A, B, A, B, ...): both are NumPy calls, nothing one leaves behind slows the other,
    and alternating samples cancels the load drift of a shared machine."""
    cases: dict[str, dict[str, Any]] = {}
    for fw in (FLOOR, JIT):
        for batch in BATCHES:
            cases.setdefault(f"mlp@{batch}", {})[fw] = mlp_cases(batch, fw)
        cases.setdefault("chain", {})[fw] = chain_case(fw)
    out: dict[str, Any] = {}
    for name, sides in cases.items():
        for fw, (_, trace_s) in sides.items():
            out[f"{name}|{fw}"] = []
            out[f"trace:{name}|{fw}"] = trace_s
        for _ in range(samples):
            for fw, (step, _) in sides.items():
                out[f"{name}|{fw}"] += time_calls(step, sample_s, 1)
    return out


def bench_jit(cfg: Config, progress: Progress, parts: list[str]) -> dict[str, Table]:
    """Tables ``jit`` (the three targets, met or not) with trace and replay times."""
    progress.start("jit: traced steps")
    res: dict[str, dict[str, Any]] = {}
    fws = ["micrograd"] if peer("micrograd") else []
    for r in range(cfg.rounds_scalar):
        for fw in fws + [JIT]:
            progress.tick(f"moons, {fw} (process {r + 1}/{cfg.rounds_scalar})")
            o = run_worker("jit_moons", {"fw": fw, "steps": cfg.steps_scalar}, timeout=900)
            if "error" in o:
                raise RuntimeError(f"jit moons worker for {fw}: {o['error']}")
            d = res.setdefault(f"moons|{fw}", {"times": [], "trace": []})
            d["times"] += o["times"]
            d["trace"].append(o["trace_s"])
            d["loss0"] = o["loss0"]
    for r in range(cfg.rounds):
        progress.tick(f"mlp and chain, NumPy and jit in turn (process {r + 1}/{cfg.rounds})")
        o = run_worker("jit_tensor", {"sample_s": cfg.sample_s, "samples": 3 * cfg.samples},
                       timeout=600)
        if "error" in o:
            raise RuntimeError(f"jit tensor worker: {o['error']}")
        for key, v in o.items():
            d = res.setdefault(key.removeprefix("trace:"), {"times": [], "trace": []})
            if key.startswith("trace:"):
                if v is not None:
                    d["trace"].append(v)
            else:
                d["times"] += v
    t = Table("jit: traced steps against their references (issue 15 targets)",
              ["workload", "reference", "replay", "trace (once)", "ratio", "target", "status"],
              notes=[f"moons: each side in its own processes, interleaved, {cfg.rounds_scalar} x "
                     f"{cfg.steps_scalar} steps; MLP and chain: both sides in one process, "
                     f"sample by sample in turn, {cfg.rounds} processes x {3 * cfg.samples} "
                     "samples; medians; 1 BLAS thread",
                     "the traced MLP step updates its parameters in place, as the NumPy floor "
                     "does; trace time: the first call (an eager step, then writing and "
                     "compiling the program)"])

    def add(name: str, ref_key: str, ours_key: str, target: str, ok: Callable[[float], bool],
            faster: bool) -> None:
        if ref_key not in res:
            t.rows.append([name, "-", "-", "-", "-", target, "not measured (peer missing)"])
            return
        ref, mine = Samples(res[ref_key]["times"]), Samples(res[ours_key]["times"])
        r = ref.median / mine.median if faster else mine.median / ref.median
        fmt = ms if faster else us
        unit = " ms" if faster else " µs"
        trace = Samples(res[ours_key]["trace"]).median
        t.rows.append([name, fmt(ref.median) + unit, fmt(mine.median) + unit, f"{trace:.2f} s",
                       f"{r:.1f}x faster" if faster else f"{r:.2f}x", target,
                       "met" if ok(r) else "NOT met"])
        t.data[name] = {"reference_s": ref.median, "replay_s": mine.median, "trace_s": trace,
                        "ratio": r, "met": ok(r)}
    add("scalar moons step", "moons|micrograd", f"moons|{JIT}",
        ">= 50x faster than micrograd (goal 100x)", lambda v: v >= 50, True)
    add("MLP step batch 256", f"mlp@256|{FLOOR}", f"mlp@256|{JIT}",
        "<= 1.0x hand-written NumPy", lambda v: v <= 1.0, False)
    add("MLP step batch 16", f"mlp@16|{FLOOR}", f"mlp@16|{JIT}",
        "<= 1.15x hand-written NumPy", lambda v: v <= 1.15, False)
    add(f"{N_OPS:,}-op chain (8,) fwd+bwd", f"chain|{FLOOR}", f"chain|{JIT}",
        "<= 2.5x NumPy forward alone", lambda v: v <= 2.5, False)
    if "moons|micrograd" in res:
        a, b = res[f"moons|{JIT}"]["loss0"], res["moons|micrograd"]["loss0"]
        t.notes.append(f"moons first-step loss: {a:.12f} (jit) vs {b:.12f} (micrograd)")
    return {"jit": t}
