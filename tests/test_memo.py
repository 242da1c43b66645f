"""memo: Fibonacci call counts, path-by-path gradients vs the memo, and `tinygrad-memo memo`."""
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_memo import Tensor, Value, grad
from tinygrad_memo import memo
from tinygrad_memo.app.cli import main
from tinygrad_memo.core.engine import toposort
from tinygrad_memo.memo import (TooManyPathsError, backprop_cost, count_paths, diamond_chain,
                                fib_memo, fib_naive, fib_naive_calls, fib_table, format_count,
                                memo_bytes, mlp_counts, mlp_growth, path_grad,
                                scalar_cross_entropy, scalar_mlp)
from tinygrad_memo.nn.scalar import MLP as ScalarMLP
from tinygrad_memo.testing import expressions

ROOT = Path(__file__).resolve().parents[1]
F = [0, 1]
for _ in range(200):
    F.append(F[-1] + F[-2])


# -- Fibonacci ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(21))
def test_fib_call_counts_match_closed_forms(n):
    assert fib_naive(n) == (F[n], 2 * F[n + 1] - 1)
    assert fib_memo(n) == (F[n], max(1, 2 * n - 1))
    assert fib_table(n) == (F[n], n + 1)
    assert fib_naive_calls(n) == 2 * F[n + 1] - 1


def test_memoized_fibonacci_is_not_limited_by_recursion():
    value, calls = fib_memo(10_000)
    assert calls == 19_999
    assert value == fib_table(10_000)[0]
    assert len(str(value)) == 2090 and str(value).startswith("33644764876431783266")
    assert fib_memo(200) == (F[200], 399)


def test_fib_naive_refuses_large_n_unless_asked(monkeypatch):
    with pytest.raises(ValueError, match=r"fib_naive\(31\) would make 4,356,617 calls; n above "
                                         r"FIB_NAIVE_MAX=30 needs allow_slow=True"):
        fib_naive(31)
    monkeypatch.setattr(memo.fibonacci, "FIB_NAIVE_MAX", 5)
    with pytest.raises(ValueError, match="allow_slow=True"):
        fib_naive(6)
    assert fib_naive(6, allow_slow=True) == (8, 25)


@pytest.mark.parametrize("fn", [fib_naive, fib_memo, fib_table, fib_naive_calls])
@pytest.mark.parametrize("bad", [-1, 2.5, 3.0, "3", None, True])
def test_fib_rejects_bad_n(fn, bad):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: n must be a non-negative integer, got"):
        fn(bad)


# -- path_grad agrees with backward ----------------------------------------------------------


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(expressions(max_inputs=3, max_steps=12))
def test_path_grad_agrees_with_backward(expr):
    xs = expr.values()
    out = expr(*xs)
    grads, evaluations = path_grad(out, xs)
    assert all(x.grad == 0.0 for x in xs)          # path_grad touches no .grad
    out.backward()
    for x, g in zip(xs, grads):
        assert close(g, x.grad), (expr, g, x.grad)
    # every path is one term of the sum, and costs at least one evaluation
    assert evaluations >= count_paths(out, xs)


def test_path_grad_through_shared_and_intermediate_nodes():
    a, b = Value(1.5), Value(-0.5)
    y = a * b                 # y is used twice below, a three times in all
    z = (y + y * a).tanh() * a
    grads, evaluations = path_grad(z, [y, a, b, a])
    assert [g for g in grads] == pytest.approx(grad(z, [y, a, b, a]), rel=1e-12)
    assert count_paths(z, [y, a, b]) == 2 + 4 + 2


def test_path_grad_of_an_unrelated_node_is_zero():
    x, other = Value(2.0), Value(5.0)
    assert path_grad(x * x, [x, other]) == ([4.0, 0.0], 2)
    assert path_grad(x, [x]) == ([1.0], 0)   # the empty path: d(x)/d(x) = 1


