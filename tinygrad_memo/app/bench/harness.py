"""The measuring kit every workload shares: peers, worker processes, timing, tables, settings.

A workload times each framework in a process of its own (`run_worker`, which starts
``python -m tinygrad_memo.app.bench worker JOB ARGS_JSON``); a function becomes such a job
with `@worker("JOB")`. Ratios are only ever taken between numbers of the same run.
"""
from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

PEERS = {"micrograd": "micrograd", "torch": "torch", "autograd": "autograd", "mygrad": "mygrad"}
OURS = "tinygrad_memo"
FLOOR = "numpy floor"
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
WORKER_THREADS = [1]  # BLAS / OpenMP threads in worker processes (set by --threads)


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
    for var in THREAD_VARS:
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def setup_torch() -> Any:
    """PyTorch with as many threads as NumPy's BLAS, or None if it is not installed."""
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


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {}  # job name -> function, filled by @worker
Bench = Callable[["Config", "Progress", list[str]], dict[str, "Table"]]  # a workload: see workloads.py


def worker(job: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register ``fn`` as the job ``job`` that `run_worker` can start in a fresh process."""
    def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        WORKERS[job] = fn
        return fn
    return register


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


def time_calls(fn: Callable[[], Any], sample_s: float, samples: int) -> list[float]:
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
    """One table of the report: markdown for the terminal, ``data`` for ``--json``."""

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


@dataclass
class Config:
    """How long each workload measures: the full report's settings, or `quick`'s."""

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

