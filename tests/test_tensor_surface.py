"""The PyTorch surface of Tensor (issue 13): every new op against PyTorch (values, gradients,
second derivatives, shapes and dtypes) and against finite differences (first and second
order), plus comparisons, dtype rules and the argument checks."""
from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_memo as tm
from tinygrad_memo import Tensor, grad, gradcheck

torch = pytest.importorskip("torch")
F = torch.nn.functional
F64 = np.float64


def _draw(spec: tuple, rng: np.random.Generator) -> np.ndarray:
    """An input array: ``(shape, lo, hi)`` uniform, with ``away`` points kept clear of."""
    shape, lo, hi, *away = spec
    x = rng.uniform(lo, hi, shape)
    for a in away:  # off the kinks, so finite differences see one smooth piece
        x = np.where(np.abs(x - a) < 0.1, a + 0.3 * np.sign(x - a + 1e-9), x)
    return x


A = ((3, 4), -2.0, 2.0)
POS = ((3, 4), 0.5, 2.0)
ROW = ((4,), -2.0, 2.0)
IDX = np.array([[0, 2, 2], [1, 1, 0], [3, 0, 3]])
COND = np.array([[True, False, True, False]] * 3)

# name: (ours, torch's, input specs); each fn takes the inputs as Tensors / torch tensors
CASES: dict[str, tuple[Callable, Callable, list]] = {
    # casts, elementwise
    "to_double": (lambda x: x.double() * x, lambda x: x.double() * x, [A]),
    "sin": (lambda x: x.sin(), torch.sin, [A]),
    "cos": (lambda x: x.cos(), torch.cos, [A]),
    "log1p": (lambda x: x.log1p(), torch.log1p, [((3, 4), -0.5, 2.0)]),
    "expm1": (lambda x: x.expm1(), torch.expm1, [A]),
    "square": (lambda x: x.square(), torch.square, [A]),
    "reciprocal": (lambda x: x.reciprocal(), torch.reciprocal, [POS]),
    "erf": (lambda x: x.erf(), torch.erf, [A]),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), [A + (-0.5, 0.5)]),
    "clamp_min": (lambda x: x.clip(min=0.2), lambda x: x.clip(min=0.2), [A + (0.2,)]),
    "clamp_max": (lambda x: x.clamp(max=0.2), lambda x: x.clamp(max=0.2), [A + (0.2,)]),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: F.leaky_relu(x, 0.1), [A + (0.0,)]),
    "gelu": (lambda x: x.gelu(), F.gelu, [((3, 4), -4.0, 4.0)]),
    "gelu_tanh": (lambda x: x.gelu(approximate="tanh"), lambda x: F.gelu(x, approximate="tanh"),
                  [((3, 4), -4.0, 4.0)]),
    "silu": (lambda x: x.silu(), F.silu, [((3, 4), -5.0, 5.0)]),
    "softplus": (lambda x: x.softplus(), F.softplus, [((3, 4), -5.0, 5.0)]),
    "softplus_beta": (lambda x: x.softplus(beta=2.0, threshold=3.0),
                      lambda x: F.softplus(x, beta=2.0, threshold=3.0), [A + (1.5,)]),
    "maximum": (lambda x, y: x.maximum(y), torch.maximum, [A, ROW]),
    "minimum": (lambda x, y: tm.minimum(x, y), torch.minimum, [A, ROW]),
    "where": (lambda x, y: tm.where(Tensor(COND), x, y), lambda x, y: torch.where(torch.tensor(COND), x, y),
              [A, ROW]),
    # reductions
    "min": (lambda x: x.min(), lambda x: x.amin(), [A]),
    "min_axis": (lambda x: x.min(axis=1, keepdims=True), lambda x: x.amin(1, keepdim=True), [A]),
    "var": (lambda x: x.var(), lambda x: x.var(), [A]),
    "var_axis": (lambda x: x.var(0, correction=0), lambda x: x.var(0, correction=0), [A]),
    "std": (lambda x: x.std(1, keepdims=True), lambda x: x.std(1, keepdim=True), [A]),
    "std_biased": (lambda x: x.std(unbiased=False), lambda x: x.std(unbiased=False), [A]),
    "logsumexp": (lambda x: x.logsumexp(1), lambda x: torch.logsumexp(x, 1), [A]),
    "logsumexp_all": (lambda x: x.logsumexp((0, 1), keepdims=True),
                      lambda x: torch.logsumexp(x, (0, 1), keepdim=True), [A]),
    "prod": (lambda x: x.prod(1), lambda x: x.prod(1), [A + (0.0,)]),
    "prod_all": (lambda x: x.prod(), lambda x: x.prod(), [((2, 3), 0.5, 1.5)]),
    "cumsum": (lambda x: x.cumsum(1), lambda x: x.cumsum(1), [A]),
    "cumsum_0": (lambda x: x.cumsum(-2), lambda x: x.cumsum(-2), [A]),
    # shape
    "view": (lambda x: x.view(4, 3), lambda x: x.view(4, 3), [A]),
    "squeeze": (lambda x: x.squeeze(), lambda x: x.squeeze(), [((3, 1, 4), -2, 2)]),
    "squeeze_axis": (lambda x: x.squeeze(1), lambda x: x.squeeze(1), [((3, 1, 4), -2, 2)]),
    "unsqueeze": (lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), [A]),
    "flatten": (lambda x: x.flatten(1), lambda x: x.flatten(1), [((2, 3, 4), -2, 2)]),
    "expand": (lambda x: x.expand(2, 3, -1), lambda x: x.expand(2, 3, -1), [((3, 1), -2, 2)]),
    "permute": (lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [((2, 3, 4), -2, 2)]),
    "flip": (lambda x: x.flip((0, 2)), lambda x: x.flip((0, 2)), [((2, 3, 4), -2, 2)]),
    "repeat": (lambda x: x.repeat(2, 1, 2), lambda x: x.repeat(2, 1, 2), [A]),
    "split": (lambda x: tm.cat([p * (i + 1) for i, p in enumerate(x.split([1, 3], 1))], 1),
              lambda x: torch.cat([p * (i + 1) for i, p in enumerate(x.split([1, 3], 1))], 1), [A]),
    "chunk": (lambda x: tm.cat([p * (i + 1) for i, p in enumerate(x.chunk(3, 1))], 1),
              lambda x: torch.cat([p * (i + 1) for i, p in enumerate(x.chunk(3, 1))], 1), [A]),
    "gather": (lambda x: x.gather(1, Tensor(IDX)), lambda x: x.gather(1, torch.tensor(IDX)), [A]),
    "take_along_axis": (lambda x: x.take_along_axis(IDX[:, :1], 1),
                        lambda x: torch.take_along_dim(x, torch.tensor(IDX[:, :1]), 1), [A]),
    "pad": (lambda x: x.pad((1, 2, 0, 1), value=0.5), lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), [A]),
    "cat": (lambda x, y: tm.cat([x, y.reshape(1, 4), x], 0),
            lambda x, y: torch.cat([x, y.reshape(1, 4), x], 0),
            [A, ROW]),
    "stack": (lambda x, y: tm.stack([x[0], y], 1), lambda x, y: torch.stack([x[0], y], 1), [A, ROW]),
}


