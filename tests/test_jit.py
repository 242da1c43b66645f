"""jit(fn): the traced step gives eager's forward value and gradients (bit for bit on
random graphs), retraces per signature, counts its cache, refuses what it cannot replay,
and check=True finds a step whose control flow depends on the data."""
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_memo as tm
from tinygrad_memo import Tensor, Value, checkpoint, detect_anomaly, jit, nn, no_grad
from tinygrad_memo.jit import DivergenceError, TraceError
from tinygrad_memo.optim import SGD
from tinygrad_memo.testing import arrays, expressions


def eager_step(fn, *args):
    out = fn(*args)
    out.backward()
    return out.detach()


@settings(deadline=None, max_examples=60)
@given(expressions(max_inputs=4, max_steps=12), st.integers(0, 4), st.data())
def test_value_graphs_match_eager_bit_for_bit(expr, n_params, data):
    """Some leaves are parameters the function captures, the rest arguments; a second call
    on new argument values replays the program and must match eager on those values."""
    n_params = min(n_params, expr.n_inputs)
    params = [Value(x) for x in expr.inputs[:n_params]]
    twins = [Value(x) for x in expr.inputs[:n_params]]

    def fn(*xs, ps=params):
        return expr(*ps, *xs)

    def twin_fn(*xs):
        return expr(*twins, *xs)

    step = jit(fn)
    for call in range(2):
        vals = expr.inputs[n_params:] if call == 0 else data.draw(
            st.lists(st.floats(-1.5, 1.5), min_size=expr.n_inputs - n_params,
                     max_size=expr.n_inputs - n_params))
        xs, ys = [Value(v) for v in vals], [Value(v) for v in vals]
        got, want = step(*xs), eager_step(twin_fn, *ys)
        assert got.data == want.data or (np.isnan(got.data) and np.isnan(want.data))
        for a, b in zip(params + xs, twins + ys):
            assert a.grad == b.grad or (np.isnan(a.grad) and np.isnan(b.grad))
    assert step.cache_info().hits == 1 and step.cache_info().misses == 1


@settings(deadline=None, max_examples=40)
@given(expressions(max_inputs=3, max_steps=10), st.sampled_from([(3,), (2, 3), ()]),
       st.sampled_from([np.float64, np.float32]), st.data())
