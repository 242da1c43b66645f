"""PyTorch as the oracle: every op and loss in tests/oracle_cases.py against torch.

For each case and dtype, Hypothesis draws inputs (0-d and size-0 shapes, broadcasting both
ways, and in half of the examples extreme values: +-1e30, denormals, NaN, +-inf, -0.0) and
checks that both libraries agree on

- the forward value: shape, dtype and numbers (or both refuse the input);
- the gradient for a random upstream gradient: shape, dtype and numbers;
- the second derivative (``create_graph=True``), as the gradient of <grad, v>.

How close counts as agreeing is `oracle_cases.TOLERANCE`. Skipped when torch is missing.
By default each test runs a fixed set of examples (derandomized, so CI is stable); run it
longer, with fresh random examples, by

    TINYGRAD_MEMO_ORACLE_EXAMPLES=2000 TINYGRAD_MEMO_ORACLE_SEED=random \\
        python -m pytest tests/test_torch_oracle.py

(``TINYGRAD_MEMO_ORACLE_SEED=<int>`` replays one random run).
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracle_cases import CASES, Case, tolerance
from tinygrad_memo import Tensor, Value, grad

torch = pytest.importorskip("torch")

EXAMPLES = int(os.environ.get("TINYGRAD_MEMO_ORACLE_EXAMPLES", "30"))
SEED = os.environ.get("TINYGRAD_MEMO_ORACLE_SEED", "fixed")
# In the fixed (CI) run a failure is reported as found, unshrunk: shrinking costs more than
# the run itself.
SETTINGS = settings(max_examples=EXAMPLES, derandomize=SEED == "fixed", deadline=None,
                    database=None, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.generate] if SEED == "fixed" else list(Phase))


def oracle(test: Any) -> Any:
    """The oracle's Hypothesis settings (and seed, when one is given) on ``test``."""
    test = SETTINGS(test)
    return seed(int(SEED))(test) if SEED not in ("fixed", "random") else test


FLOATS = [np.float16, np.float32, np.float64]
INTS = [np.int64, np.bool_]
REFUSALS = (ValueError, TypeError, IndexError, RuntimeError)

# Deliberate differences: bool tensors follow NumPy's arithmetic where PyTorch refuses
# (relu, abs, subtraction, pow, matmul of bools), and int or bool tensors may be raised to negative
# powers when they are empty (NumPy checks the elements, there are none), and a float16 tensor
# may be clamped at a number beyond float16's range (it rounds to +-inf; PyTorch refuses).
LENIENT = {("relu", "bool"), ("abs", "bool"), ("sub_number", "bool"), ("rsub_number", "bool"),
           ("pow", "bool"), ("matmul", "bool"), ("sub", "bool"), ("pow_const", "int64"),
           ("pow_const", "bool"), ("clamp_min_number", "float16"), ("clamp_max_number", "float16")}
# ... and the other way: an int tensor to a negative int power is refused here (NumPy's
# "Integers to negative integer powers are not allowed"), where PyTorch truncates 2 ** -1 to 0.
STRICTER = {("pow", "int64")}


# -- drawing inputs ----------------------------------------------------------------------

def specials(dtype: Any) -> list[float]:
    """The values that break numerics, as numbers of ``dtype``."""
    fi = np.finfo(dtype)
    raw = [0.0, -0.0, 1.0, -1.0, 1e30, -1e30, math.inf, -math.inf, math.nan,
           float(fi.smallest_subnormal), -float(fi.smallest_subnormal), float(fi.tiny),
           float(fi.max), -float(fi.max), 20.0, -20.0, 100.0, -100.0]
    with np.errstate(over="ignore"):  # 1e30 is inf in float16
        return [float(np.asarray(v, dtype=dtype)) for v in raw]


def elements(dtype: Any, extreme: bool, tiny: bool = True) -> st.SearchStrategy:
    """Numbers of ``dtype``: moderate ones, and with ``extreme`` the specials half the time.
    ``tiny=False`` leaves out finite magnitudes whose squares or inverse squares go below
    the smallest normal: below sqrt(smallest normal) or above its inverse (see Case.tiny)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        return st.integers(-5, 5)
    values = st.floats(-3, 3, width=dtype.itemsize * 8)
    if extreme:
        values = st.one_of(values, st.sampled_from(specials(dtype)))
    if not tiny:
        floor = math.sqrt(float(np.finfo(dtype).tiny))
        ceiling = 1 / floor
        values = values.filter(lambda v: v == 0 or math.isinf(v) or not (abs(v) < floor or abs(v) > ceiling))
    return values


def array(data: Any, shape: tuple, dtype: Any, extreme: bool, tiny: bool = True) -> np.ndarray:
    return data.draw(hnp.arrays(dtype, shape, elements=elements(dtype, extreme, tiny)))


def weights(data: Any, shape: tuple, dtype: Any) -> np.ndarray:
    """Upstream gradients (and the v of <grad, v>): moderate and never zero. A zero or
    infinite weight times an overflowed partial result is NaN in one library and 0 in the
    other depending only on the order of the vjp's multiplications, not on a defect."""
    magnitudes = st.floats(0.25, 3, width=np.dtype(dtype).itemsize * 8)
    signed = st.tuples(magnitudes, st.booleans()).map(lambda p: -p[0] if p[1] else p[0])
    return data.draw(hnp.arrays(dtype, shape, elements=signed))


SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0,
                                          max_side=4).map(lambda r: r.input_shapes)


@st.composite
def matmul_shapes(draw: Any) -> tuple[tuple, tuple]:
    n, k, m = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=2, min_side=0, max_side=3)).input_shapes
    a = (k,) if draw(st.booleans()) and not batch_a else batch_a + (n, k)
    b = (k,) if draw(st.booleans()) and not batch_b else batch_b + (k, m)
    return a, b


def draw_inputs(case: Case, data: Any, dtype: Any, extreme: bool) -> list[tuple[np.ndarray, bool]]:
    """The case's input arrays, each with whether a gradient flows to it."""
    kind, tiny = case.inputs, case.tiny
    if kind == "unary":
        return [(array(data, data.draw(SHAPES), dtype, extreme, tiny), True)]
    if kind in ("binary", "matmul"):
        shapes = data.draw(PAIRS if kind == "binary" else matmul_shapes())
        return [(array(data, s, dtype, extreme, tiny), True) for s in shapes]
    if kind == "pairs":  # prediction and target of one shape
        shape = data.draw(SHAPES)
        return [(array(data, shape, dtype, extreme), True), (array(data, shape, dtype, extreme), False)]
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    if kind == "labels":
        labels = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
        return [(array(data, (n, c), dtype, extreme), True), (labels, False)]
    if kind == "probabilities":
        width = np.dtype(dtype).itemsize * 8
        probs = data.draw(hnp.arrays(dtype, (n, c), elements=st.floats(0, 1, width=width)))
        return [(array(data, (n, c), dtype, extreme), True), (probs, False)]
    if kind == "signs":
        signs = data.draw(hnp.arrays(dtype, (n,), elements=st.sampled_from([-1.0, 1.0])))
        return [(array(data, (n,), dtype, extreme), True), (signs, False)]
    raise ValueError(f"unknown input kind {kind!r}")


# -- comparing -----------------------------------------------------------------------------

def as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().numpy(force=True)  # force: torch's symbolic zero tensors too
    if isinstance(x, (Tensor, Value)):
        return np.asarray(x.data)
    return np.asarray(x)


def torch_dtype_name(t: Any) -> str:
    return str(t.dtype).replace("torch.", "").replace("bool", "bool")


def assert_agree(what: str, ours: Any, theirs: Any, case: Case, dtype: Any,
                 check_dtype: bool = True, cancels: bool = False, largest: float = 1.0) -> None:
    """Same shape and dtype, numbers within `tolerance` (``cancels``: atol scaled by the
    largest value, at least ``largest``, as for sums; second derivatives always, their terms
    cancel at zeros)."""
    o, t = as_numpy(ours), as_numpy(theirs)
    assert o.shape == t.shape, f"{what}: shape {o.shape} here, {t.shape} in torch"
    if check_dtype:
        assert o.dtype == t.dtype, f"{what}: dtype {o.dtype} here, {t.dtype} in torch"
    if o.dtype.kind in "biu" and t.dtype.kind in "biu":
        bad = o != t
    else:
        rtol, atol = tolerance(case.name, dtype)
        o64, t64 = o.astype(np.float64), t.astype(np.float64)
        if (cancels or case.cancels) and t64.size:  # errors scale with the largest term, at least 1
            finite = np.abs(t64[np.isfinite(t64)])
            atol = max(atol, rtol * max(float(finite.max()) if finite.size else 0.0, largest))
        bad = ~np.isclose(o64, t64, rtol=rtol, atol=atol, equal_nan=True)
        bad &= ~both_overflow(o64, t64, np.finfo(o.dtype if o.dtype.kind == "f" else t.dtype))
        if case.overflow_order:  # NaN against +-inf where terms overflowed (see Case)
            bad &= ~((np.isnan(o64) & np.isinf(t64)) | (np.isinf(o64) & np.isnan(t64)))
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0]) if o.ndim else ()
        raise AssertionError(f"{what}: {o[i]!r} here, {t[i]!r} in torch at {i} "
                             f"({int(bad.sum())} of {bad.size} elements differ)")