# ops whose gradient does not depend on the input (piecewise linear): no second derivative
LINEAR = {"clamp", "clamp_min", "clamp_max", "leaky_relu", "maximum", "minimum", "where", "min",
          "min_axis", "cumsum", "cumsum_0", "view", "squeeze", "squeeze_axis", "unsqueeze",
          "flatten", "expand", "permute", "flip", "repeat", "split", "chunk", "gather",
          "take_along_axis", "pad", "cat", "stack"}


def _inputs(name: str) -> list[np.ndarray]:
    rng = np.random.default_rng(sorted(CASES).index(name))
    return [_draw(spec, rng) for spec in CASES[name][2]]


def _ours_grads(out: Tensor, xs: list[Tensor], g: Any, create_graph: bool) -> list[Any]:
    return grad(out, xs, grad_output=g, create_graph=create_graph)


def _torch_grads(out: Any, ts: list[Any], g: Any, create_graph: bool) -> list[Any]:
    if not out.requires_grad:
        return [torch.zeros_like(t) for t in ts]
    gs = torch.autograd.grad(out, ts, g, create_graph=create_graph, allow_unused=True)
    return [torch.zeros_like(t) if x is None else x for x, t in zip(gs, ts)]


def _same(ours: Any, theirs: Any, what: str, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    o, t = np.asarray(ours), theirs.detach().numpy()
    assert o.shape == t.shape, f"{what}: shape {o.shape} != torch's {t.shape}"
    assert o.dtype == t.dtype, f"{what}: dtype {o.dtype} != torch's {t.dtype}"
    np.testing.assert_allclose(o, t, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_gradients_and_second_derivatives_match_pytorch(name, dtype):
    ours, theirs, _ = CASES[name]
    arrays = [a.astype(dtype) for a in _inputs(name)]
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=1e-6)
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = ours(*xs), theirs(*ts)
    _same(out, tout, f"{name} forward", **tol)
    rng = np.random.default_rng(1)
    g = rng.standard_normal(out.shape).astype(dtype)
    gs = _ours_grads(out, xs, g, create_graph=True)
    tgs = _torch_grads(tout, ts, torch.tensor(g), create_graph=True)
    for i, (a, b) in enumerate(zip(gs, tgs)):
        _same(a, b, f"{name} gradient of input {i}", **tol)
    # second derivatives: the gradient of <grad, v> for random v
    vs = [rng.standard_normal(x.shape).astype(dtype) for x in xs]
    s = sum((a * v).sum() for a, v in zip(gs, vs))
    ts_ = sum((b * torch.tensor(v)).sum() for b, v in zip(tgs, vs))
    second = ([np.zeros_like(x.data) for x in xs] if not s.requires_grad
              else grad(s, xs))
    tsecond = _torch_grads(ts_, ts, None, create_graph=False)
    for i, (a, b) in enumerate(zip(second, tsecond)):
        _same(a, b, f"{name} second derivative of input {i}", **tol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_and_second_order_gradcheck(name):
    ours = CASES[name][0]
    xs = [Tensor(a, requires_grad=True) for a in _inputs(name)]
    assert gradcheck(ours, xs)
    w = np.random.default_rng(2).uniform(0.5, 1.5, ours(*xs).shape)

    def first_derivatives(*xs: Tensor) -> Tensor:
        gs = grad((ours(*xs) * w).sum(), list(xs), create_graph=True)
        return tm.cat([g.reshape(-1) for g in gs])

    assert first_derivatives(*xs).requires_grad == (name not in LINEAR)
    if name not in LINEAR:
        assert gradcheck(first_derivatives, xs)


def test_prod_gradient_is_exact_at_zeros():
    a = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]])
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    x.prod(1).sum().backward()
    t.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())
    x.grad = None
    x.prod().backward()
    assert np.all(x.grad == 0)