def test_tensor_graphs_match_eager(expr, shape, dtype, data):
    """Tensors: the first input is a parameter, the others NumPy arrays passed in; replays
    on fresh arrays give eager's loss and parameter gradient."""
    p0 = data.draw(arrays(shape, dtype, -1.5, 1.5))
    w, w_twin = Tensor(p0.copy(), requires_grad=True), Tensor(p0.copy(), requires_grad=True)

    def make(param):
        return lambda *xs: (expr(param, *[Tensor(x) for x in xs]) * param).sum()

    step, twin = jit(make(w)), make(w_twin)
    for _ in range(3):
        xs = [data.draw(arrays(shape, dtype, -1.5, 1.5)) for _ in range(expr.n_inputs - 1)]
        got, want = step(*xs), eager_step(twin, *xs)
        np.testing.assert_allclose(got.data, want.data, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(w.grad, w_twin.grad, rtol=1e-6, atol=1e-12)
        assert w.grad.dtype == w_twin.grad.dtype == dtype
    assert step.cache_info().hits == 2


def mlp_loss(model):
    def loss(X, y):
        logits = model(Tensor(X))
        return -logits.log_softmax(axis=1)[np.arange(len(y)), y].mean()
    return loss


def test_frozen_array_found_at_the_first_replay():
    """A one-hot array made with NumPy inside fn from an input: the trace freezes it, and
    the first replay (always checked) says so instead of training on the wrong labels."""
    model = nn.MLP(4, [3], seed=0)
    step = jit(lambda X, y: -(model(Tensor(X)).log_softmax(axis=1) * np.eye(3)[y]).sum())
    X = np.ones((2, 4), dtype=np.float32)
    step(X, np.array([0, 1]))
    with pytest.raises(DivergenceError, match="an array made with NumPy inside fn"):
        step(X, np.array([2, 2]))


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("loss_fn, labels_as", [
    (nn.cross_entropy, "array"), (nn.cross_entropy, "tensor"),
    (nn.cross_entropy, "int32 array"),
    (lambda z, y: nn.nll_loss(z.log_softmax(axis=1), y), "array")])
def test_a_classifier_step_reads_new_labels_at_every_replay(loss_fn, labels_as, check):
    """Traced on batch A, replayed on batches B and C with other labels: the loss and every
    gradient are eager's on that batch (the labels are an input of the program, not a
    constant), with or without check=True."""
    rng = np.random.default_rng(0)
    models = [nn.MLP(5, [8, 4], activation="relu", seed=3) for _ in range(2)]

    def as_labels(y):
        return Tensor(y) if labels_as == "tensor" else y.astype(np.int32) if "int32" in labels_as else y

    def loss_of(model):
        return lambda X, y: loss_fn(model(Tensor(X)), y)
    step, eager = jit(loss_of(models[0]), check=check), loss_of(models[1])
    for i in range(3):
        X = rng.normal(size=(6, 5)).astype(np.float32)
        y = rng.integers(0, 4, 6) if i else np.zeros(6, dtype=np.int64)  # A: all class 0
        for m in models:
            m.zero_grad()
        got, want = step(X, as_labels(y)), eager_step(eager, X, as_labels(y))
        assert got.item() == want.item()
        for p, q in zip(models[0].parameters(), models[1].parameters()):
            np.testing.assert_array_equal(p.grad, q.grad)
    assert step.cache_info().hits == 2 and step.cache_info().misses == 1


@pytest.mark.parametrize("loss_fn, who, what", [
    (nn.cross_entropy, "cross_entropy", "logits"),
    (lambda z, y: nn.nll_loss(z.log_softmax(axis=1), y), "nll_loss", "log_probs")])
def test_a_replay_checks_its_own_labels(loss_fn, who, what):
    """A label out of range at a replay is refused by the program, naming it (not a
    NumPy IndexError, and not a negative label read from the end of the row)."""
    model = nn.MLP(4, [3], seed=0)
    step = jit(lambda X, y: loss_fn(model(Tensor(X)), y))
    X = np.ones((3, 4), dtype=np.float32)
    step(X, np.array([0, 1, 2]))
    step(X, np.array([2, 1, 0]))  # the first replay, checked
    for bad, pos in ((3, 2), (-1, 1)):
        y = np.array([0, bad, bad]) if pos == 1 else np.array([0, 1, bad])
        with pytest.raises(ValueError, match=rf"{who}: target {bad} at position {pos} "
                                             rf"is outside \[0, 3\) \({what} have 3 classes\)"):
            step(X, y)
    good = np.array([1, 1, 0])
    assert step(X, good).item() == loss_fn(model(Tensor(X)), good).item()


@pytest.mark.parametrize("loss_fn", [nn.cross_entropy, lambda z, y: nn.nll_loss(z.log_softmax(axis=1), y)])
def test_the_losses_keep_their_own_copy_of_the_labels(loss_fn):
    """Changing the caller's label array between forward and backward changes nothing
    (as torch.tensor copies): the gradient is the one of the labels the loss was given."""
    z = Tensor(np.array([[0.1, 0.2, 0.3], [0.3, -0.2, 0.1]]), requires_grad=True)
    y = np.array([0, 2])
    loss = loss_fn(z, y)
    y[:] = [1, 1]
    loss.backward()
    expect = Tensor(z.data, requires_grad=True)
    loss_fn(expect, np.array([0, 2])).backward()
    np.testing.assert_array_equal(z.grad, expect.grad)


def test_model_trained_traced_equals_eager():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    models = [nn.MLP(5, [8, 3], activation="relu", seed=1) for _ in range(2)]
    opts = [SGD(m.parameters(), lr=0.1) for m in models]
    step = jit(mlp_loss(models[0]))
    eager = mlp_loss(models[1])
    for i in range(20):
        batch = slice(16 * (i % 4), 16 * (i % 4) + 16)
        for o in opts:
            o.zero_grad()
        a = step(X[batch], y[batch])
        b = eager_step(eager, X[batch], y[batch])
        assert a.item() == b.item()
        for o in opts:
            o.step()
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert step.cache_info() == (19, 1, None, 1)


def test_scalar_model_trained_traced_equals_eager():
    random.seed(0)
    a = nn.scalar.MLP(2, [4, 1])
    random.seed(0)
    b = nn.scalar.MLP(2, [4, 1])
    X = [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]]

    def loss_of(model):
        return lambda X: sum((model([Value(v) for v in row]) - 1) ** 2 for row in X)
    step, eager = jit(loss_of(a)), loss_of(b)
    for _ in range(5):
        for m in (a, b):
            m.zero_grad()
        assert step(X).data == eager_step(eager, X).data
        for m in (a, b):
            for p in m.parameters():
                p.data -= 0.05 * p.grad
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def test_new_shapes_retrace_and_cache_counts():
    w = Tensor(np.ones(3), requires_grad=True)
    step = jit(lambda x: (Tensor(x) * w).sum())
    step(np.ones((2, 3)))
    step(np.ones((2, 3)) * 2)
    step(np.ones((5, 3)))
    step(np.ones((5, 3), dtype=np.float32))
    assert step.cache_info() == (1, 3, None, 3)
    np.testing.assert_array_equal(w.grad, [2 + 2 * 2 + 5 + 5] * 3)  # rows times x
    step.cache_clear()
    assert step.cache_info() == (0, 0, None, 0)
    step(np.ones((2, 3)))
    assert step.cache_info().misses == 1