def both_overflow(o: np.ndarray, t: np.ndarray, fi: Any) -> np.ndarray:
    """Where both are at the edge of the dtype's range with one sign: one library rounded
    to inf where the other kept the largest finite number (a sum and a scale in another
    order), e.g. a mean of two losses near float64's maximum."""
    edge = float(fi.max) / 4
    return (np.abs(o) >= edge) & (np.abs(t) >= edge) & (np.sign(o) == np.sign(t))


def call(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, Exception | None]:
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs), None
    except Exception as exc:  # compared below: both must refuse, or neither
        return None, exc


def both_refuse_or_neither(ours_err: Exception | None, theirs_err: Exception | None,
                           theirs: Any, lenient: bool = False, strict: bool = False) -> bool:
    """True if both refused (the case is done); raises if only one of them did. With
    ``lenient`` (see LENIENT) this library may compute what PyTorch refuses, with
    ``strict`` (STRICTER) refuse what PyTorch computes."""
    if theirs_err is not None:
        if lenient and ours_err is None:
            return True
        assert ours_err is not None, f"torch refuses ({theirs_err}) but this library does not"
        assert isinstance(ours_err, REFUSALS), f"refused with {ours_err!r}, not a clear error"
        return True
    if strict and ours_err is not None:
        return True
    assert ours_err is None, (f"this library raises {ours_err!r} where torch returns shape "
                              f"{tuple(theirs.shape)}")
    return False


def zeros_for_none(grads: Any, inputs: list) -> list:
    return [torch.zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


# -- the tests -----------------------------------------------------------------------------

@pytest.mark.parametrize("case, dtype", [
    pytest.param(case, dtype, id=f"{case.name}-{np.dtype(dtype).name}")
    for case in CASES for dtype in FLOATS + (INTS if case.ints else [])])
@oracle
@given(data=st.data())
def test_agrees_with_torch(case: Case, dtype: Any, data: Any) -> None:
    floating = np.dtype(dtype).kind == "f"
    extreme = floating and data.draw(st.booleans(), label="extreme values")
    inputs = draw_inputs(case, data, dtype, extreme)
    kwargs = data.draw(case.params(tuple(a.shape for a, _ in inputs))) if case.params else {}

    ours_in = [Tensor(a.copy(), requires_grad=floating) if flows else a for a, flows in inputs]
    theirs_in = [torch.from_numpy(a.copy()).requires_grad_(floating and flows) for a, flows in inputs]
    theirs, theirs_err = call(case.theirs, *theirs_in, **kwargs)
    ours, ours_err = call(case.ours, *ours_in, **kwargs)
    key = (case.name, np.dtype(dtype).name)
    if both_refuse_or_neither(ours_err, theirs_err, theirs, key in LENIENT, key in STRICTER):
        return
    assert_agree("forward", ours, theirs, case, dtype)
    if not (floating and case.grad):
        return

    wrt = [x for x, (_, flows) in zip(ours_in, inputs) if flows]
    t_wrt = [t for t, (_, flows) in zip(theirs_in, inputs) if flows]
    g = weights(data, tuple(theirs.shape), dtype)
    with np.errstate(all="ignore"):
        first = grad(ours, wrt, grad_output=g, create_graph=case.second)
    t_first = zeros_for_none(torch.autograd.grad(
        theirs, t_wrt, grad_outputs=torch.from_numpy(g.copy()), allow_unused=True,
        create_graph=case.second), t_wrt)
    for i, (a, b) in enumerate(zip(first, t_first)):  # a broadcast input's gradient is a sum
        assert_agree(f"gradient of input {i}", a, b, case, dtype, cancels=a.shape != theirs.shape)
    if not case.second or extreme:  # second derivatives: on moderate inputs (see weights)
        return

    vs = [weights(data, tuple(x.shape), dtype) for x in wrt]
    with np.errstate(all="ignore"):
        total = sum(((gi * v).sum() for gi, v in zip(first, vs)), Tensor(np.zeros((), dtype)))
        second = (grad(total, wrt) if total.requires_grad
                  else [np.zeros_like(x.data) for x in wrt])
    t_total = sum((gi * torch.from_numpy(v.copy())).sum() for gi, v in zip(t_first, vs))
    t_second = (zeros_for_none(torch.autograd.grad(t_total, t_wrt, allow_unused=True), t_wrt)
                if t_total.requires_grad else [torch.zeros_like(x) for x in t_wrt])
    largest = max([1.0] + [float(np.abs(v).max(initial=0.0, where=np.isfinite(v)))
                           for v in map(as_numpy, t_second)])
    for i, (a, b) in enumerate(zip(second, t_second)):  # (terms as large as any input's)
        assert_agree(f"second derivative of input {i}", a, b, case, dtype, cancels=True,
                     largest=largest)


VALUE_CASES = [c for c in CASES if c.value is not None]


@pytest.mark.parametrize("case", VALUE_CASES, ids=[c.name for c in VALUE_CASES])
@oracle
@given(data=st.data())
def test_values_agree_with_torch(case: Case, data: Any) -> None:
    """The scalar `Value` ops against torch float64 0-d tensors."""
    arity = 2 if case.inputs == "binary" else 1
    extreme = data.draw(st.booleans(), label="extreme values")
    xs = [data.draw(elements(np.float64, extreme, case.tiny)) for _ in range(arity)]
    kwargs = data.draw(case.params(((),) * arity)) if case.params else {}
    ours_in = [Value(x) for x in xs]
    theirs_in = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    theirs, theirs_err = call(case.theirs, *theirs_in, **kwargs)
    ours, ours_err = call(case.value, *ours_in, **kwargs)
    if both_refuse_or_neither(ours_err, theirs_err, theirs):
        return
    assert isinstance(ours, Value)
    assert_agree("forward", ours, theirs, case, np.float64)
    first = grad(ours, ours_in, create_graph=True)
    t_first = zeros_for_none(torch.autograd.grad(theirs, theirs_in, allow_unused=True,
                                                 create_graph=True), theirs_in)
    for i, (a, b) in enumerate(zip(first, t_first)):
        assert_agree(f"gradient of input {i}", a, b, case, np.float64)
    if extreme or (not case.value_second_near_zero
                   and any(abs(v) < 1.5e-8 for v in [*xs, *kwargs.values()])):
        return
    second = grad(sum(first[1:], first[0]), ours_in)
    t_total = sum(t_first[1:], t_first[0])
    t_second = (zeros_for_none(torch.autograd.grad(t_total, theirs_in, allow_unused=True),
                               theirs_in) if t_total.requires_grad
                else [torch.zeros_like(x) for x in theirs_in])
    for i, (a, b) in enumerate(zip(second, t_second)):
        assert_agree(f"second derivative of input {i}", a, b, case, np.float64, cancels=True)


# -- defects the oracle found, one deterministic example each ------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_known_defect_sigmoid_keeps_its_precision_for_negative_inputs(dtype):
    x = np.array([-20.0, -40.0, -80.0, 3.0], dtype)
    ours = Tensor(x).sigmoid().data
    theirs = torch.from_numpy(x).sigmoid().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=tolerance("sigmoid", dtype)[0])
    assert np.isfinite(Tensor(x).sigmoid().log().data[:2]).all()  # log sigmoid(-20) is -20
    assert Value(-40.0).sigmoid().data == pytest.approx(torch.tensor(-40.0).double().sigmoid().item(),
                                                        rel=1e-12)