def test_path_grad_on_tensor_graphs():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    W = Tensor(rng.normal(size=(3, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=(3,)), requires_grad=True)
    const = Tensor(rng.normal(size=(2, 3)))        # no gradient: no path goes through it
    h = (x @ W + b).tanh()
    out = ((h * h + h * const) @ W).sum()          # W reached twice, h twice
    grads, evaluations = path_grad(out, [x, W, b])
    for g, ref in zip(grads, grad(out, [x, W, b], retain_graph=True)):
        np.testing.assert_allclose(g, ref, rtol=1e-10)
    assert count_paths(out, [x, W, b]) == 3 + 4 + 3
    assert evaluations > backprop_cost(out) == 13
    unused = Tensor(np.ones(4), requires_grad=True)
    np.testing.assert_array_equal(path_grad(out, [unused])[0][0], np.zeros(4))


def test_path_grad_on_a_deep_chain_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(50_000):
        y = -y
    assert path_grad(y, [x]) == ([1.0], 50_000)
    assert backprop_cost(y) == 50_000


# -- the costs: exponential vs linear ----------------------------------------------------------


def test_diamond_chain_naive_cost_grows_by_a_factor_memo_cost_by_a_constant():
    naive, memo_cost, paths = {}, {}, {}
    for d in range(1, 13):
        out, wrt = diamond_chain(d)
        (g,), naive[d] = path_grad(out, wrt)
        memo_cost[d], paths[d] = backprop_cost(out), count_paths(out, wrt)
        assert close(g, 1.1 ** d)
        assert paths[d] == 2 ** d                  # two ways down per level
        assert naive[d] == 2 * d * 2 ** d          # every path has 2 edges per level
        assert memo_cost[d] == 6 * d               # 6 edges per level, one evaluation each
        assert memo_bytes(out) == 8 * (5 * d + 1)  # one float per node: x, then 5 per level
    for d in range(1, 12):
        assert paths[d + 1] == 2 * paths[d]
        assert naive[d + 1] * d == naive[d] * 2 * (d + 1)   # factor 2(d+1)/d: at least 2
        assert naive[d + 1] >= 2 * naive[d]
        assert memo_cost[d + 1] - memo_cost[d] == 6


@pytest.mark.parametrize("layers", range(1, 6))
def test_scalar_mlp_paths_and_costs(layers):
    out, params = scalar_mlp(layers, width=3)
    assert len(params) == 4 + 12 * (layers - 1)
    assert count_paths(out, params) == 4 * (3 ** layers - 1) // 2   # (w+1)(w^L-1)/(w-1)
    assert backprop_cost(out) == 12 + 39 * (layers - 1)
    grads, _ = path_grad(out, params)
    assert grads == pytest.approx(grad(out, params), rel=1e-9, abs=1e-12)


def test_backprop_cost_and_memo_bytes_leave_grads_alone():
    a = Value(3.0)
    y = a * a + a
    assert backprop_cost(y) == 4 and memo_bytes(y) == 8 * 3
    assert a.grad == 0.0 and y.grad == 0.0
    t = Tensor(np.ones((2, 5)), requires_grad=True)
    s = (t * t).sum()
    assert backprop_cost(s) == 3 and memo_bytes(s) == 8 + 80 + 80
    assert t.grad is None


# -- focusing on the first layer: the classifier MLP of scalars ------------------------------


def classifier(sizes, target=0, seed=0):
    """nn.scalar.MLP's graph and scalar_cross_entropy on one random sample of floats:
    (loss, the first layer's weights)."""
    rng = random.Random(seed)
    model = ScalarMLP(sizes[0], sizes[1:], seed=seed)
    x = [rng.uniform(-1, 1) for _ in range(sizes[0])]
    for layer in model.layers:   # layer by layer: a one-neuron layer gives a Value, not a list
        x = [neuron(x) for neuron in layer.neurons]
    loss = scalar_cross_entropy(x, target)
    return loss, [w for neuron in model.layers[0].neurons for w in neuron.w]


def path_length_sum(output, targets):
    """The summed length of every path from output to targets, by a pass over the edges
    (checked against path_grad's brute force below, then used where that is too slow)."""
    paths, lengths = {output: 1}, {output: 0}
    for node in reversed(toposort(output)):
        for parent in node._inputs:
            paths[parent] = paths.get(parent, 0) + paths[node]
            lengths[parent] = lengths.get(parent, 0) + lengths[node] + paths[node]
    return sum(lengths.get(t, 0) for t in set(targets))


@pytest.mark.parametrize("sizes, target", [
    ((1, 1, 1), 0), ((2, 2, 2), 1), ((3, 2, 2), 0), ((2, 3, 2, 2), 1), ((2, 2, 3, 1, 3), 2),
    ((3, 2, 2, 2, 2), 0), ((2, 4, 1, 3), 2), ((4, 1, 2, 5), 4)])
def test_mlp_counts_equal_brute_force_on_built_networks(sizes, target):
    loss, first = classifier(sizes, target)
    c = mlp_counts(sizes)
    assert c.sizes == sizes and c.weights == len(first) == sizes[0] * sizes[1]
    assert count_paths(loss, first) == c.paths
    assert {count_paths(loss, [w]) for w in first} == {c.paths_per_weight}
    grads, evaluations = path_grad(loss, first)           # every path walked on its own
    assert evaluations == c.naive_evaluations == path_length_sum(loss, first)
    assert backprop_cost(loss) == c.memo_evaluations
    assert len(toposort(loss)) == c.memo_entries
    assert memo_bytes(loss) == c.memo_bytes == 8 * c.memo_entries
    assert grads == pytest.approx(grad(loss, first), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=3, max_size=6), st.data())
