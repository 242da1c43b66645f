"""The tensor workloads, ``mlp`` and ``ops``: each framework alone in its processes.

One process per framework and round runs all the selected tensor workloads (see
`bench_tensor` for why they must not share a process with another framework).
"""
from __future__ import annotations

from typing import Any

from .harness import (FLOOR, OURS, WORKER_THREADS, Config, Progress, Samples, Table, missing_note, peer,
                      ratio, run_worker, time_calls, us, worker)
from .mlp import mlp_steps
from .per_op import broadcast_cases, op_chain_cases

MLP_SIZES = [64, 128, 128, 10]
N_OPS = 1000
BROADCAST_SHAPE = (256, 512)
TENSOR_FWS = [FLOOR, OURS, "torch", "autograd", "mygrad"]


@worker("tensor")
def worker_tensor(fw: str, parts: list[str], batches: list[int], sample_s: float,
                  samples: int) -> dict[str, Any]:
    """One framework's tensor workloads, alone in this process (see `bench_tensor`)."""
    out: dict[str, Any] = {}
    if "mlp" in parts:
        for batch in batches:
            steps = mlp_steps(MLP_SIZES, batch, only=fw)
            if fw in steps:
                out[f"mlp@{batch}"] = time_calls(steps[fw], sample_s, samples)
                out[f"loss@{batch}"] = mlp_steps(MLP_SIZES, batch, only=fw)[fw]()
    if "ops" in parts:
        for name, fn in op_chain_cases(N_OPS, only=fw).items():
            out[f"ops:{name}"] = time_calls(fn, sample_s, samples)
        for name, fn in broadcast_cases(BROADCAST_SHAPE, only=fw).items():
            out[f"broadcast:{name}"] = time_calls(fn, sample_s, samples)
    return out


def bench_tensor(cfg: Config, progress: Progress, parts: list[str]) -> dict[str, Table]:
    """The tensor workloads in ``parts`` (tables mlp; ops, broadcast), processes interleaved.

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
