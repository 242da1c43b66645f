"""``tinygrad-memo demo --dataset names``: makemore's MLP trained for real, its outputs."""
import re

import numpy as np
import pytest

from tinygrad_memo import data, nn
from tinygrad_memo.app import names
from tinygrad_memo.app.cli import main
from tinygrad_memo.app.train import evaluate, predict


def run_demo(capsys, *argv):
    rc = main(["demo", "--dataset", "names", *argv])
    return rc, capsys.readouterr().out


def loss(out, what):
    return float(re.search(rf"{what} loss (\d\.\d{{4}})", out).group(1))


def test_quick_run_learns_writes_names_model_and_per_layer_graph(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TINYGRAD_MEMO_QUICK", "1")
    rc, out = run_demo(capsys, "--out", str(tmp_path), "--quiet")
    assert rc == 0
    lines = out.strip().splitlines()
    assert re.fullmatch(r"validation loss \d\.\d{4} nats", lines[-1])
    assert loss(out, "validation") < 2.35  # one epoch: far below log(27) = 3.30
    samples = re.search(r"samples: (.*)", out).group(1).split(", ")
    assert len(samples) == 20 and all(re.fullmatch(r"[a-z]*", s) for s in samples)
    model = nn.Module.load(tmp_path / "model.npz")
    assert isinstance(model, nn.Sequential) and isinstance(model[3], nn.BatchNorm1d)
    assert int(model[3].num_batches_tracked.data) == 713  # one epoch of batch 256
    _, val, _ = names.split(0)
    X, y = data.name_windows(val)
    assert evaluate(model, X, y)[0] == pytest.approx(loss(out, "validation"), abs=1e-4)
    svg = (tmp_path / "graph.svg").read_text()
    for box in ("0 Embedding", "2 Linear", "3 BatchNorm1d", "4 Tanh", "5 Linear"):
        assert box in svg


def test_default_run_reaches_a_validation_loss_below_2_2_nats(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TINYGRAD_MEMO_QUICK", raising=False)
    rc, out = run_demo(capsys, "--out", str(tmp_path), "--quiet")
    assert rc == 0 and loss(out, "validation") < 2.2
    assert loss(out, "train") < loss(out, "validation") < 2.2


def test_a_batch_size_that_leaves_one_example_is_refused(tmp_path, capsys):
    for size in ("1", str(len(data.name_windows(names.split(0)[0])[0]) - 1)):
        rc = main(["demo", "--dataset", "names", "--batch-size", size, "--out", str(tmp_path)])
        assert rc == 2
        assert "BatchNorm needs at least 2" in capsys.readouterr().err


def test_jit_is_refused_for_names(tmp_path, capsys):
    assert main(["demo", "--dataset", "names", "--jit", "--out", str(tmp_path)]) == 2
    assert "--jit does not apply to names" in capsys.readouterr().err


def test_sampling_is_seeded_and_leaves_the_modes_alone():
    model = names.build_model(16, seed=0)
    model[3].eval()
    assert names.sample(model, 3, seed=1) == names.sample(model, 3, seed=1)
    assert model.training and not model[3].training and model[5].training
    predict(model, np.zeros((4, 3), np.int64))
    assert model.training and not model[3].training


def test_predict_uses_eval_mode_so_batchnorm_statistics_do_not_move():
    model = names.build_model(8, seed=0)
    before = model[3].running_mean.data.copy()
    predict(model, np.ones((10, 3), np.int64))
    np.testing.assert_array_equal(model[3].running_mean.data, before)
    assert int(model[3].num_batches_tracked.data) == 0