def test_mlp_counts_equal_the_built_graph_for_random_shapes(sizes, data):
    target = data.draw(st.integers(0, sizes[-1] - 1))
    loss, first = classifier(tuple(sizes), target, seed=data.draw(st.integers(0, 99)))
    c = mlp_counts(sizes)
    assert (c.paths, c.paths_per_weight) == (count_paths(loss, first),
                                            count_paths(loss, first[-1:]))
    assert c.naive_evaluations == path_length_sum(loss, first)
    assert (c.memo_evaluations, c.memo_entries) == (backprop_cost(loss), len(toposort(loss)))


def test_mlp_counts_at_the_demo_shape_equal_the_built_graph():
    sizes = (64, 128, 10)                                  # tinygrad-memo demo's default model
    loss, first = classifier(sizes, target=3)
    c = mlp_counts(sizes)
    assert (c.paths_per_weight, c.paths) == (11, 90_112) == (count_paths(loss, first[:1]),
                                                            count_paths(loss, first))
    assert c.naive_evaluations == path_length_sum(loss, first) == 9_797_632
    assert c.memo_evaluations == backprop_cost(loss) == 38_067
    assert c.memo_entries == len(toposort(loss)) == 36_915


def test_scalar_cross_entropy_is_minus_log_softmax():
    z = [Value(v) for v in (1.0, -2.0, 0.5, 3.0)]
    loss = scalar_cross_entropy(z, 2)
    p = np.exp([1.0, -2.0, 0.5, 3.0])
    p /= p.sum()
    assert loss.data == pytest.approx(-math.log(p[2]), rel=1e-12)
    assert grad(loss, z) == pytest.approx(p - np.eye(4)[2], rel=1e-12)   # softmax - onehot
    big = scalar_cross_entropy([Value(1000.0), Value(0.0)], 1)           # no overflow
    assert big.data == pytest.approx(1000.0) and grad(big, [big])[0] == 1.0


def test_scalar_cross_entropy_rejects_bad_input():
    with pytest.raises(TypeError, match="scalar_cross_entropy: logits must be a non-empty "
                                        "sequence of Values"):
        scalar_cross_entropy([1.0, 2.0], 0)
    with pytest.raises(TypeError, match="non-empty"):
        scalar_cross_entropy([], 0)
    for bad in (2, -1, 1.0, True):
        with pytest.raises(ValueError, match=r"scalar_cross_entropy: target must be a class "
                                             rf"index in \[0, 2\), got {bad!r}"):
            scalar_cross_entropy([Value(0.0), Value(1.0)], bad)