def test_numbers_key_by_value_and_params_read_fresh():
    w = Value(2.0)
    step = jit(lambda x, c: x * w * c)
    assert step(Value(3.0), 1.0).data == 6.0
    w.data = 5.0  # an optimizer update: seen by the replay
    assert step(Value(3.0), 1.0).data == 15.0
    assert step(Value(3.0), 2.0).data == 30.0
    assert step.cache_info() == (1, 2, None, 2)


def test_nested_arguments():
    w = Tensor(np.arange(3.0), requires_grad=True)
    step = jit(lambda batch: (Tensor(batch["x"][0]) * w + Tensor(batch["x"][1])).sum()
               * batch["scale"])
    out = step({"x": (np.ones(3), np.full(3, 2.0)), "scale": 3.0})
    assert out.item() == 3 * (3 + 6)
    out = step({"x": (np.full(3, 2.0), np.zeros(3)), "scale": 3.0})
    assert out.item() == 3 * 6
    np.testing.assert_array_equal(w.grad, [9.0, 9.0, 9.0])


def test_value_source_is_readable():
    w = Value(0.5)
    step = jit(lambda x: (x * w).tanh())
    step(Value(1.0))
    src = step.source
    assert "v0 = x0 * p0" in src and "v1 = tanh(v0)" in src
    assert "g0 = g1 * (1 - (v1 * v1))" in src and "P[0].grad += gp0" in src
    assert src.count("\n") == 12  # def, 2 loads, 2 forward ops, seed, 3 derivatives, 2 grads, return


def test_check_finds_data_dependent_control_flow():
    w = Value(1.0)

    def fn(x):
        return x * w * 2 if x.data > 0 else x * w * -1
    step = jit(fn, check=True)
    step(Value(1.0))
    assert step(Value(3.0)).data == 6.0  # same branch: agrees
    with pytest.raises(DivergenceError, match="forward value differs"):
        step(Value(-1.0))
    free = jit(fn)
    free(Value(1.0))
    free(Value(2.0))  # the first replay is always checked: same branch, it agrees
    assert free(Value(-1.0)).data == -2.0  # unchecked: frozen, the branch taken at trace time


def test_check_finds_a_different_op_sequence():
    w = Tensor(np.ones(2), requires_grad=True)

    def fn(x):
        y = Tensor(x) * w
        return y.tanh().sum() if x[0] > 0 else y.exp().sum()
    step = jit(fn, check=True)
    step(np.ones(2))
    with pytest.raises(DivergenceError,
                       match="op 1 of the traced program is 'tanh' but fn now applies 'exp'"):
        step(-np.ones(2))


