"""``tinygrad-memo bench``: this project against the peers that are installed.

Every workload runs the same work on each framework, interleaved (A, B, C, A, B, C, ...),
and reports the median and the minimum of the samples; ratios are always taken between
numbers measured in the same run, since absolute times on a shared machine are noise.
Scalar frameworks each run in a process of their own (``python -m tinygrad_memo.bench
worker ...``): micrograd's graphs are cyclic garbage, and one framework's garbage would
slow the next one's collections. Peers (``pip install -e .[bench]``): micrograd, PyTorch
(CPU), HIPS autograd, MyGrad; a missing peer is skipped with a note. The NumPy floor is a
hand-written forward+backward of the same math, the floor for any NumPy-based framework.

The workloads live here so that an installed package can run them; the scripts in
``benchmarks/`` are thin wrappers that run one workload each.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

HELP = "the performance report against the peers that are installed (micrograd, PyTorch, ...)"

PEERS = {"micrograd": "micrograd", "torch": "torch", "autograd": "autograd", "mygrad": "mygrad"}
OURS = "tinygrad_memo"
FLOOR = "numpy floor"

# -- the measuring kit --------------------------------------------------------------------


def peer(name: str) -> Any:
    """The peer's module, or None if it is not installed."""
    try:
        return importlib.import_module(PEERS[name])
    except Exception:  # noqa: BLE001 - any failure to import means "not available"
        return None


def threads() -> int:
    """The thread count NumPy's BLAS uses; PyTorch is set to the same."""
    try:
        from threadpoolctl import threadpool_info
        nums = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if nums:
            return int(nums[0])
    except Exception:  # noqa: BLE001
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def setup_torch() -> Any:
    torch = peer("torch")
    if torch is not None:
        torch.set_num_threads(threads())
    return torch


@dataclass
class Samples:
    """Seconds per call, one sample per round."""

    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)


THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
WORKER_THREADS = [1]  # BLAS / OpenMP threads in worker processes (set by --threads)