def test_mlp_growth_paths_multiply_by_the_width_memo_cost_adds_a_constant():
    rows = mlp_growth(64, 128, 10, 12)
    assert [len(r.sizes) - 2 for r in rows] == list(range(1, 13))
    for k, r in enumerate(rows, start=1):
        assert r.paths_per_weight == 11 * 128 ** (k - 1)
        assert r.paths == 64 * 128 * r.paths_per_weight
    for a, b in zip(rows, rows[1:]):
        assert b.paths == 128 * a.paths                         # exponential in depth
        assert b.naive_evaluations > 128 * a.naive_evaluations  # paths get longer as well
        assert b.memo_evaluations - a.memo_evaluations == 128 * (4 * 128 + 1)   # linear
        assert b.memo_entries - a.memo_entries == 128 * (3 * 128 + 2)
    assert mlp_growth(2, 3, 2, 0) == []


@pytest.mark.parametrize("bad", [(64, 10), (64,), (64, 0, 10), (64, 2.0, 10), (True, 2, 2), 5,
                                 None])
def test_mlp_counts_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match=r"mlp_counts: sizes must be \(inputs, hidden "
                                         r"widths\.\.\., classes\): at least three positive "
                                         rf"integers, got {re.escape(repr(bad))}"):
        mlp_counts(bad)


def test_format_count_is_exact_arithmetic_at_any_size():
    assert format_count(0) == "0" and format_count(999_999_999) == "999,999,999"
    assert format_count(10 ** 9) == "1.00e+9"
    assert format_count(1_234_567_890) == "1.23e+9"
    assert format_count(1_235_000_000) == "1.24e+9"          # rounded half up
    assert format_count(9_995 * 10 ** 20) == "1.00e+24"      # rounding carries into the exponent
    assert format_count(9_994 * 10 ** 20) == "9.99e+23"
    assert format_count(10 ** 5000) == "1.00e+5000"          # past int-to-str's digit limit
    assert format_count(3 * 10 ** 5000 - 1) == "3.00e+5000"
    assert format_count(2 ** 20000) == "3.98e+6020"   # 2**20000 // 10**6018 == 398


# -- errors ---------------------------------------------------------------------------------


def test_too_many_paths_is_refused_before_any_work():
    out, wrt = diamond_chain(12)
    with pytest.raises(TooManyPathsError, match=r"path_grad: 4,096 paths lead from the output to "
                                                r"wrt, more than max_paths=1,000; pass a larger "
                                                r"max_paths") as info:
        path_grad(out, wrt, max_paths=1000)
    assert (info.value.paths, info.value.max_paths) == (4096, 1000)
    assert isinstance(info.value, ValueError)
    assert path_grad(out, wrt, max_paths=4096)[1] == 2 * 12 * 4096
    deep, wrt = diamond_chain(200)                 # 2**200 paths: counted, never walked
    assert count_paths(deep, wrt) == 2 ** 200
    with pytest.raises(TooManyPathsError, match=f"{2 ** 200:,} paths"):
        path_grad(deep, wrt)


@pytest.mark.parametrize("fn", [path_grad, count_paths])
def test_bad_graph_arguments(fn):
    x = Value(1.0)
    name = fn.__name__
    with pytest.raises(TypeError, match=rf"{name}: output is float, expected a Value or Tensor"):
        fn(1.0, [x])
    with pytest.raises(TypeError, match=rf"{name}: wrt\[1\] is int, expected a Value or Tensor"):
        fn(x * 2, [x, 3])
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=rf"{fn.__name__}: wrt\[0\] does not require grad"):
        fn(t.sum(), [Tensor([1.0])])
    with pytest.raises(ValueError, match=rf"{fn.__name__}: the output must have one element, "
                                         r"got shape \(2,\)"):
        fn(t * 2, [t])
    with pytest.raises(ValueError, match=rf"{fn.__name__}: the output does not require grad"):
        fn(Tensor([1.0]), [t])


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10", None])
def test_bad_max_paths(bad):
    x = Value(1.0)
    with pytest.raises(ValueError, match=r"path_grad: max_paths must be a non-negative integer"):
        path_grad(x * x, [x], max_paths=bad)


def test_bad_builder_arguments_and_cost_inputs():
    for fn in (backprop_cost, memo_bytes):
        with pytest.raises(TypeError, match=rf"{fn.__name__}: output is list"):
            fn([Value(1.0)])
    with pytest.raises(ValueError, match="diamond_chain: depth must be a non-negative integer"):
        diamond_chain(-1)
    with pytest.raises(ValueError, match="scalar_mlp: layers must be a positive integer"):
        scalar_mlp(0)
    with pytest.raises(ValueError, match="scalar_mlp: width must be a positive integer"):
        scalar_mlp(2, width=0)