def test_refused_at_trace_time():
    w = Tensor(np.ones(2), requires_grad=True)

    def with_no_grad(x):
        with no_grad():
            c = Tensor(x) * 2
        return (c * w).sum()
    with pytest.raises(TraceError, match=r"jit: fn enters no_grad\(\)"):
        jit(with_no_grad)(np.ones(2))

    def with_anomaly(x):
        with detect_anomaly():
            return (Tensor(x) * w).sum()
    with pytest.raises(TraceError, match=r"fn enters detect_anomaly\(\)"):
        jit(with_anomaly)(np.ones(2))
    with detect_anomaly():
        with pytest.raises(RuntimeError, match="inside detect_anomaly"):
            jit(lambda x: (Tensor(x) * w).sum())(np.ones(2))
    with no_grad():
        with pytest.raises(RuntimeError, match="called under no_grad"):
            jit(lambda x: (Tensor(x) * w).sum())(np.ones(2))

    with pytest.raises(TraceError, match="uses checkpoint"):
        jit(lambda x: checkpoint(lambda t: (t * w).sum(), Tensor(x)))(np.ones(2))

    def hooked(x):
        y = Tensor(x) * w
        y.register_hook(lambda g: g * 2)
        return y.sum()
    with pytest.raises(TraceError, match="registers a hook on a 'mul' node"):
        jit(hooked)(np.ones(2))

    def inner_backward(x):
        y = (Tensor(x) * w).sum()
        tm.grad(y, [w])
        return y
    with pytest.raises(TraceError, match="calls backward"):
        jit(inner_backward)(np.ones(2))


def test_hook_on_a_parameter_refused_at_replay():
    w = Tensor(np.ones(2), requires_grad=True)
    step = jit(lambda x: (Tensor(x) * w).sum())
    step(np.ones(2))
    handle = w.register_hook(lambda g: g * 2)
    with pytest.raises(TraceError, match="now has a gradient hook"):
        step(np.ones(2))
    handle.remove()
    step(np.ones(2))


def test_bad_inputs():
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="jit: fn must be callable, got int"):
        jit(3)
    step = jit(lambda x: (Tensor(x) * w).sum())
    with pytest.raises(TypeError, match=r"jit: args\[0\]\[1\] is a object"):
        step([np.ones(2), object()])
    with pytest.raises(TraceError, match=r"args\[0\] is a Tensor made by 'mul' outside"):
        step(w * 2)
    with pytest.raises(ValueError, match=r"returned a Tensor of shape \(2,\)"):
        jit(lambda x: Tensor(x) * w)(np.ones(2))
    with pytest.raises(TypeError, match="must return a Value or a one-element Tensor, got float"):
        jit(lambda x: 1.0)(np.ones(2))
    with pytest.raises(TraceError, match="does not depend on anything that requires a gradient"):
        jit(lambda x: Tensor(x).sum())(np.ones(2))
    with pytest.raises(RuntimeError, match="no program yet"):
        step.source  # noqa: B018 (reading it is what raises)


def test_parameter_shape_change_retraces():
    w = Tensor(np.ones(2), requires_grad=True)
    step = jit(lambda x: (Tensor(x) * w).sum())
    step(np.ones(2))
    w.data = np.ones((3, 2))
    w.grad = None
    assert step(np.ones(2)).item() == 6.0
    assert step.cache_info().misses == 2


def test_handed_out_gradients_are_not_buffers():
    """The program reuses its buffers; a .grad it set must not change at the next call."""
    w = Tensor(np.ones(3), requires_grad=True)
    step = jit(lambda x: (Tensor(x) * w).sum())
    step(np.ones(3))
    w.grad = None
    step(np.full(3, 2.0))
    first = w.grad
    w.grad = None
    step(np.full(3, 5.0))
    np.testing.assert_array_equal(first, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(w.grad, [5.0, 5.0, 5.0])


OPS = {
    "broadcast": lambda x, w: (x * w + w.exp()).sum(),
    "matmul": lambda x, w: (x.reshape(2, 3) @ w.reshape(3, 1)).tanh().sum(),
    "mean max": lambda x, w: (x * w).max(axis=1).mean() + (x - w).mean(axis=0).sum(),
    "softmax": lambda x, w: ((x * w).softmax(axis=1) * x).sum() + (x + w).log_softmax(axis=0).sum(),
    "shapes": lambda x, w: (x.transpose(1, 0) * w.reshape(3, 1)).reshape(6)[1:4].sum(),
    "unary": lambda x, w: ((x * w).sigmoid() + (x * x + 1).sqrt() + (x - w).abs() + (x * w).relu()
                           + (w ** 2) * x ** 3 + (1 + w * w).log() / (2 + x * x)).sum(),
    "index": lambda x, w: (x * w)[np.array([0, 1, 1]), np.array([2, 0, 0])].sum(),
}


@pytest.mark.parametrize("name", OPS)
def test_every_tensor_op_replays_as_eager(name):
    """Inlined vjps, called ones (broadcast_to, scatter), views and indices, float64."""
    rng = np.random.default_rng(0)
    f = OPS[name]
    w, w_twin = (Tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True) for _ in range(2))
    w_twin.data = w.data.copy()
    step = jit(lambda x: f(Tensor(x), w))
    for _ in range(3):
        x = rng.uniform(-1, 1, (2, 3))
        got, want = step(x), eager_step(lambda x: f(Tensor(x), w_twin), x)
        np.testing.assert_allclose(got.data, want.data, rtol=1e-12)
        np.testing.assert_allclose(w.grad, w_twin.grad, rtol=1e-12)
    assert step.cache_info().hits == 2


