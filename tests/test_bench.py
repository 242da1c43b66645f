"""The bench command's plumbing (no timings are asserted: docs/performance.md records them)."""
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_memo.app import bench, cli
from tinygrad_memo.app.bench import (chain, harness, memory, mlp, per_op, report, tensor, traced,
                                     workloads)


def test_bench_is_a_subcommand_and_rejects_unknown_workloads(capsys):
    assert cli.main(["bench", "--only", "nope"]) == 2
    assert "unknown workload nope" in capsys.readouterr().err
    assert cli.main(["bench", "--only", ""]) == 2  # not "everything"
    assert "unknown workload ''" in capsys.readouterr().err


def test_help_lists_every_registered_workload(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["bench", "--help"])
    assert exit_.value.code == 0
    assert "scalar, chain, mlp, ops, memory, jit" in " ".join(capsys.readouterr().out.split())
    assert list(bench.WORKLOADS) == ["scalar", "chain", "mlp", "ops", "memory", "jit"]


def test_deep_chain_worker_gets_the_closed_form_gradient():
    out = chain.worker_chain(harness.OURS, 2000)
    assert out["ok"] and out["fwd"] >= 0 and out["bwd"] >= 0


def test_a_worker_job_runs_in_its_own_process():
    out = harness.run_worker("chain", {"fw": harness.OURS, "depth": 100}, timeout=120)
    assert out.keys() == {"fwd", "bwd", "ok"} and out["ok"], out
    bad = subprocess.run([sys.executable, "-m", "tinygrad_memo.app.bench", "--only", "nope"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown workload nope" in bad.stderr


def test_every_job_a_workload_starts_is_registered():
    assert set(harness.WORKERS) == {"moons", "nodes", "chain", "tensor", "memory", "jit_moons",
                                    "jit_tensor"}
    assert harness.WORKERS["tensor"] is tensor.worker_tensor


def test_every_mlp_step_starts_from_the_same_loss():
    losses = {name: step() for name, step in mlp.mlp_steps([6, 5, 3], batch=4).items()}
    ref = losses[harness.FLOOR]
    for name, loss in losses.items():
        assert loss == pytest.approx(ref, rel=1e-4), name


def test_ours_and_the_floor_agree_on_the_op_chain_and_broadcast_cases():
    for cases in (per_op.op_chain_cases(n_ops=8), per_op.broadcast_cases((3, 4))):
        for fn in cases.values():
            fn()  # runs without error on every installed framework


def test_table_renders_markdown():
    t = harness.Table("T", ["a", "bb"], rows=[["1", "2"]], notes=["n"])
    assert t.text().splitlines()[2:4] == ["| a | bb |", "|---|----|"]


def test_memory_worker_counts_weights_activations_and_gradients():
    out = memory.worker_memory(depth=2, width=8, batch=4)
    assert out["weights"] == out["gradients"] > 0 and out["activations"] > 0
    assert out["peak_total"] >= out["weights"]
    assert np.isfinite(out["ratio"])


def test_tensor_worker_times_one_framework_alone():
    out = tensor.worker_tensor(harness.OURS, ["mlp", "ops"], [4], sample_s=0.001, samples=1)
    assert set(out) == {"mlp@4", "loss@4", "ops:tinygrad_memo", "broadcast:tinygrad_memo"}
    assert out["loss@4"] > 0


def test_workloads_registered_together_run_once_with_the_chosen_names(monkeypatch):
    calls = []

    def fake(cfg, progress, parts):
        calls.append(parts)
        return {p: harness.Table(p, ["x"], rows=[["1"]]) for p in parts}
    monkeypatch.setattr(workloads, "WORKLOADS", {"a": fake, "b": fake, "c": fake})
    monkeypatch.setattr(report, "WORKLOADS", workloads.WORKLOADS)
    tables = report.run_benchmarks(harness.Config(), ["c", "a"], harness.Progress(False),
                                   io.StringIO())
    assert calls == [["a", "c"]]
    assert list(tables) == ["a", "c", "targets", "machine"]


def test_quick_memory_run_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert cli.main(["bench", "--quick", "--only", "memory", "--json", str(path)]) == 0
    assert "### Memory: one training step of a 6-hidden-layer MLP" in capsys.readouterr().out
    got = json.loads(path.read_text())
    assert list(got) == ["memory", "targets", "machine"]
    assert got["memory"]["data"]["weights"] > 0
    assert got["targets"]["data"]["deep-MLP step memory"]["value"] == got["memory"]["data"]["ratio"]


def test_json_that_cannot_be_written_exits_2_before_the_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(report, "run_benchmarks", lambda *a, **k: pytest.fail("ran the bench"))
    (tmp_path / "taken.json").mkdir()
    assert cli.main(["bench", "--json", str(tmp_path / "taken.json")]) == 2
    err = capsys.readouterr().err
    assert err == (f"tinygrad-memo bench: error: --json {tmp_path / 'taken.json'}: "
                   "is a folder, expected a file name\n")


def test_traced_mlp_step_follows_the_preallocated_numpy_step():
    """The jit workload's two sides train the same model: the same loss, step after step."""
    floor, _ = traced.mlp_cases(16, harness.FLOOR)
    jitted, trace_s = traced.mlp_cases(16, traced.JIT)  # has taken two steps already
    losses = [floor() for _ in range(4)]
    assert [jitted(), jitted()] == pytest.approx(losses[2:], rel=1e-5)
    assert trace_s > 0


def test_traced_chain_runs_and_reports_its_trace_time():
    step, trace_s = traced.chain_case(traced.JIT)
    step()
    assert trace_s > 0 and traced.chain_case(harness.FLOOR)[1] is None


def test_jit_tensor_worker_times_both_sides_in_turn():
    out = traced.worker_tensor(sample_s=0.001, samples=1)
    keys = {f"{w}|{fw}" for w in ("mlp@16", "mlp@256", "chain") for fw in (harness.FLOOR, traced.JIT)}
    assert set(out) == keys | {f"trace:{k}" for k in keys}
    assert out[f"trace:chain|{traced.JIT}"] > 0 and out[f"trace:chain|{harness.FLOOR}"] is None


def test_the_moons_anatomy_script_splits_each_variants_step_into_its_parts():
    """benchmarks/moons_anatomy.py --quick: a row per variant whose parts add up (the
    collector's share inside the forward, forward and backward inside the step)."""
    from pathlib import Path
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "moons_anatomy.py"
    res = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    first_table = res.stdout.split("\n\n")[1]
    rows = {line.split("|")[1].strip(): line for line in first_table.splitlines()[2:]}
    expected = ["held", "freed", "dropped"]
    try:
        import micrograd  # noqa: F401
        expected.insert(0, "micrograd")
    except ImportError:
        assert "micrograd is not installed" in res.stdout
    assert list(rows) == expected
    for name, line in rows.items():
        cells = [c.strip() for c in line.split("|")[2:-1]]
        forward, in_gc, release, backward, step = (float(c.split(" ")[0]) for c in cells[:5])
        assert 0 <= in_gc <= forward and release >= 0, line
        assert step >= forward + backward - 0.2, line  # (medians of parts: a little slack)
        if name in ("freed", "dropped"):  # nothing of the previous graph is left to release
            assert release < 0.5, line