def run_worker(job: str, args: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run ``job`` in a fresh interpreter; its last stdout line is the JSON result.

    The worker's BLAS and OpenMP pools get ``WORKER_THREADS`` threads (PyTorch the same).
    """
    cmd = [sys.executable, "-m", "tinygrad_memo.app.bench", "worker", job, json.dumps(args)]
    env = dict(os.environ, **{v: str(WORKER_THREADS[0]) for v in THREAD_VARS})
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0:
        if proc.returncode < 0:
            return {"error": f"crashed (signal {-proc.returncode})"}
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:120]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Progress:
    """One status line on stderr (rewritten in place on a terminal, one line each otherwise)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.section = ""
        self.t0 = time.perf_counter()

    def start(self, section: str) -> None:
        self.section = section
        self.tick("")

    def tick(self, what: str) -> None:
        if not self.enabled:
            return
        line = f"[{time.perf_counter() - self.t0:6.1f} s] {self.section}: {what}"
        if self.tty:
            sys.stderr.write("\r\033[K" + line[:150])
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        cells = [self.header] + self.rows
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.header))]
        fmt = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
        lines = [f"### {self.title}", "", fmt(self.header),
                 "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        lines += [fmt(r) for r in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def ms(s: float) -> str:
    return f"{s * 1e3:.3f}" if s < 0.01 else f"{s * 1e3:.1f}"


def us(s: float) -> str:
    return f"{s * 1e6:.2f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def missing_note(names: list[str]) -> list[str]:
    return [f"{n}: not installed, skipped (pip install -e .[bench])" for n in names]


# -- workload 1: micrograd's moons demo step, scalar ------------------------------------


def _moons(n: int) -> tuple[list[list[float]], list[float]]:
    from ...data import make_moons
    X, y = make_moons(n, noise=0.1, seed=0)
    return X.astype(float).tolist(), [float(2 * t - 1) for t in y]


def _scalar_framework(fw: str) -> tuple[Any, Any]:
    """(Value class, MLP class) of a scalar framework, both micrograd-shaped."""
    if fw == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP
        return Value, MLP
    from ...core.value import Value as V
    try:
        from ...nn.scalar import MLP as M
    except ImportError:  # nn not there yet: the same network, micrograd's code on our Value
        M = _mini_scalar_mlp(V)
    return V, M


def _mini_scalar_mlp(Value: Any) -> Any:
    class Neuron:
        def __init__(self, nin: int, nonlin: bool = True) -> None:
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b, self.nonlin = Value(0), nonlin

        def __call__(self, x: Any) -> Any:
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.relu() if self.nonlin else act

        def parameters(self) -> list[Any]:
            return self.w + [self.b]

    class MLP:
        def __init__(self, nin: int, nouts: list[int]) -> None:
            sz = [nin] + nouts
            self.layers = [[Neuron(sz[i], nonlin=i != len(nouts) - 1) for _ in range(sz[i + 1])]
                           for i in range(len(nouts))]

        def __call__(self, x: Any) -> Any:
            for layer in self.layers:
                x = [n(x) for n in layer]
            return x[0] if len(x) == 1 else x

        def parameters(self) -> list[Any]:
            return [p for layer in self.layers for n in layer for p in n.parameters()]

        def zero_grad(self) -> None:
            for p in self.parameters():
                p.grad = 0.0
    return MLP


def _moons_loss(Value: Any, model: Any, X: list, y: list) -> Any:
    """micrograd's demo.ipynb ``loss()``: hinge loss + 1e-4 L2 over the whole batch."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum((p * p for p in model.parameters()))
    return data_loss + reg_loss


def worker_moons(fw: str, steps: int) -> dict[str, Any]:
    """Time ``steps`` training steps of micrograd's demo (after one warm-up step)."""
    Value, MLP = _scalar_framework(fw)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    X, y = _moons(100)
    times, losses, collections = [], [], 0
    for k in range(steps + 1):
        before = sum(s["collections"] for s in gc.get_stats())
        t0 = time.perf_counter()
        total_loss = _moons_loss(Value, model, X, y)
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        dt = time.perf_counter() - t0
        losses.append(total_loss.data)
        del total_loss
        if k:
            times.append(dt)
            collections += sum(s["collections"] for s in gc.get_stats()) - before
    return {"times": times, "loss0": losses[0], "collections": collections / steps,
            "model": f"{MLP.__module__}.{MLP.__qualname__}"}


def worker_nodes(fw: str, n_points: int) -> dict[str, Any]:
    """Bytes per graph node: tracemalloc over the forward graph of the moons loss."""
    Value, MLP = _scalar_framework(fw)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    X, y = _moons(n_points)
    params = model.parameters()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loss = _moons_loss(Value, model, X, y)
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


def bench_scalar(cfg: "Config", progress: Progress) -> list[Table]:
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
                   f"({cfg.rounds_scalar} x {cfg.steps_scalar} steps, interleaved), default gc settings")
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
    return [t, m]


# -- workload 2: deep scalar chains --------------------------------------------------------


def worker_chain(fw: str, depth: int) -> dict[str, Any]:
    """``v = v * 1.0000001`` ``depth`` times from v = 1, then backward; times both halves."""
    c = 1.0000001
    try:
        if fw == "autograd":
            from autograd.core import make_vjp

            def f(x: Any) -> Any:
                for _ in range(depth):
                    x = x * c
                return x
            t0 = time.perf_counter()
            vjp, _ = make_vjp(f, 1.0)
            t1 = time.perf_counter()
            g = vjp(1.0)
            t2 = time.perf_counter()
        else:
            if fw == "torch":
                torch = setup_torch()
                x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
            elif fw == "mygrad":
                import mygrad
                x = mygrad.tensor(1.0)
            elif fw == "micrograd":
                from micrograd.engine import Value
                x = Value(1.0)
            else:
                from ...core.value import Value
                x = Value(1.0)
            v = x
            t0 = time.perf_counter()
            for _ in range(depth):
                v = v * c
            t1 = time.perf_counter()
            v.backward()
            t2 = time.perf_counter()
            g = x.grad
        g = float(g)
    except BaseException as exc:  # noqa: BLE001 - RecursionError, MemoryError: report them
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"}
    expected = c ** depth
    return {"fwd": t1 - t0, "bwd": t2 - t1, "ok": abs(g - expected) <= 1e-6 * expected}