def test_where_and_clamp_do_not_turn_an_infinite_gradient_into_nan():
    x = Tensor([-1.0, 2.0], requires_grad=True)
    x.clamp(0, 1).backward(np.array([np.inf, 1.0], np.float32))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # inf * 0 would be nan


def test_maximum_and_minimum_share_ties_like_pytorch():
    for f, tf in ((tm.maximum, torch.maximum), (tm.minimum, torch.minimum)):
        x, y = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([1.0, 1.0, 4.0], requires_grad=True)
        tx, ty = (torch.tensor(v.data, requires_grad=True) for v in (x, y))
        f(x, y).sum().backward()
        tf(tx, ty).sum().backward()
        np.testing.assert_array_equal(x.grad, tx.grad.numpy())
        np.testing.assert_array_equal(y.grad, ty.grad.numpy())
    np.testing.assert_array_equal(tm.maximum(2.0, Tensor([1.0, 3.0])).data, [2.0, 3.0])


# -- comparisons, logic and truth ---------------------------------------------------------------

COMPARISONS = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]


@pytest.mark.parametrize("op", COMPARISONS)
def test_comparisons_give_bool_tensors_like_pytorch(op):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    x = Tensor(a, requires_grad=True)
    t = torch.tensor(a)
    for other, tother in ((Tensor(b), torch.tensor(b)), (2.0, 2.0), (2, 2), (b, torch.tensor(b))):
        out = getattr(x, op)(other)
        assert out.dtype == np.bool_ and not out.requires_grad and out.is_leaf
        np.testing.assert_array_equal(out.data, getattr(t, op)(tother).numpy())
    # a number or an array on the left comes to the reflected comparison
    np.testing.assert_array_equal((2.0 < x).data, (2.0 < t).numpy())
    np.testing.assert_array_equal((b >= x).data, (torch.tensor(b) >= t).numpy())