def test_float16_broadcast_gradients_are_summed_in_float32():
    g = np.full((10000, 3), 0.25, np.float16)  # a float16 running sum stalls at 512
    b = Tensor(np.zeros(3, np.float16), requires_grad=True)
    (b + Tensor(np.zeros(g.shape, np.float16))).backward(g)
    tb = torch.zeros(3, dtype=torch.float16, requires_grad=True)
    (tb + torch.zeros(g.shape, dtype=torch.float16)).backward(torch.from_numpy(g))
    assert b.grad.dtype == np.float16
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())  # 2500, as in exact arithmetic


@pytest.mark.parametrize("name, ours, theirs", [
    ("sum(0)", lambda t: t.sum(0), lambda t: t.sum(0)),
    ("sum()", lambda t: t.sum(), lambda t: t.sum()),
    ("mean(0)", lambda t: t.mean(0), lambda t: t.mean(0)),
    ("cumsum(0)", lambda t: t.cumsum(0), lambda t: t.cumsum(0)),
    ("repeat", lambda t: t.repeat(3, 1), lambda t: t.repeat(3, 1)),
    ("var(0)", lambda t: t.var(0), lambda t: t.var(0)),
])
def test_float16_reductions_accumulate_in_float32_forward_and_backward(name, ours, theirs):
    """A float16 running sum stalls at 512 for 10,000 x 0.25; PyTorch sums in float32."""
    x = np.full((10000, 3), 0.25, np.float16)
    x[::2] = 0.5  # (var needs a spread)
    t = Tensor(x, requires_grad=True)
    tt = torch.from_numpy(x.copy()).requires_grad_()
    out, tout = ours(t), theirs(tt)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.data.astype(np.float64), tout.detach().double().numpy(), rtol=2e-3)
    g = np.full(out.shape, 0.25, np.float16)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert t.grad.dtype == np.float16
    np.testing.assert_allclose(t.grad.astype(np.float64), tt.grad.double().numpy(), rtol=2e-3, atol=1e-6)