# -- the command ------------------------------------------------------------------------------


def sections(text):
    """The three tables of the report: {title word: {first column: [cells]}}."""
    out = {}
    blocks = text.strip().split("\n\n")
    for title, table in zip(blocks[0::2], blocks[1::2]):
        rows = [re.split(r"\s{2,}", line.strip()) for line in table.splitlines()[1:]]
        out[title.split(":")[0]] = {int(r[0]): r[1:] for r in rows}
    return out


def num(cell):
    return int(cell.replace(",", ""))


def test_memo_command_table_is_right(capsys):
    assert main(["memo", "--max-depth", "8", "--naive-limit", "100"]) == 0
    tables = sections(capsys.readouterr().out)
    fib, diamond, mlp = tables["Fibonacci"], tables["Diamond chain"], tables["Scalar MLP"]
    assert sorted(fib) == sorted(diamond) == sorted(mlp) == list(range(1, 9))
    for n, (value, naive, memoized) in fib.items():
        assert num(value) == F[n] and num(memoized) == max(1, 2 * n - 1)
        assert naive == (f"{2 * F[n + 1] - 1:,}" if 2 * F[n + 1] - 1 <= 100 else "too many calls")
    for d, (paths, naive, naive_ms, memo_evals, memo_ms, nbytes) in diamond.items():
        assert num(paths) == 2 ** d and num(memo_evals) == 6 * d
        assert num(nbytes) == 8 * (5 * d + 1) and float(memo_ms) >= 0
        if 2 ** d <= 100:
            assert num(naive) == 2 * d * 2 ** d and float(naive_ms) >= 0
        else:
            assert (naive, naive_ms) == ("too many paths", "-")
    for d, (paths, naive, _, memo_evals, _, nbytes) in mlp.items():
        out, params = scalar_mlp(d)
        assert num(paths) == count_paths(out, params)
        assert num(memo_evals) == backprop_cost(out) and num(nbytes) == memo_bytes(out)
        expected = path_grad(out, params)[1] if num(paths) <= 100 else None
        assert naive == ("too many paths" if expected is None else f"{expected:,}")