def test_equal_tensors_compare_equal_and_still_hash_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert bool(a == b) and not bool(a != b)  # not identity: equal values are equal
    memo = {a: "a", b: "b"}  # the engine's memo is keyed by nodes
    assert memo[a] == "a" and memo[b] == "b" and len({a, b}) == 2
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    (y * (y > 1.5)).sum().backward()  # a comparison inside a graph: no gradient through it
    np.testing.assert_array_equal(x.grad, [0.0, 4.0])


def test_comparisons_with_other_types_follow_pytorch():
    t = Tensor([1.0])
    assert (t == "a") is False and (t != None) is True  # noqa: E711  (Python's fallback, as torch)
    with pytest.raises(TypeError, match="'<' not supported"):
        t < "a"  # noqa: B015 (the comparison is what raises)
    with pytest.raises(ValueError, match=r"lt: shapes \(2,\) and \(3,\) cannot be broadcast"):
        Tensor([1.0, 2.0]) < Tensor([1.0, 2.0, 3.0])  # noqa: B015 (the comparison is what raises)


def test_truth_of_a_tensor_is_pytorchs():
    assert bool(Tensor([2.0])) and not bool(Tensor([[0.0]])) and bool(Tensor(True))
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(Tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        bool(Tensor(np.zeros(0)))
    with pytest.raises(RuntimeError, match="ambiguous"):
        if Tensor([1.0, 2.0]) > 0:
            pass


def test_logical_ops_on_bool_tensors():
    p, q = Tensor([True, True, False]), Tensor([True, False, False])
    np.testing.assert_array_equal((p & q).data, [True, False, False])
    np.testing.assert_array_equal((p | q).data, [True, True, False])
    np.testing.assert_array_equal((p ^ q).data, [False, True, False])
    np.testing.assert_array_equal((~p).data, [False, False, True])
    np.testing.assert_array_equal(Tensor([0.0, 2.0]).logical_and(Tensor([1.0, 1.0])).data, [False, True])
    with pytest.raises(TypeError, match=r"&: needs bool tensors, got float32 and bool"):
        Tensor([1.0]) & Tensor([True])
    with pytest.raises(TypeError, match="~: needs a bool tensor, got int64"):
        ~Tensor([1])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_like_pytorch(name):
    a = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])  # ties: the first index, as in torch
    x, t = Tensor(a, requires_grad=True), torch.tensor(a)
    for kwargs, tkwargs in (({}, {}), ({"axis": 1}, {"dim": 1}), ({"axis": 0, "keepdims": True},
                                                                 {"dim": 0, "keepdim": True})):
        out = getattr(x, name)(**kwargs)
        assert out.dtype == np.int64 and not out.requires_grad
        np.testing.assert_array_equal(out.data, getattr(t, name)(**tkwargs).numpy())
    with pytest.raises(TypeError, match=f"{name}: axis must be an int or None"):
        getattr(x, name)((0, 1))
    with pytest.raises(ValueError, match=f"{name}: the tensor of shape \\(0,\\) is empty"):
        getattr(Tensor(np.zeros(0)), name)()


def test_all_and_any_like_pytorch():
    a = np.array([[True, False], [True, True]])
    x, t = Tensor(a), torch.tensor(a)
    for f in ("all", "any"):
        assert getattr(x, f)().data == getattr(t, f)().item()
        np.testing.assert_array_equal(getattr(x, f)(axis=1).data, getattr(t, f)(dim=1).numpy())
    assert Tensor([1.0, 2.0]).all().dtype == np.bool_


# -- dtype rules ------------------------------------------------------------------------------------