def bench_chain(cfg: "Config", progress: Progress) -> list[Table]:
    progress.start("deep scalar chain")
    fws = [OURS] + [p for p in ("torch", "micrograd", "autograd", "mygrad") if peer(p)]
    t = Table("Deep scalar chain: v = v * 1.0000001, n times, then backward",
              ["framework", "depth", "forward s", "backward s", "fwd+bwd µs/op", "vs torch"],
              notes=["each run in its own process; median over runs (min in --json); autograd, "
                     "mygrad: one run from depth 100,000 on; torch chains a 0-d float64 tensor"])
    failed: dict[str, str] = {}
    for depth in cfg.depths:
        res: dict[str, list[dict[str, Any]]] = {}
        for r in range(cfg.rounds_chain):
            for fw in fws:
                limit = {OURS: depth, "torch": cfg.torch_max_depth}.get(fw, cfg.peer_max_depth)
                slow = fw not in (OURS, "torch") and depth >= 100_000  # one run is enough
                if fw in failed or depth > limit or (slow and r > 0):
                    continue
                progress.tick(f"depth {depth:,}: {fw} (run {r + 1})")
                out = run_worker("chain", {"fw": fw, "depth": depth}, timeout=cfg.chain_timeout)
                if "error" in out:
                    failed[fw] = f"fails at depth {depth:,}: {out['error']}"
                    t.rows.append([fw, f"{depth:,}", "fails", "-", "-", out["error"]])
                    continue
                res.setdefault(fw, []).append(out)
        tp = None
        if "torch" in res:
            tp = statistics.median(o["fwd"] + o["bwd"] for o in res["torch"])
        for fw, outs in res.items():
            f = statistics.median(o["fwd"] for o in outs)
            b = statistics.median(o["bwd"] for o in outs)
            tot = statistics.median(o["fwd"] + o["bwd"] for o in outs)
            best = min(o["fwd"] + o["bwd"] for o in outs)
            t.rows.append([fw, f"{depth:,}", f"{f:.3f}", f"{b:.3f}", us(tot / depth),
                           ratio(tot, tp) if tp else "-"])
            t.data[f"{fw}@{depth}"] = {"fwd_s": f, "bwd_s": b, "total_s": tot, "min_total_s": best,
                                       "us_per_op": tot / depth * 1e6,
                                       "grad_ok": all(o["ok"] for o in outs)}
    for fw, why in failed.items():
        t.notes.append(f"{fw}: {why}")
    t.notes.append(f"torch runs up to depth {cfg.torch_max_depth:,}, the other peers up to "
                   f"{cfg.peer_max_depth:,}")
    t.notes += missing_note([p for p in ("torch", "micrograd", "autograd", "mygrad") if not peer(p)])
    return [t]


# -- workload 3: tensor MLP training step --------------------------------------------------


