"""The `demo` command and the training loop behind it, run for real on tiny settings."""
import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_memo import data, nn, optim
from tinygrad_memo.app.cli import main
from tinygrad_memo.app.train import evaluate, fit, predict

HAS_MPL = importlib.util.find_spec("matplotlib") is not None
HAS_VIZ = importlib.util.find_spec("tinygrad_memo.viz") is not None
HAS_MEMO = importlib.util.find_spec("tinygrad_memo.memo") is not None


def demo(capsys, *argv):
    rc = main(["demo", *argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def percent(out, what):
    return float(re.search(rf"{what} accuracy (\d+\.\d)%", out).group(1))


def test_short_digits_run_prints_results_and_writes_the_outputs(tmp_path, capsys):
    rc, out, err = demo(capsys, "--epochs", "2", "--out", str(tmp_path / "out"), "--quiet")
    assert rc == 0
    lines = out.strip().splitlines()
    assert re.fullmatch(r"test accuracy \d+\.\d%", lines[-1])
    assert re.fullmatch(r"train loss \d\.\d{4}, train accuracy \d+\.\d%", lines[-3])
    assert percent(out, "test") > 80  # two epochs already learn most digits
    model = nn.Module.load(tmp_path / "out" / "model.npz")
    assert isinstance(model, nn.MLP) and model.nin == 64 and model.sizes[-1] == 10
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert "model.npz" in files
    assert ("loss_curve.png" in files) == HAS_MPL
    assert "decision_boundary.png" not in files  # digits are 64-D
    assert ("graph.svg" in files) == HAS_VIZ
    assert ("memo.txt" in files) == HAS_MEMO
    assert err == ""  # --quiet: no progress bar


def test_default_digits_run_reaches_95_percent(tmp_path, capsys):
    rc, out, _ = demo(capsys, "--out", str(tmp_path), "--quiet")
    assert rc == 0 and percent(out, "test") >= 95.0


def test_default_moons_run_fits_the_training_set_and_draws_the_boundary(tmp_path, capsys):
    rc, out, _ = demo(capsys, "--dataset", "moons", "--out", str(tmp_path), "--quiet")
    assert rc == 0 and percent(out, "train") == 100.0
    assert (tmp_path / "decision_boundary.png").exists() == HAS_MPL


def test_progress_bar_and_header_without_quiet(tmp_path, capsys):
    rc, out, err = demo(capsys, "--dataset", "circles", "--epochs", "1", "--out", str(tmp_path))
    assert rc == 0
    assert out.startswith("dataset circles: 160 train / 40 test samples, 2 features, 2 classes")
    assert "training on circles" in err and "loss" in err  # tqdm's bar with the live loss


@pytest.mark.skipif(not HAS_MEMO, reason="tinygrad_memo.memo not available")
def test_memo_report_counts_the_first_layer_at_the_level_of_numbers(tmp_path, capsys):
    from tinygrad_memo.memo import format_mlp_counts, mlp_counts
    demo(capsys, "--epochs", "1", "--out", str(tmp_path), "--quiet")
    report = (tmp_path / "memo.txt").read_text()
    assert report.startswith("Memoization report for MLP(64 -> 128 -> 10, relu)")
    counts = mlp_counts((64, 128, 10))      # checked against the built graph in test_memo.py
    assert ("The same network as a graph of scalars (Values) for one sample\nhas 36,915 nodes "
            "and 38,067 edges") in report
    assert format_mlp_counts(counts) in report
    assert "paths from the loss to one first-layer weight  11\n" in report
    assert "paths from the loss to all 8,192 of them       90,112\n" in report
    assert "naive / memoized                               257.4x\n" in report
    rows = [line.split() for line in report.splitlines() if re.match(r" +\d+ +\d", line)]
    assert [r[0] for r in rows] == [str(k) for k in range(1, 11)]   # 1..10 hidden layers
    assert rows[0][-4:] == ["295,320", "<-", "this", "model"]      # the model trained
    assert not any("<-" in r for r in rows[1:])
    assert "multiplies the paths by 128 and adds 65,664 memoized evaluations" in report
    tensor = report[report.index("3. At the level of Tensors (one node per matrix)"):]
    assert "local-derivative evaluations (one per edge)" in tensor
    assert "both give the same gradients" in tensor
    assert "a Tensor node bundles a whole matrix" in tensor


@pytest.mark.skipif(not HAS_MEMO, reason="tinygrad_memo.memo not available")
def test_memo_report_marks_the_trained_depth_in_the_table(tmp_path, capsys):
    demo(capsys, "--dataset", "moons", "--epochs", "1", "--out", str(tmp_path), "--quiet")
    report = (tmp_path / "memo.txt").read_text()
    marked = [line.split()[0] for line in report.splitlines() if line.endswith("<- this model")]
    assert marked == ["2"]                                   # MLP(2 -> 32 -> 32 -> 2)
    assert "paths from the loss to one first-layer weight  96\n" in report   # 3 * 32
    assert "multiplies the paths by 32" in report


def test_without_matplotlib_the_pictures_are_skipped_with_a_note(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    rc, out, _ = demo(capsys, "--dataset", "moons", "--epochs", "1", "--out", str(tmp_path))
    assert rc == 0
    assert "note: skipped the pictures: matplotlib is not installed" in out
    assert not list(tmp_path.glob("*.png")) and (tmp_path / "model.npz").exists()


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs must be >= 1, got 0"),
    (["--lr", "-1"], "--lr must be a positive number, got -1.0"),
    (["--lr", "nan"], "--lr must be a positive number, got nan"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["--seed", "-3"], "--seed must be >= 0, got -3"),
])
def test_bad_values_exit_2_with_one_line(tmp_path, capsys, argv, message):
    rc, out, err = demo(capsys, *argv, "--out", str(tmp_path))
    assert rc == 2 and out == ""
    assert err == f"tinygrad-memo demo: error: {message}\n"


def test_out_that_is_a_file_exits_2(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    rc, _, err = demo(capsys, "--out", str(tmp_path / "f"))
    assert rc == 2 and "exists and is not a folder" in err and err.count("\n") == 1
    rc, _, err = demo(capsys, "--out", str(tmp_path / "f" / "below"))
    assert rc == 2 and "cannot create the folder" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["--dataset", "mnist"], ["--epochs", "many"], ["--bogus"]])
