"""checkpoint(fn, *args) and nn.Checkpoint: the gradients of the plain run (first and second
order), less memory held after the forward pass, and clear errors where it cannot work."""
import gc
import re
import subprocess
import sys
import tracemalloc
import weakref
from pathlib import Path

import numpy as np
import pytest
from conftest import t64
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_memo import (Tensor, Value, checkpoint, detect_anomaly, grad, nn, no_grad)
from tinygrad_memo.core.anomaly import AnomalyError
from tinygrad_memo.core.engine import GraphFreedError
from tinygrad_memo.testing import arrays, expressions

ROOT = Path(__file__).resolve().parents[1]


def mlp(depth, width, nin, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [nin] + [width] * depth
    return [nn.Linear(a, b, seed=rng, dtype=np.float64) for a, b in zip(sizes[:-1], sizes[1:])]


def run(layers, x, use_checkpoint):
    h = x
    for layer in layers:
        block = lambda v, layer=layer: layer(v).tanh()  # noqa: E731
        h = checkpoint(block, h) if use_checkpoint else block(h)
    return h


def params(layers):
    return [p for layer in layers for p in layer.parameters()]


# -- the same gradients -------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.data())
def test_checkpointed_gradients_equal_plain_ones(depth, batch, nin, width, data):
    layers = mlp(depth, width, nin)
    x = Tensor(data.draw(arrays(shape=(batch, nin))), requires_grad=True)
    wanted = [x] + params(layers)
    plain = grad((run(layers, x, False) ** 2).sum(), wanted)
    ckpt = grad((run(layers, x, True) ** 2).sum(), wanted)
    for a, b in zip(plain, ckpt):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


@settings(max_examples=60, deadline=None)
@given(expressions())
def test_checkpointed_scalar_expressions_match(expr):
    plain, ckpt = expr.values(), expr.values()
    (expr(*plain) * 2).backward()
    (checkpoint(expr, *ckpt) * 2).backward()
    assert [v.grad for v in ckpt] == pytest.approx([v.grad for v in plain], rel=1e-12, abs=1e-15)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_second_derivatives_through_a_checkpoint(depth, width, data):
    layers = mlp(depth, width, 2, seed=3)
    x = Tensor(data.draw(arrays(shape=(2, 2))), requires_grad=True)
    w0 = layers[0].weight

    def second(use_checkpoint):
        gx, gw = grad((run(layers, x, use_checkpoint) ** 2).sum(), [x, w0], create_graph=True)
        return grad((gx ** 2).sum() + (gw * gw).sum(), [x, w0] + [layers[-1].bias])

    for a, b in zip(second(False), second(True)):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_scalar_second_derivative_and_backward_with_create_graph():
    def f(a):
        return (a * a * a).tanh()
    a1, a2 = Value(0.4), Value(0.4)
    (g1,) = grad(f(a1), [a1], create_graph=True)
    (g2,) = grad(checkpoint(f, a2), [a2], create_graph=True)
    assert g2.data == pytest.approx(g1.data, rel=1e-12)
    g1.backward()
    g2.backward()
    assert a2.grad == pytest.approx(a1.grad, rel=1e-12)


def test_arguments_of_every_kind_and_a_parameter_read_from_outside():
    w = t64([0.5, -1.0, 2.0])
    x = t64([1.0, 2.0, 3.0])
    const = np.array([1.0, 0.0, -1.0])

    def fn(u, v, c, k):
        return ((u * w + c) * v * k).sum()

    plain = grad(fn(x, x, const, 3.0), [x, w])
    ckpt = grad(checkpoint(fn, x, x, const, 3.0), [x, w])   # x twice: both paths count
    for a, b in zip(plain, ckpt):
        np.testing.assert_allclose(b, a)


# -- memory -------------------------------------------------------------------------------

def _held_after_forward(layers, x, use_checkpoint):
    gc.collect()
    tracemalloc.start()
    try:
        out = (run(layers, x, use_checkpoint) ** 2).sum()
        held = tracemalloc.get_traced_memory()[0]
        out.backward()
        return held, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checkpointing_holds_less_memory_after_forward_and_at_the_peak():
    layers = mlp(12, 64, 64)
    x = Tensor(np.random.default_rng(0).normal(size=(64, 64)))
    (plain_held, plain_peak) = _held_after_forward(layers, x, False)
    for p in params(layers):
        p.grad = None
    (ckpt_held, ckpt_peak) = _held_after_forward(layers, x, True)
    # per block: matmul, bias add and tanh outputs (3 arrays) vs the block's output (1)
    assert ckpt_held < 0.5 * plain_held, (ckpt_held, plain_held)
    assert ckpt_peak < plain_peak, (ckpt_peak, plain_peak)


def test_the_intermediates_of_fn_die_when_checkpoint_returns():
    made = []

    def fn(v):
        h = (v * 2).tanh()
        made.append(weakref.ref(h))
        return h.sum()

    x = t64([1.0, 2.0])
    out = checkpoint(fn, x)
    gc.collect()
    assert made[0]() is None
    out.backward()                          # recomputes: a second intermediate, also gone
    gc.collect()
    assert len(made) == 2 and made[1]() is None
    np.testing.assert_allclose(x.grad, 2 * (1 - np.tanh(2 * x.data) ** 2))


# -- interplay with the rest of the engine -------------------------------------------------

def test_checkpoint_with_retain_graph_false_and_a_second_backward():
    x = t64([0.3, -0.2])
    out = (checkpoint(lambda v: (v * v).exp(), x) * 2).sum()
    out.backward(retain_graph=False)
    np.testing.assert_allclose(x.grad, 2 * 2 * x.data * np.exp(x.data ** 2))
    with pytest.raises(GraphFreedError):
        out.backward()


def test_a_parameters_hook_sees_its_total_gradient_once():
    layers = mlp(2, 3, 2)
    w = layers[0].weight
    x = t64([[1.0, -1.0]])
    (gw,) = grad((run(layers, x, False) ** 2).sum(), [w])
    seen = []
    handle = w.register_hook(lambda g: seen.append(g.copy()))
    (run(layers, x, True) ** 2).sum().backward()
    handle.remove()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], gw)
    assert w._hooks is None