def _mlp_weights(sizes: list[int], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(nin)
        out.append(rng.uniform(-bound, bound, (nin, nout)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, nout).astype(np.float32))
    return out


def mlp_steps(sizes: list[int], batch: int, lr: float = 0.01,
              only: str | None = None) -> dict[str, Callable[[], float]]:
    """One SGD step (ReLU MLP, mean cross-entropy) per available framework, same weights.

    Each returns the step's loss; every framework starts from a copy of the same weights.
    ``only`` builds just that framework (and imports no other).
    """
    want = lambda name: only is None or only == name  # noqa: E731
    rng = np.random.default_rng(1)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    rows = np.arange(batch)
    w0 = _mlp_weights(sizes)
    steps: dict[str, Callable[[], float]] = {}

    W = [w.copy() for w in w0]

    def floor() -> float:
        acts, h = [X], X
        pre = []
        for i in range(0, len(W) - 2, 2):
            z = h @ W[i] + W[i + 1]
            pre.append(z)
            h = np.maximum(z, 0)
            acts.append(h)
        z = h @ W[-2] + W[-1]
        sh = z - z.max(axis=1, keepdims=True)
        e = np.exp(sh)
        s = e.sum(axis=1, keepdims=True)
        loss = -(sh[rows, y] - np.log(s[:, 0])).mean()
        dz = e / s
        dz[rows, y] -= 1
        dz *= 1.0 / batch
        for i in range(len(W) - 2, -1, -2):
            a = acts[i // 2]
            gw, gb = a.T @ dz, dz.sum(axis=0)
            if i:
                dz = (dz @ W[i].T) * (pre[i // 2 - 1] > 0)
            W[i] -= lr * gw
            W[i + 1] -= lr * gb
        return float(loss)
    if want(FLOOR):
        steps[FLOOR] = floor

    from ...core.tensor import Tensor
    P = [Tensor(w.copy(), requires_grad=True) for w in w0]
    x_t = Tensor(X)

    def ours() -> float:
        h = x_t
        for i in range(0, len(P) - 2, 2):
            h = (h @ P[i] + P[i + 1]).relu()
        z = h @ P[-2] + P[-1]
        loss = -z.log_softmax(axis=-1)[rows, y].mean()
        loss.backward()
        for p in P:
            p.data -= lr * p.grad
            p.grad = None
        return loss.item()
    if want(OURS):
        steps[OURS] = ours

    torch = setup_torch() if want("torch") else None
    if torch is not None:
        TP = [torch.tensor(w, requires_grad=True) for w in w0]
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        F = torch.nn.functional

        def torch_step() -> float:
            h = Xt
            for i in range(0, len(TP) - 2, 2):
                h = torch.relu(h @ TP[i] + TP[i + 1])
            loss = F.cross_entropy(h @ TP[-2] + TP[-1], yt)
            loss.backward()
            with torch.no_grad():
                for p in TP:
                    p -= lr * p.grad
                    p.grad = None
            return loss.item()
        steps["torch"] = torch_step

    if want("autograd") and peer("autograd") is not None:
        import autograd.numpy as anp
        from autograd import value_and_grad
        from autograd.scipy.special import logsumexp
        AW = [w.copy() for w in w0]

        def loss_fn(params: list[Any]) -> Any:
            h = X
            for i in range(0, len(params) - 2, 2):
                h = anp.maximum(anp.dot(h, params[i]) + params[i + 1], 0)
            z = anp.dot(h, params[-2]) + params[-1]
            logp = z - logsumexp(z, axis=1, keepdims=True)
            return -anp.mean(logp[rows, y])
        loss_and_grad = value_and_grad(loss_fn)

        def autograd_step() -> float:
            loss, gs = loss_and_grad(AW)
            for p, g in zip(AW, gs):
                p -= lr * g
            return float(loss)
        steps["autograd"] = autograd_step

    if want("mygrad") and peer("mygrad") is not None:
        import mygrad as mg
        MW = [mg.tensor(w.copy()) for w in w0]

        def mygrad_step() -> float:
            h = X
            for i in range(0, len(MW) - 2, 2):
                h = mg.nnet.activations.relu(mg.matmul(h, MW[i]) + MW[i + 1])
            loss = mg.nnet.losses.softmax_crossentropy(mg.matmul(h, MW[-2]) + MW[-1], y)
            loss.backward()
            for p in MW:
                p.data -= lr * p.grad
            return loss.item()
        steps["mygrad"] = mygrad_step
    return steps


# -- workload 4: per-op overhead, and broadcast add + sum ----------------------------------


def op_chain_cases(n_ops: int = 1000, shape: tuple[int, ...] = (8,),
                   only: str | None = None) -> dict[str, Callable]:
    """fwd+bwd of ``n_ops`` elementwise ops cycling through x*c, x+b, tanh(x), x*w.

    ``b`` and ``w`` are leaves that need a gradient (each used n_ops/4 times, so their
    gradients accumulate over many paths); c is a Python float. Plus plain NumPy forward.
    """
    rng = np.random.default_rng(2)
    x0, b0, w0 = (rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(3))
    c = 1.0001
    cases: dict[str, Callable] = {}

    def numpy_fwd() -> Any:
        y = x0
        for i in range(n_ops):
            k = i & 3
            y = y * c if k == 0 else y + b0 if k == 1 else np.tanh(y) if k == 2 else y * w0
        return y.sum()
    want = lambda name: only is None or only == name  # noqa: E731
    if want(FLOOR):
        cases["numpy forward only"] = numpy_fwd

    from ...core.tensor import Tensor
    x, b, w = Tensor(x0, requires_grad=True), Tensor(b0, requires_grad=True), Tensor(w0, requires_grad=True)

    def ours() -> Any:
        y = x
        for i in range(n_ops):
            k = i & 3
            y = y * c if k == 0 else y + b if k == 1 else y.tanh() if k == 2 else y * w
        y.sum().backward()
        x.grad = b.grad = w.grad = None
    if want(OURS):
        cases[OURS] = ours

    torch = setup_torch() if want("torch") else None
    if torch is not None:
        tx, tb, tw = (torch.tensor(a, requires_grad=True) for a in (x0, b0, w0))

        def torch_chain() -> Any:
            y = tx
            for i in range(n_ops):
                k = i & 3
                y = y * c if k == 0 else y + tb if k == 1 else torch.tanh(y) if k == 2 else y * tw
            y.sum().backward()
            tx.grad = tb.grad = tw.grad = None
        cases["torch"] = torch_chain

    if want("autograd") and peer("autograd") is not None:
        import autograd.numpy as anp
        from autograd import grad as agrad

        def f(args: list[Any]) -> Any:
            y, bb, ww = args
            for i in range(n_ops):
                k = i & 3
                y = y * c if k == 0 else y + bb if k == 1 else anp.tanh(y) if k == 2 else y * ww
            return anp.sum(y)
        g = agrad(f)
        cases["autograd"] = lambda: g([x0, b0, w0])

    if want("mygrad") and peer("mygrad") is not None:
        import mygrad as mg
        mx, mb, mw = (mg.tensor(a) for a in (x0, b0, w0))

        def mygrad_chain() -> Any:
            y = mx
            for i in range(n_ops):
                k = i & 3
                y = y * c if k == 0 else y + mb if k == 1 else mg.tanh(y) if k == 2 else y * mw
            mg.sum(y).backward()
        cases["mygrad"] = mygrad_chain
    return cases


def broadcast_cases(shape: tuple[int, int] = (256, 512),
                    only: str | None = None) -> dict[str, Callable]:
    """``(x + b).sum()`` with x (m, n) and b (n,) both needing gradients: fwd + bwd."""
    want = lambda name: only is None or only == name  # noqa: E731
    rng = np.random.default_rng(3)
    x0 = rng.normal(size=shape).astype(np.float32)
    b0 = rng.normal(size=shape[1:]).astype(np.float32)
    cases: dict[str, Callable] = {}

    def floor() -> Any:
        out = x0 + b0
        s = out.sum()
        g = np.ones_like(out)          # d sum / d out
        gx, gb = g, g.sum(axis=0)      # add: x's shape matches, b's is summed back
        return s, gx, gb
    if want(FLOOR):
        cases[FLOOR] = floor

    from ...core.tensor import Tensor
    x, b = Tensor(x0, requires_grad=True), Tensor(b0, requires_grad=True)

    def ours() -> Any:
        (x + b).sum().backward()
        x.grad = b.grad = None
    if want(OURS):
        cases[OURS] = ours

    torch = setup_torch() if want("torch") else None
    if torch is not None:
        tx, tb = torch.tensor(x0, requires_grad=True), torch.tensor(b0, requires_grad=True)

        def torch_bc() -> Any:
            (tx + tb).sum().backward()
            tx.grad = tb.grad = None
        cases["torch"] = torch_bc

    if want("autograd") and peer("autograd") is not None:
        import autograd.numpy as anp
        from autograd import grad as agrad
        g = agrad(lambda a: anp.sum(a[0] + a[1]))
        cases["autograd"] = lambda: g([x0, b0])

    if want("mygrad") and peer("mygrad") is not None:
        import mygrad as mg
        mx, mb = mg.tensor(x0), mg.tensor(b0)
        cases["mygrad"] = lambda: mg.sum(mx + mb).backward()
    return cases


MLP_SIZES = [64, 128, 128, 10]
N_OPS = 1000
BROADCAST_SHAPE = (256, 512)
TENSOR_FWS = [FLOOR, OURS, "torch", "autograd", "mygrad"]


def _time_calls(fn: Callable[[], Any], sample_s: float, samples: int) -> list[float]:
    """Seconds per call: one warm-up call, then ``samples`` samples of about ``sample_s``."""
    t0 = time.perf_counter()
    fn()
    number = max(1, min(10_000, int(sample_s / max(time.perf_counter() - t0, 1e-9))))
    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t0) / number)
    return out


def worker_tensor(fw: str, parts: list[str], batches: list[int], sample_s: float,
                  samples: int) -> dict[str, Any]:
    """One framework's tensor workloads, alone in this process (see `bench_tensor`)."""
    out: dict[str, Any] = {}
    if "mlp" in parts:
        for batch in batches:
            steps = mlp_steps(MLP_SIZES, batch, only=fw)
            if fw in steps:
                out[f"mlp@{batch}"] = _time_calls(steps[fw], sample_s, samples)
                out[f"loss@{batch}"] = mlp_steps(MLP_SIZES, batch, only=fw)[fw]()
    if "ops" in parts:
        for name, fn in op_chain_cases(N_OPS, only=fw).items():
            out[f"ops:{name}"] = _time_calls(fn, sample_s, samples)
        for name, fn in broadcast_cases(BROADCAST_SHAPE, only=fw).items():
            out[f"broadcast:{name}"] = _time_calls(fn, sample_s, samples)
    return out


def bench_tensor(cfg: "Config", progress: Progress, parts: list[str]) -> dict[str, Table]:
    """The tensor workloads, each framework in its own process, processes interleaved.

    One process per framework and round (A, B, C, A, B, C, ...): BLAS and OpenMP thread
    pools of different frameworks in one process fight over the cores (PyTorch's spinning
    workers slowed NumPy's BLAS, and the other way round, by up to 100x here).
    """
    progress.start("tensor workloads (" + ", ".join(parts) + ")")
    fws = [fw for fw in TENSOR_FWS if fw in (FLOOR, OURS) or peer(fw)]
    samples: dict[str, list[float]] = {}
    losses: dict[str, float] = {}
    for r in range(cfg.rounds):
        for fw in fws:
            progress.tick(f"{fw} (process {r + 1}/{cfg.rounds})")
            o = run_worker("tensor", {"fw": fw, "parts": parts, "batches": list(cfg.batches),
                                      "sample_s": cfg.sample_s, "samples": cfg.samples}, timeout=600)
            if "error" in o:
                raise RuntimeError(f"tensor worker for {fw}: {o['error']}")
            for key, v in o.items():
                if key.startswith("loss@"):
                    losses[f"{fw}{key[4:]}"] = v
                else:
                    samples.setdefault(f"{fw}|{key}", []).extend(v)
    S = {k: Samples(v) for k, v in samples.items()}
    absent = missing_note([p for p in ("torch", "autograd", "mygrad") if not peer(p)])
    how = (f"each framework in its own process, {cfg.rounds} interleaved rounds x {cfg.samples} "
           f"samples; {WORKER_THREADS[0]} thread(s) for NumPy's BLAS and PyTorch")
    tables: dict[str, Table] = {}
    if "mlp" in parts:
        t = Table("Tensor MLP step: float32 64-128-128-10, ReLU, cross-entropy, SGD (fwd+bwd+update)",
                  ["batch", "framework", "median µs", "min µs", "vs floor (median)", "vs floor (min)"],
                  notes=[how, "same initial weights and batch for all; first-step losses:"])
        for batch in cfg.batches:
            fl = S[f"{FLOOR}|mlp@{batch}"]
            for fw in fws:
                s = S.get(f"{fw}|mlp@{batch}")
                if s is None:
                    continue
                t.rows.append([str(batch), fw, us(s.median), us(s.min), ratio(s.median, fl.median),
                               ratio(s.min, fl.min)])
                t.data[f"{fw}@{batch}"] = {"median_s": s.median, "min_s": s.min,
                                           "ratio_median": s.median / fl.median,
                                           "ratio_min": s.min / fl.min}
            ref = losses[f"{FLOOR}@{batch}"]
            got = {fw: losses[f"{fw}@{batch}"] for fw in fws if f"{fw}@{batch}" in losses}
            bad = {k: v for k, v in got.items() if not abs(v - ref) <= 1e-4 * max(1.0, abs(ref))}
            t.notes.append(f"batch {batch}: {ref:.6f} "
                           + ("(all agree to 1e-4)" if not bad else f"DIFFERENT: {bad}"))
        t.notes += absent
        tables["mlp"] = t
    if "ops" in parts:
        np_fwd, tp = S[f"{FLOOR}|ops:numpy forward only"], S.get("torch|ops:torch")
        t = Table(f"Per-op overhead: {N_OPS:,}-op elementwise chain on shape (8,), forward+backward",
                  ["framework", "median µs/op", "min µs/op", "vs NumPy forward", "vs torch"],
                  notes=[how, "ops cycle through y*1.0001, y+b, tanh(y), y*w; b and w need gradients"])
        for fw in fws:
            name = "numpy forward only" if fw == FLOOR else fw
            s = S.get(f"{fw}|ops:{name}")
            if s is None:
                continue
            t.rows.append([name, us(s.median / N_OPS), us(s.min / N_OPS),
                           ratio(s.median, np_fwd.median), ratio(s.median, tp.median) if tp else "-"])
            t.data[name] = {"us_per_op": s.median / N_OPS * 1e6,
                            "min_us_per_op": s.min / N_OPS * 1e6}
        t.notes += absent
        tables["ops"] = t
        fl = S[f"{FLOOR}|broadcast:{FLOOR}"]
        m, n = BROADCAST_SHAPE
        bt = Table(f"Broadcast add + sum: (x({m}, {n}) + b({n},)).sum(), forward+backward, float32",
                   ["framework", "median µs", "min µs", "vs floor (median)", "vs floor (min)"],
                   notes=[how])
        for fw in fws:
            s = S.get(f"{fw}|broadcast:{fw}")
            if s is None:
                continue
            bt.rows.append([fw, us(s.median), us(s.min), ratio(s.median, fl.median),
                            ratio(s.min, fl.min)])
            bt.data[fw] = {"median_s": s.median, "min_s": s.min,
                           "ratio_median": s.median / fl.median}
        bt.notes += absent
        tables["broadcast"] = bt
    return tables


# -- workload 5: memory of one deep-MLP training step --------------------------------------


def worker_memory(depth: int, width: int, batch: int) -> dict[str, Any]:
    """tracemalloc peak of one step of a deep ReLU MLP, next to what the step must hold."""
    from ...core.engine import toposort
    from ...core.tensor import Tensor
    sizes = [width] * (depth + 1) + [10]
    w0 = _mlp_weights(sizes)
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


def bench_memory(cfg: "Config", progress: Progress) -> list[Table]:
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
    return [t]


# -- targets (issue 7) ------------------------------------------------------------------------


def targets(tables: dict[str, Table]) -> Table:
    t = Table("Targets (issue 7), ratios from this run", ["workload", "target", "measured", "status"])

    def add(name: str, target: str, value: float | None, ok: Callable[[float], bool], fmt: str) -> None:
        if value is None:
            t.rows.append([name, target, "-", "not measured (peer or workload missing)"])
        else:
            t.rows.append([name, target, fmt.format(value), "met" if ok(value) else "NOT met"])
        t.data[name] = {"value": value, "met": None if value is None else ok(value)}

    d = lambda k: tables[k].data if k in tables else {}  # noqa: E731
    add("scalar moons step", ">= 15x faster than micrograd", d("scalar").get("speedup"),
        lambda v: v >= 15, "{:.1f}x faster")
    nodes = d("nodes")
    bpn = (nodes[OURS]["bytes_per_node"] / nodes["micrograd"]["bytes_per_node"]
           if OURS in nodes and "micrograd" in nodes else None)
    add("bytes per scalar op node", "<= 0.2x micrograd's", bpn, lambda v: v <= 0.2, "{:.2f}x")
    ch = d("chain")
    both = [int(k.split("@")[1]) for k in ch if k.startswith("torch@") and OURS + k[5:] in ch]
    big = max(both, default=None)
    v = ch[f"{OURS}@{big}"]["total_s"] / ch[f"torch@{big}"]["total_s"] if big else None
    add(f"{big:,}-deep chain fwd+bwd" if big else "deep chain fwd+bwd", "<= 0.5x torch µs/op", v,
        lambda v: v <= 0.5, "{:.2f}x")
    mlp = d("mlp")
    for batch in sorted({int(k.split("@")[1]) for k in mlp if "@" in k}):
        r = mlp.get(f"{OURS}@{batch}", {}).get("ratio_median")
        lim = 1.5 if batch <= 16 else 1.15 if batch >= 256 else None
        if lim:
            add(f"MLP step batch {batch}", f"<= {lim}x NumPy floor", r, lambda v, lim=lim: v <= lim,
                "{:.2f}x")
        for p in ("torch", "mygrad"):
            if f"{p}@{batch}" in mlp:
                rv = mlp[f"{OURS}@{batch}"]["median_s"] / mlp[f"{p}@{batch}"]["median_s"]
                add(f"MLP step batch {batch}", f"faster than {p}", rv, lambda v: v < 1, "{:.2f}x " + p)
    ops = d("ops")
    v = ops[OURS]["us_per_op"] / ops["torch"]["us_per_op"] if "torch" in ops else None
    add("per-op overhead (8,)", "<= torch µs/op", v, lambda v: v <= 1, "{:.2f}x torch")
    add("broadcast add + sum", "<= 1.5x NumPy floor", d("broadcast").get(OURS, {}).get("ratio_median"),
        lambda v: v <= 1.5, "{:.2f}x")
    add("deep-MLP step memory", "peak <= 1.3x (W + A + G)", d("memory").get("ratio"),
        lambda v: v <= 1.3, "{:.2f}x")
    return t


# -- configuration and the command ----------------------------------------------------------


@dataclass
class Config:
    rounds: int = 5             # interleaved rounds (one process per framework each) of tensor work
    sample_s: float = 0.05      # seconds per sample
    samples: int = 3            # samples per process
    rounds_scalar: int = 5      # processes per scalar framework
    steps_scalar: int = 3       # timed steps per process
    nodes_points: int = 160     # moons points for the bytes-per-node graph (~100k nodes)
    depths: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
    peer_max_depth: int = 1_000_000
    torch_max_depth: int = 1_000_000
    rounds_chain: int = 3
    chain_timeout: float = 300
    batches: tuple[int, ...] = (16, 64, 256, 1024)
    memory_shape: tuple[int, int, int] = (8, 512, 256)

    @classmethod
    def quick(cls) -> "Config":
        return cls(rounds=3, sample_s=0.02, samples=2, rounds_scalar=1, steps_scalar=2, nodes_points=160,
                   depths=(1_000, 10_000, 100_000, 1_000_000), peer_max_depth=10_000,
                   torch_max_depth=100_000, rounds_chain=1, chain_timeout=60, batches=(16, 256),
                   memory_shape=(6, 256, 128))


WORKLOADS: dict[str, Callable[[Config, Progress], list[Table]] | None] = {
    "scalar": bench_scalar,     # tables: scalar, nodes
    "chain": bench_chain,
    "mlp": None,                # mlp and ops share their processes: see bench_tensor
    "ops": None,                # tables: ops, broadcast
    "memory": bench_memory,
}
TABLE_KEYS = {"scalar": ["scalar", "nodes"]}


def machine() -> dict[str, str]:
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
                   out: Any = sys.stdout) -> dict[str, Table]:
    progress = progress or Progress()
    tables: dict[str, Table] = {}
    info = machine()
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + "\n", file=out)
    tensor_parts = [p for p in ("mlp", "ops") if not only or p in only]
    for name, fn in WORKLOADS.items():
        if only and name not in only:
            continue
        if fn is None:  # a tensor workload: all of them run together, at the first one
            if name != tensor_parts[0]:
                continue
            got = bench_tensor(cfg, progress, tensor_parts)
        else:
            got = dict(zip(TABLE_KEYS.get(name, [name]), fn(cfg, progress)))
        progress.done()
        for key, table in got.items():
            tables[key] = table
            print(table.text(), file=out, flush=True)
    tt = targets(tables)
    tables["targets"] = tt
    print(tt.text(), file=out, flush=True)
    tables["machine"] = Table("machine", [], data=info)
    return tables


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
    tables = run_benchmarks(cfg, only)
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


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "moons": worker_moons, "nodes": worker_nodes, "chain": worker_chain, "memory": worker_memory,
    "tensor": worker_tensor}


def main(argv: list[str] | None = None) -> int:
    """``python -m tinygrad_memo.app.bench worker JOB ARGS_JSON`` (used by the scalar workloads)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[0] == "worker":
        print(json.dumps(WORKERS[argv[1]](**json.loads(argv[2]))))
        return 0
    from ..cli import main as cli_main
    return cli_main(["bench", *argv])


if __name__ == "__main__":
    raise SystemExit(main())
