"""The targets table: each aim of issues 7 and 15, met or not, from the ratios of this run."""
from __future__ import annotations

from typing import Callable

from .harness import OURS, Table


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda v: v <= limit


def targets(tables: dict[str, Table]) -> Table:
    t = Table("Targets (issues 7 and 15), ratios from this run", ["workload", "target", "measured", "status"])

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
    add("bytes per scalar op node", "<= 0.17x micrograd's", bpn, lambda v: v <= 0.17, "{:.3f}x")
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
            add(f"MLP step batch {batch}", f"<= {lim}x NumPy floor", r, at_most(lim), "{:.2f}x")
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