def test_backward_under_no_grad_still_recomputes():
    x = t64([0.5, 1.5])
    out = checkpoint(lambda v: (v ** 3).sum(), x)
    with no_grad():
        out.backward()
    np.testing.assert_allclose(x.grad, 3 * x.data ** 2)


def test_anomaly_mode_points_into_fn_during_the_recomputation():
    x = t64([0.0, 1.0])
    with np.errstate(all="ignore"), detect_anomaly():
        out = checkpoint(lambda v: v.sqrt().sum(), x)
        with pytest.raises(AnomalyError, match=r"(?s)'sqrt' produced inf.*lambda v: v.sqrt"):
            out.backward()


def test_under_no_grad_checkpoint_is_just_a_call():
    x = t64([1.0])
    with no_grad():
        out = checkpoint(lambda v: v * 2, x)
    assert out.is_leaf and not out.requires_grad and out.data[0] == 2.0


def test_outputs_needing_no_gradient_are_returned_as_they_are():
    out = checkpoint(lambda v: v * 2, Tensor([1.0, 2.0]))
    assert not out.requires_grad and out.is_leaf


# -- errors ----------------------------------------------------------------------------------

def test_errors_name_what_was_wrong():
    x = t64([1.0, 2.0])
    with pytest.raises(TypeError, match="fn must be callable"):
        checkpoint(3, x)
    with pytest.raises(TypeError, match="fn must return one Value or Tensor, got tuple"):
        checkpoint(lambda v: (v, v), x)
    h = x * 3                                             # a non-leaf from outside fn
    with pytest.raises(ValueError, match=r"fn uses a Tensor of shape \(2,\) made by 'mul' "
                                         r"outside fn, which is not one of its arguments"):
        checkpoint(lambda v: v + h, x)
    calls = []

    def changes_shape(v):
        calls.append(1)
        return v.sum() if len(calls) == 1 else v * 1.0

    out = checkpoint(changes_shape, x)
    with pytest.raises(RuntimeError, match=r"recomputing fn gave \(2,\), but the forward pass "
                                           r"gave shape \(\); fn must be deterministic"):
        out.backward()


