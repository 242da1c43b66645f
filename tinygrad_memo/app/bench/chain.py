"""Deep scalar chains: ``v = v * 1.0000001`` up to a million times, then backward.

How deep each framework can go and what one op costs there (forward and backward timed
apart), every run in a process of its own; the gradient is checked against the closed form.
"""
from __future__ import annotations

import statistics
import time
from typing import Any

from .harness import (OURS, Config, Progress, Table, missing_note, peer, ratio, run_worker, setup_torch,
                      us, worker)


@worker("chain")
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


def bench_chain(cfg: Config, progress: Progress, parts: list[str]) -> dict[str, Table]:
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
    return {"chain": t}