def mlp_table(text):
    """The --mlp table: {hidden layers: ([cells], marked)}."""
    block = next(b for b in text.split("\n\n") if b.startswith("hidden  paths/weight"))
    rows = {}
    for line in block.splitlines()[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        rows[int(cells[0])] = (cells[1:8], cells[8:] == ["<- this model"])
    return rows


def test_memo_mlp_prints_the_demo_model_by_hidden_layers(capsys):
    assert main(["memo", "--mlp"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The model `tinygrad-memo demo` trains (64 inputs, 10 classes) with 1 "
                          "to 10 hidden layers\nof 128 ReLU units, as a graph of scalars")
    rows = mlp_table(out)
    assert sorted(rows) == list(range(1, 11))
    for k, (cells, marked) in rows.items():
        c = mlp_counts((64, *[128] * k, 10))
        assert cells[:4] == [format_count(x) for x in (c.paths_per_weight, c.paths,
                                                       c.naive_evaluations, c.memo_evaluations)]
        ratio = float(cells[4].rstrip("x").replace(",", ""))
        assert ratio == pytest.approx(c.naive_evaluations / c.memo_evaluations, rel=5e-3)
        assert cells[5:] == [format_count(c.memo_entries), format_count(c.memo_bytes)]
        assert marked == (k == 1)                    # the demo trains one hidden layer
    assert rows[1][0][:5] == ["11", "90,112", "9,797,632", "38,067", "257.4x"]
    assert rows[4][0][4] == "247,803,089x" and rows[10][0][4] == "9.34e+20x"
    assert ("Each further hidden layer multiplies the paths by 128 and adds 65,664 memoized "
            "evaluations:\nexponential against linear.") in out


def test_memo_mlp_max_depth_sets_the_rows(capsys):
    assert main(["memo", "--mlp", "--max-depth", "3"]) == 0
    assert sorted(mlp_table(capsys.readouterr().out)) == [1, 2, 3]
    assert main(["memo", "--mlp", "--max-depth", "100"]) == 0   # exact counts stay fast
    rows = mlp_table(capsys.readouterr().out)
    assert rows[100][0][0] == format_count(11 * 128 ** 99) == "4.52e+209"


@pytest.mark.parametrize("argv, message", [
    (["--mlp", "--naive-limit", "5"], "--naive-limit does not apply to --mlp: its counts are "
                                      "exact, nothing is run path by path"),
    (["--mlp", "--max-depth", "0"], "--max-depth must be between 1 and 100, got 0"),
    (["--mlp", "--max-depth", "101"], "--max-depth must be between 1 and 100, got 101"),
    (["--mlp", "--plot", "figure.txt2"], "--plot: cannot tell the format of 'figure.txt2'"),
    (["--mlp=yes"], "argument --mlp: ignored explicit argument 'yes'"),
    (["--max-depth", "0"], "--max-depth must be between 1 and 100, got 0"),
    (["--max-depth", "101"], "--max-depth must be between 1 and 100, got 101"),
    (["--max-depth", "two"], "argument --max-depth: invalid int value: 'two'"),
    (["--naive-limit", "-1"], "--naive-limit must be >= 0, got -1"),
    (["--plot", "figure.txt2"], "--plot: cannot tell the format of 'figure.txt2'"),
    (["--depth", "3"], "unrecognized arguments: --depth 3"),
])
def test_memo_command_misuse_exits_2(argv, message, capsys):
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    try:
        code = main(["memo", *argv])
    except SystemExit as exc:       # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_memo_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["memo", "--max-depth", "2", "--plot", str(tmp_path / "m.svg")]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("tinygrad-memo memo: error: --plot needs matplotlib, which is not "
                            "installed; pip install 'tinygrad-memo[plot]'\n")
    assert captured.out == "" and not (tmp_path / "m.svg").exists()


def test_memo_mlp_plot_writes_a_real_png_and_a_reproducible_svg(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png, svg, again = tmp_path / "p" / "mlp.png", tmp_path / "mlp.svg", tmp_path / "again.svg"
    for path in (png, svg, again):
        assert main(["memo", "--mlp", "--max-depth", "6", "--plot", str(path)]) == 0
        assert capsys.readouterr().out.endswith(f"\nwrote {path}\n")
    from matplotlib.image import imread
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(png)
    assert image.shape[0] > 300 and image.shape[1] > 500
    assert (image[..., :3] < 0.5).any()              # something drawn, not a blank page
    text = svg.read_text()
    assert text.startswith("<?xml") and "hidden layers" in text
    assert "naive chain rule" in text and "memoized backprop" in text
    assert text == again.read_text()


def test_memo_plot_writes_a_reproducible_svg(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    first, second = tmp_path / "a" / "memo.svg", tmp_path / "memo.svg"
    assert main(["memo", "--max-depth", "5", "--plot", str(first)]) == 0
    assert main(["memo", "--max-depth", "5", "--plot", str(second)]) == 0
    assert f"wrote {first}" in capsys.readouterr().out
    svg = first.read_text()
    assert svg.startswith("<?xml") and "Fibonacci" in svg
    assert svg == second.read_text()   # counts only, no timings, no date: same file


@pytest.mark.parametrize("script", ["fibonacci.py", "paths_vs_memo.py"])
def test_examples_run_quickly(script):
    env = {**os.environ, "TINYGRAD_MEMO_QUICK": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / script)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_memo_plot_to_an_unwritable_place_exits_2_before_the_work(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    (tmp_path / "taken.svg").mkdir()
    (tmp_path / "file").write_text("x")
    cases = [(tmp_path / "taken.svg", "is a folder, expected a file name"),
             (tmp_path / "file" / "m.svg", f"{tmp_path / 'file'} is not a folder")]
    if os.path.isdir("/proc/self"):
        cases.append((Path("/proc/m.svg"), "/proc: cannot write into this folder"))
    for path, message in cases:
        assert main(["memo", "--max-depth", "2", "--plot", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""   # refused before the table, not after
        assert captured.err.startswith("tinygrad-memo memo: error: --plot ")
        assert message in captured.err and captured.err.count("\n") == 1