def test_dtype_rules_follow_pytorch():
    def dt(t: Any) -> str:
        return str(t.dtype).replace("torch.", "")

    cases = [
        (lambda T: T([0, 1, 2]), "int64"), (lambda T: T([True, False]), "bool"),
        (lambda T: T([1, 2.5]), "float32"), (lambda T: T([1, 2]) / T([2, 2]), "float32"),
        (lambda T: T([1, 2]) / 2, "float32"), (lambda T: 1 / T([1, 2]), "float32"),
        (lambda T: T([1, 2]) ** 0.5, "float32"), (lambda T: T([1, 2]) ** 2, "int64"),
        (lambda T: T([1, 2]) * 0.5, "float32"), (lambda T: T([1, 2]) + T([1.5]), "float32"),
        (lambda T: T([1, 2]) + T([1.5], dtype=F64 if T is Tensor else torch.float64), "float64"),
        (lambda T: T([1, 2]).exp(), "float32"), (lambda T: T([True]).sin(), "float32"),
        (lambda T: T([1, 2]).cumsum(0), "int64"), (lambda T: T([True, True]).sum(), "int64"),
        (lambda T: T([1.7, -1.7]).long(), "int64"), (lambda T: (T([1, 2]) > 1).float(), "float32"),
    ]
    for make, want in cases:
        assert np.dtype(dt(make(Tensor))) == np.dtype(want) == np.dtype(dt(make(torch.tensor)))
    np.testing.assert_allclose((Tensor([1, 2]) / Tensor([2, 4])).data, [0.5, 0.5])


def test_casts_between_floats_are_differentiable_and_keep_each_dtype():
    x = Tensor(np.array([0.1, 0.2]), requires_grad=True)
    (x.float() * Tensor([1.0, 2.0])).sum().backward()
    assert x.grad.dtype == F64 and np.all(x.grad == [1.0, 2.0])
    g, = grad((x.float() ** 2).sum(), [x], create_graph=True)
    assert g.dtype == F64  # as PyTorch: the gradient comes back in the input's dtype
    assert x.to(F64) is x and not x.long().requires_grad


def test_integers_to_negative_integer_powers_say_so():
    with pytest.raises(ValueError, match="pow: Integers to negative integer powers are not allowed"):
        Tensor([2, 3]) ** Tensor([-1, 1])