def test_tensor_argument_that_requires_grad_gets_its_gradient():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    step = jit(lambda x: (x * w).sum())
    for k in (1.0, 2.0, 3.0):
        x = Tensor(np.full(2, k), requires_grad=True)
        assert step(x).item() == 3 * k
        np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])


def test_threads_share_a_tensor_program_safely():
    """A Tensor program's buffers are shared by all its calls: replays take turns."""
    import sys
    import threading
    w = Tensor(np.ones(64), requires_grad=True)

    def fn(x):
        y = Tensor(x)
        for _ in range(30):
            y = (y * w).tanh()
        return y.sum()
    step = jit(fn)
    step(np.zeros(64))
    step(np.zeros(64))
    want = {k: eager_step(fn, np.full(64, k / 10)).item() for k in range(1, 5)}
    errors = []

    def work(k):
        for _ in range(30):
            got = step(np.full(64, k / 10)).item()
            if got != want[k]:
                errors.append((k, got))
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in want]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors


def test_the_programs_shown_in_the_docs_are_the_generated_ones():
    """docs/jit.md prints two generated programs (with comments added): they must be what
    jit writes today."""
    import pathlib
    import re
    page = (pathlib.Path(__file__).parents[1] / "docs" / "jit.md").read_text()
    shown = [re.sub(r" *#.*", "", block).rstrip() + "\n"
             for block in re.findall(r"```\n(def program\(I, P\):\n.*?)```", page, re.S)]
    w, b = Value(0.5), Value(-1.0)
    neuron = jit(lambda x: (x * w + b).tanh())
    neuron(Value(2.0))
    W = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    tensor_step = jit(lambda x: (Tensor(x) @ W).relu().sum())
    tensor_step(np.ones((4, 3), np.float32))
    assert shown == [neuron.source, tensor_step.source]


def test_an_array_wrapped_by_tensor_inside_fn_stays_an_input_although_tensor_copies_it():
    w = Tensor(np.ones(3), requires_grad=True)
    step = jit(lambda x: (Tensor(x) * w).sum())   # Tensor(x) copies x (as torch.tensor does)
    for i in range(1, 4):
        w.grad = None
        assert step(np.full(3, float(i))).item() == 3.0 * i   # not the first call's numbers
        np.testing.assert_array_equal(w.grad, [i, i, i])
    assert step.cache_info().misses == 1


def test_each_replay_hands_out_a_result_of_its_own():
    """The program's buffers are reused by every replay: a result the caller keeps must not
    change under it when the step runs again (nor be a view of a buffer)."""
    w = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    for fn, shape in ((lambda x: ((x * w).relu() + w)[:1], (1,)), (lambda x: (x * w).sum(), ())):
        step = jit(fn)
        outs = [step(np.array([k, -k], np.float32)) for k in (1.0, 2.0, 3.0, 4.0)]
        for k, out in zip((1.0, 2.0, 3.0, 4.0), outs):
            assert out.item() == fn(Tensor(np.array([k, -k], np.float32))).item()
            assert out.shape == shape and out.data.__class__ is np.ndarray
            assert out.data.flags.writeable
        assert not any(np.shares_memory(a.data, b.data) for a, b in zip(outs, outs[1:]))