# -- nn.Checkpoint --------------------------------------------------------------------------

def test_nn_checkpoint_wraps_a_module():
    model = nn.MLP(3, [4, 4, 2], seed=0, dtype=np.float64)
    wrapped = nn.Checkpoint(model)
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(wrapped(x).data, model(x).data)
    ref = grad(nn.mse_loss(model(x), np.zeros((5, 2))), model.parameters())
    got = grad(nn.mse_loss(wrapped(x), np.zeros((5, 2))), wrapped.parameters())
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=1e-12)
    assert [n for n, _ in wrapped.named_parameters()][0] == "module.layers.0.weight"
    assert repr(wrapped).startswith("Checkpoint(MLP(")
    with pytest.raises(TypeError, match="expected a Module to wrap"):
        nn.Checkpoint(lambda v: v)


def test_nn_checkpoint_per_layer_trains_like_the_plain_model():
    from tinygrad_memo import optim
    x = np.random.default_rng(1).normal(size=(8, 2))
    y = (x[:, 0] > 0).astype(int)
    losses = {}
    for ck in (False, True):
        layers = [nn.Linear(2, 8, seed=0, dtype=np.float64), nn.Linear(8, 2, seed=1,
                                                                        dtype=np.float64)]
        blocks = [nn.Checkpoint(m) for m in layers] if ck else layers
        opt = optim.SGD([p for m in layers for p in m.parameters()], lr=0.1)
        for _ in range(5):
            opt.zero_grad()
            loss = nn.cross_entropy(blocks[1](blocks[0](x).relu()), y)
            loss.backward()
            opt.step()
        losses[ck] = loss.item()
    assert losses[True] == pytest.approx(losses[False], rel=1e-12)


# -- the benchmark runs ------------------------------------------------------------------------

def test_the_benchmark_script_runs_quickly():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "checkpoint.py"), "--quick"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "checkpoint / plain: activations" in res.stdout


# -- the docs' examples are real code -------------------------------------------------------

DOC = ROOT / "docs" / "checkpointing.md"
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_doc_block_runs(index, capsys):
    exec(compile(DOC_BLOCKS[index], f"checkpointing.md block {index}", "exec"),
         {"__name__": "__doc_example__"})
    out = capsys.readouterr().out
    if "register_hook" in DOC_BLOCKS[index]:
        assert out.strip() == "31.0 20.0"
    if "detect_anomaly" in DOC_BLOCKS[index]:
        assert "nan first appears where 'log' maps finite inputs" in out


def test_mlp_checkpoint_flag_gives_the_same_gradients_and_round_trips(tmp_path):
    from tinygrad_memo import nn
    x = Tensor(np.random.default_rng(3).normal(size=(5, 4)))
    plain = nn.MLP(4, [8, 8, 3], activation="tanh", seed=0, dtype=np.float64)
    ckpt = nn.MLP(4, [8, 8, 3], activation="tanh", seed=0, dtype=np.float64, checkpoint=True)
    for model in (plain, ckpt):
        (model(x) ** 2).sum().backward()
    for p, q in zip(plain.parameters(), ckpt.parameters()):
        np.testing.assert_allclose(q.grad, p.grad, rtol=1e-12)
    ckpt.save(tmp_path / "m.npz")
    assert nn.Module.load(tmp_path / "m.npz").checkpoint is True