def test_an_integer_tensor_indexes():
    x = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    x[Tensor([0, 2, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1], [0, 0], [2, 2]])
    x.grad = None
    x[x.argmax(0), Tensor([0, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [0, 0], [1, 1]])


# -- creation ------------------------------------------------------------------------------------------

def test_creation_functions_match_pytorch():
    pairs = [
        (tm.zeros(2, 3), torch.zeros(2, 3)), (tm.ones((2,)), torch.ones((2,))),
        (tm.zeros(2, dtype=np.float64), torch.zeros(2, dtype=torch.float64)),
        (tm.full((2, 2), 7), torch.full((2, 2), 7)), (tm.full((2,), 1.5), torch.full((2,), 1.5)),
        (tm.full((1,), True), torch.full((1,), True)),
        (tm.arange(5), torch.arange(5)), (tm.arange(1, 2, 0.25), torch.arange(1, 2, 0.25)),
        (tm.arange(5, dtype=np.float32), torch.arange(5, dtype=torch.float32)),
        (tm.linspace(-1, 1, 5), torch.linspace(-1, 1, 5)), (tm.eye(3), torch.eye(3)),
        (tm.eye(2, 3), torch.eye(2, 3)),
        (tm.zeros_like(Tensor([1, 2])), torch.zeros_like(torch.tensor([1, 2]))),
        (tm.ones_like(Tensor([1.0, 2.0]), dtype=np.float64),
         torch.ones_like(torch.tensor([1.0, 2.0]), dtype=torch.float64)),
        (tm.full_like(Tensor([[1.0]]), 3), torch.full_like(torch.tensor([[1.0]]), 3)),
    ]
    for ours, theirs in pairs:
        _same(ours, theirs, "creation")
    w = tm.randn(3, 4, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.dtype == np.float32 and w.shape == (3, 4)


def test_random_tensors_are_reproducible_by_seed_or_generator():
    tm.manual_seed(0)
    a = (tm.rand(3), tm.randn(2, 2), tm.randint(0, 10, (5,)))
    tm.manual_seed(0)
    b = (tm.rand(3), tm.randn(2, 2), tm.randint(0, 10, (5,)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data, y.data)
    r = tm.randint(3, (1000,), generator=np.random.default_rng(5))
    assert r.dtype == np.int64 and set(np.unique(r.data)) == {0, 1, 2}
    u = tm.rand(1000, generator=np.random.default_rng(5), dtype=np.float64)
    assert u.dtype == F64 and 0 <= u.data.min() and u.data.max() < 1
    n = tm.randn(20000, generator=np.random.default_rng(5))
    assert abs(n.data.mean()) < 0.05 and abs(n.data.std() - 1) < 0.05


def test_manual_seed_is_per_thread():
    tm.manual_seed(1)
    expected = tm.rand(4).data
    tm.manual_seed(1)
    thread = threading.Thread(target=lambda: (tm.manual_seed(99), tm.rand(100)))
    thread.start()
    thread.join()
    np.testing.assert_array_equal(tm.rand(4).data, expected)  # the other thread did not disturb it


def test_creation_arguments_are_checked():
    with pytest.raises(ValueError, match=r"zeros: size must be non-negative ints, got \(2, -1\)"):
        tm.zeros(2, -1)
    with pytest.raises(TypeError, match="ones: 'nope' is not a dtype"):
        tm.ones(2, dtype="nope")
    with pytest.raises(TypeError, match="rand: generator must be a numpy.random.Generator, got int"):
        tm.rand(2, generator=3)
    with pytest.raises(TypeError, match="randn: dtype must be float32 or float64, got int64"):
        tm.randn(2, dtype=np.int64)
    with pytest.raises(ValueError, match=r"randint: high \(0\) must be greater than low \(0\)"):
        tm.randint(0, 0, (2,))
    with pytest.raises(TypeError, match="randint: size is required"):
        tm.randint(5)
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        tm.arange(0, 1, 0)
    with pytest.raises(TypeError, match="zeros: only a float tensor can require grad, this one is int64"):
        tm.zeros(2, dtype=np.int64, requires_grad=True)
    with pytest.raises(ValueError, match="manual_seed: seed must be a non-negative int"):
        tm.manual_seed(-1)
    with pytest.raises(TypeError, match="full: fill_value must be a number, got str"):
        tm.full((2,), "x")
    with pytest.raises(ValueError, match="linspace: steps must be a non-negative int"):
        tm.linspace(0, 1, -2)


# -- argument checks of the new ops ------------------------------------------------------------------

X = Tensor(np.ones((2, 3)))
BAD: list[tuple[Callable, type, str]] = [
    (lambda: X.to("nope"), TypeError, "to: 'nope' is not a dtype"),
    (lambda: X.to(np.complex64), TypeError, "to: dtype complex64 is not supported"),
    (lambda: X.gelu("fast"), ValueError, "gelu: approximate must be 'none' or 'tanh', got 'fast'"),
    (lambda: X.clamp(), ValueError, "clamp: give at least one of min and max"),
    (lambda: X.clamp("0"), TypeError, "clamp: min must be a number, got str"),
    (lambda: X.leaky_relu(None), TypeError, "leaky_relu: negative_slope must be a number"),
    (lambda: X.softplus(beta=0), ValueError, "softplus: beta must be nonzero"),
    (lambda: X.maximum("a"), TypeError, "maximum: expected a Tensor, array or number, got str"),
    (lambda: X.maximum(Tensor(np.ones(4))), ValueError, r"maximum: shapes \(2, 3\) and \(4,\)"),
    (lambda: X.min(axis=2), ValueError, "min: axis 2 is out of range for a tensor with 2 dimensions"),
    (lambda: X.var(correction=1, unbiased=True), ValueError, "var: give correction or unbiased"),
    (lambda: Tensor([1, 2]).std(), TypeError, "std: needs a float tensor, got int64"),
    (lambda: X.logsumexp(3), ValueError, "logsumexp: axis 3 is out of range"),
    (lambda: X.prod((0, 1)), TypeError, r"prod: axis must be an int or None, got \(0, 1\)"),
    (lambda: X.cumsum(None), TypeError, "cumsum: axis must be an int, got None"),
    (lambda: X.view(4, 2), ValueError, r"reshape: cannot reshape a tensor of shape \(2, 3\) into \(4, 2\)"),
    (lambda: X.squeeze(5), ValueError, "squeeze: axis 5 is out of range"),
    (lambda: X.unsqueeze(3), ValueError, r"unsqueeze: axis 3 is out of range .*allowed: -3 to 2"),
    (lambda: X.flatten(1, 0), ValueError, "flatten: start_dim 1 comes after end_dim 0"),
    (lambda: X.expand(4, 3), ValueError, r"expand: shape \(2, 3\) cannot be expanded to \(4, 3\) "
                                         r"\(size 4 at position 0\)"),
    (lambda: X.expand(3), ValueError, r"expand: 1 sizes \(3,\) for a tensor with 2 dimensions"),
    (lambda: X.permute(0, 0), ValueError, r"permute: axes \(0, 0\) are not a permutation"),
    (lambda: X.flip(2), ValueError, "flip: axis 2 is out of range"),
    (lambda: X.repeat(2), ValueError, r"repeat: needs at least 2 non-negative counts .* got \(2,\)"),
    (lambda: X.repeat(1.5, 2), TypeError, r"repeat: sizes must be ints"),
    (lambda: X.split([1, 1], 1), ValueError,
     r"split: sections \[1, 1\] do not add up to the size 3 of axis 1"),
    (lambda: X.split(0), ValueError, "split: split_size must be positive, got 0"),
    (lambda: X.chunk(0), ValueError, "chunk: chunks must be a positive int, got 0"),
    (lambda: X.gather(1, [[0.5]]), TypeError, "gather: the index must hold integers, got float64"),
    (lambda: X.gather(1, [0, 1]), ValueError, r"gather: the index has 1 dimensions \(shape \(2,\)\) but "
                                              r"the tensor has 2"),
    (lambda: X.gather(1, [[3]]), IndexError, "gather: index 3 is out of range for axis 1 of size 3"),
    (lambda: X.gather(1, [[-1]]), IndexError, "gather: index -1 is out of range for axis 1 of size 3"),
    (lambda: X.gather(1, np.zeros((3, 1), int)), ValueError,
     r"gather: index shape \(3, 1\) is larger than the tensor's shape \(2, 3\) at axis 0"),
    (lambda: X.take_along_axis(np.zeros((3, 1), int), 1), ValueError,
     r"take_along_axis: indices of shape \(3, 1\) do not broadcast against the tensor's shape \(2, 3\)"),
    (lambda: X.pad((1,)), ValueError, r"pad: needs \(before, after\) pairs .* got \(1,\)"),
    (lambda: X.pad((1, 1, 1, 1, 1, 1)), ValueError, "pad: needs .* for at most 2 axes"),
    (lambda: tm.cat([X, Tensor(np.ones((3, 3)))], 1), ValueError,
     r"cat: tensor 1 has shape \(3, 3\) but tensor 0 has shape \(2, 3\); "
     r"they must match except along axis 1"),
    (lambda: tm.cat(X), TypeError, "cat: expected a non-empty list or tuple of tensors, got Tensor"),
    (lambda: tm.cat([]), TypeError, "cat: expected a non-empty list"),
    (lambda: tm.cat([Tensor(1.0)]), ValueError, "cat: zero-dimensional tensors cannot be concatenated"),
    (lambda: tm.stack([X, X.T]), ValueError,
     r"stack: tensor 1 has shape \(3, 2\) but tensor 0 has shape \(2, 3\)"),
    (lambda: tm.stack([X], 4), ValueError, r"stack: axis 4 is out of range .*allowed: -3 to 2"),
    (lambda: tm.where(X, X, X), TypeError, "where: condition must be a bool tensor, got float64"),
    (lambda: tm.where(np.ones(4, bool), X, 0.0), ValueError,
     r"where: shapes \(4,\) \(condition\), \(2, 3\) and \(\) cannot be broadcast together"),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_bad_arguments_are_named(i):
    call, exc, message = BAD[i]
    with pytest.raises(exc, match=message):
        call()


def test_squeeze_of_a_non_unit_axis_keeps_it_like_pytorch():
    assert Tensor(np.ones((2, 1))).squeeze(0).shape == (2, 1)
    assert Tensor(np.ones((1, 1))).squeeze((0, 1)).shape == ()


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_new_op_replays_under_jit_as_eager(name):
    ours = CASES[name][0]
    arrays = _inputs(name)
    w = np.random.default_rng(3).uniform(0.5, 1.5, ours(*[Tensor(a) for a in arrays]).shape)
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    eager = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    step = tm.jit(lambda *ts: (ours(*ts) * w).sum())
    for _ in range(2):  # the trace, then a replay of the generated program
        for x in xs:
            x.grad = None
        result = step(*xs)
    (ours(*eager) * w).sum().backward()
    np.testing.assert_allclose(result.data, (ours(*eager) * w).sum().data, rtol=1e-12)
    for x, e in zip(xs, eager):
        np.testing.assert_allclose(x.grad, e.grad, rtol=1e-12, atol=1e-14)
    assert step.cache_info().hits == 1
