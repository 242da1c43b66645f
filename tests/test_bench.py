"""The bench command's plumbing (no timings are asserted: docs/performance.md records them)."""
import numpy as np
import pytest

from tinygrad_memo.app import cli
from tinygrad_memo.app.bench import chain, harness, memory, mlp, per_op, report, tensor


def test_bench_is_a_subcommand_and_rejects_unknown_workloads(capsys):
    assert cli.main(["bench", "--only", "nope"]) == 2
    assert "unknown workload nope" in capsys.readouterr().err
    assert cli.main(["bench", "--only", ""]) == 2  # not "everything"
    assert "unknown workload ''" in capsys.readouterr().err


def test_deep_chain_worker_gets_the_closed_form_gradient():
    out = chain.worker_chain(harness.OURS, 2000)
    assert out["ok"] and out["fwd"] >= 0 and out["bwd"] >= 0


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


def test_json_that_cannot_be_written_exits_2_before_the_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(report, "run_benchmarks", lambda *a, **k: pytest.fail("ran the bench"))
    (tmp_path / "taken.json").mkdir()
    assert cli.main(["bench", "--json", str(tmp_path / "taken.json")]) == 2
    err = capsys.readouterr().err
    assert err == (f"tinygrad-memo bench: error: --json {tmp_path / 'taken.json'}: "
                   "is a folder, expected a file name\n")