def test_argparse_misuse_exits_2_with_one_line(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(["demo", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err


def test_python_dash_m_runs_the_demo(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tinygrad_memo", "demo", "--dataset", "moons",
                           "--epochs", "1", "--quiet", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("test accuracy ")


# -- the training loop -----------------------------------------------------------------------

def test_fit_records_losses_and_learns():
    X, y = data.make_moons(120, seed=0)
    model = nn.MLP(2, [16, 2], seed=0)
    before = evaluate(model, X, y)[0]
    hist = fit(model, X, y, optim.Adam(model.parameters(), lr=0.02), epochs=5, batch_size=32,
               progress=False, validation=(X[:20], y[:20]))
    assert len(hist.step_loss) == 5 * 4 and len(hist.epoch_loss) == 5 == len(hist.test_loss)
    assert evaluate(model, X, y)[0] < before
    assert predict(model, X).shape == (120, 2)


def test_fit_is_reproducible_with_a_seed():
    X, y = data.make_moons(64, seed=0)
    runs = []
    for _ in range(2):
        model = nn.MLP(2, [8, 2], seed=1)
        fit(model, X, y, optim.SGD(model.parameters(), lr=0.1), 2, 16, seed=3, progress=False)
        runs.append(model.state_dict())
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])


def test_fit_rejects_zero_epochs():
    model = nn.MLP(2, [2])
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        fit(model, np.zeros((2, 2)), [0, 1], optim.SGD(model.parameters(), lr=0.1), 0, 1)


def test_fit_rejects_a_zero_batch_size_by_name():
    model = nn.MLP(2, [2])
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        fit(model, np.zeros((2, 2)), [0, 1], optim.SGD(model.parameters(), lr=0.1), 1, 0)


def test_out_where_files_cannot_be_written_exits_2_before_training(tmp_path, capsys):
    if os.path.isdir("/proc/self"):  # a folder that exists but refuses new files (even root)
        rc, out, err = demo(capsys, "--out", "/proc", "--epochs", "1", "--quiet")
        assert rc == 2 and out == ""
        assert err.startswith("tinygrad-memo demo: error: --out /proc: cannot write into")
        assert err.count("\n") == 1
    (tmp_path / "model.npz").mkdir()   # an output's name taken by a folder
    rc, out, err = demo(capsys, "--out", str(tmp_path), "--epochs", "1", "--quiet")
    assert rc == 2
    assert err == (f"tinygrad-memo demo: error: --out {tmp_path}: cannot write "
                   f"{tmp_path / 'model.npz'}: Is a directory\n")


def test_jit_trains_to_the_same_accuracy(tmp_path, capsys):
    """--jit traces the step and replays it: the same losses to float rounding, the same
    accuracy."""
    runs = [demo(capsys, "--quiet", "--epochs", "3", "--out", str(tmp_path / f"o{i}"), *flag)
            for i, flag in enumerate([(), ("--jit",)])]
    assert [rc for rc, _, _ in runs] == [0, 0]
    (_, plain, _), (_, traced, _) = runs
    assert percent(traced, "test") == percent(plain, "test") > 80
    assert percent(traced, "train") == percent(plain, "train")


def test_fit_with_jit_matches_fit_without():
    X, y = data.make_moons(100, seed=0)
    losses = []
    for flag in (False, True):
        model = nn.MLP(2, [8, 2], seed=0)
        hist = fit(model, X, y, optim.SGD(model.parameters(), lr=0.1), epochs=3, batch_size=32,
                   progress=False, jit=flag)
        losses.append(hist.step_loss)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