def test_a_branch_a_vjp_took_at_trace_time_is_guarded_when_a_replay_goes_the_other_way():
    """relu's vjp is the product g * (out != 0), redone as a selection where that made a
    NaN (an infinite g reaching a dead unit). The program inlines the product, which it
    traced, and calls the vjp itself when a replay's product has a NaN: the gradient is
    then eager's, 0 in the dead unit, not NaN."""
    W = Tensor(np.array([[1.0, -1.0]], np.float32), requires_grad=True)

    def f(x, s):
        return ((Tensor(x) @ W).relu() * Tensor(s)).sum()
    step = jit(f)
    x, finite = np.ones((1, 1), np.float32), np.ones((1, 2), np.float32)
    step(x, finite)
    step(x, finite)  # (the checked first replay)
    assert "multiply(" in step.source and " if " in step.source and "relu_vjp0" in step.source
    for s in (finite, np.array([[1.0, np.inf]], np.float32)):  # inf reaches the dead unit
        W.grad = None
        with np.errstate(invalid="ignore"):
            step(x, s)
        replayed = W.grad
        W.grad = None
        with np.errstate(invalid="ignore"):
            f(x, s).backward()
        np.testing.assert_array_equal(replayed, W.grad)
        np.testing.assert_array_equal(replayed, [[1.0, 0.0]])


def test_each_replay_gives_every_leaf_a_gradient_of_its_own():
    """The program hands a gradient it allocates straight to .grad (eager's `_own` would
    take it over too); one array reaching two leaves (add's vjp hands g to both) is given
    to the first and copied for the second, and no .grad is a buffer the next replay
    overwrites."""
    a = Tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    b = Tensor(np.array([0.5, -1.0, 2.0], np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    step = jit(lambda x: (((Tensor(x) * (a + b)) @ w).relu().sum()))
    held = []
    for k in (1.0, 2.0, 3.0, 4.0):
        a.grad = b.grad = w.grad = None
        x = np.array([k, -k, 2 * k], np.float32)
        step(x)
        held.append((a.grad, b.grad, w.grad, x))
    assert "P[2].grad = " in step.source  # w's gradient: a matmul the program allocates
    for ga, gb, gw, x in held:  # what each step left is still its own (no later overwrite)
        a.grad = b.grad = w.grad = None
        (((Tensor(x) * (a + b)) @ w).relu().sum()).backward()
        for got, want in ((ga, a.grad), (gb, b.grad), (gw, w.grad)):
            np.testing.assert_array_equal(got, want)
            assert got.__class__ is np.ndarray and got.flags.writeable and got.dtype == np.float32
        assert not np.shares_memory(ga, gb)
    grads = [g for row in held for g in row[:3]]
    assert not any(np.shares_memory(p, q) for i, p in enumerate(grads) for q in grads[i + 1:])


@pytest.mark.parametrize("traced", [False, True])
def test_a_0d_gradient_stays_an_array_when_it_accumulates(traced):
    """NumPy sums two 0-d arrays into a scalar; .grad stays an array, as PyTorch's stays a
    tensor, whether backward runs eagerly or replayed."""
    a = Tensor(np.float32(2.0), requires_grad=True)
    b = Tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)

    def f():
        return (a * b).sum()
    step = jit(f) if traced else (lambda: f().backward())
    for k in range(1, 4):
        step()
        assert a.grad.__class__ is np.ndarray and a.grad.shape == () and a.grad.dtype == np.float32
        assert a.grad.item() == 6.0 * k


def test_an_elementwise_line_reuses_the_buffer_of_an_operand_nothing_else_reads():
    """The bias add writes into its matmul's buffer (as ``z += b`` by hand): nothing else
    reads the product. ReLU's input is read again by its vjp's guard, so ReLU's forward
    keeps a buffer of its own. Replays still match eager."""
    import re
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(3, 4)).astype(np.float32), requires_grad=True)
    b = Tensor(rng.normal(size=4).astype(np.float32), requires_grad=True)

    def f(x):
        return ((Tensor(x) @ W + b).relu() * 2.0).sum()
    step = jit(f)
    for _ in range(3):
        x = rng.normal(size=(5, 3)).astype(np.float32)
        W.grad = b.grad = None
        got = step(x).item()
        gW, gb = W.grad, b.grad
        W.grad = b.grad = None
        want = f(x)
        want.backward()
        assert got == want.item()
        np.testing.assert_array_equal(gW, W.grad)
        np.testing.assert_array_equal(gb, b.grad)
    src = step.source
    product = re.search(r"(v\d+) = matmul\(x0, p0, (B\d+)\)", src)
    total = re.search(rf"(v\d+) = add\({product.group(1)}, p1, (B\d+)\)", src)
    relu = re.search(rf"v\d+ = maximum\({total.group(1)}, 0, out=(B\d+)\)", src)
    assert total.group(2) == product.group(2)  # the add writes where the product was
    assert relu.group(1) != total.group(2)     # the relu does not: its input is read later
