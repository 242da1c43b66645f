"""Defects that gave silent wrong answers (or crashed while refusing), each pinned by a
test that failed before its fix. PyTorch decides what is right wherever it has an answer."""
import math

import numpy as np
import pytest

from tinygrad_memo import Tensor, Value, grad, gradcheck, nn, optim
from tinygrad_memo.gradcheck import numerical_grad
from tinygrad_memo.memo import TooManyPathsError, path_grad


def t64(a, **kw):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=True, **kw)


# -- losses: PyTorch's rules for what a label is ------------------------------------------

def test_bool_labels_are_refused_not_read_as_a_mask():
    with pytest.raises(TypeError, match=r"targets have dtype bool; class indices must have an "
                                        r"integer dtype"):
        nn.cross_entropy(Tensor(np.zeros((2, 3))), np.array([True, False]))


def test_integer_logits_are_refused_instead_of_a_zero_loss():
    with pytest.raises(TypeError, match=r"cross_entropy: logits must have a float dtype, got int64"):
        nn.cross_entropy(Tensor(np.array([[5, 0], [0, 5]])), [0, 1])
    with pytest.raises(TypeError, match=r"mse_loss: pred must have a float dtype, got int64"):
        nn.mse_loss(Tensor(np.array([1, 2])), [1, 2])
    with pytest.raises(TypeError, match=r"hinge_loss: scores must have a float dtype, got bool"):
        nn.hinge_loss(Tensor(np.array([True, False])), [1, -1])


def test_float_targets_of_the_logits_shape_are_class_probabilities():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    z, p = rng.normal(size=(4, 3)), rng.dirichlet(np.ones(3), size=4)
    x = t64(z)
    loss = nn.cross_entropy(x, p)
    loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(zt, torch.tensor(p))
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(x.grad, zt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("targets", [None, "ab", [[0], [1, 2]], {"a": 1}, [object()]])
def test_targets_that_are_not_numbers_are_type_errors(targets):
    with pytest.raises(TypeError, match=r"cross_entropy: targets must be"):
        nn.cross_entropy(Tensor(np.zeros((2, 3))), targets)


# -- optimizers: torch.optim's argument checks ---------------------------------------------

def test_a_bare_tensor_as_params_is_refused_not_iterated_into_rows():
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(TypeError, match=r"SGD: params must be an iterable of Tensors or Values, "
                                        r"got a single Tensor; pass \[param\]"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match=r"Adam: params must be an iterable .* got a single Value"):
        optim.Adam(Value(1.0))
    with pytest.raises(TypeError, match=r"got int"):
        optim.SGD(3, lr=0.1)


def test_non_leaf_parameters_are_refused():
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=r"parameter 0 is not a leaf \(it was computed by mul\)"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match=r"parameter 1 is not a leaf \(it was computed by add\)"):
        optim.SGD([Value(1.0), Value(1.0) + 1], lr=0.1)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(lr=math.inf), ValueError, r"lr must be finite, got inf"),
    (dict(lr=math.nan), ValueError, r"lr must be finite, got nan"),
    (dict(lr="0.1"), TypeError, r"lr must be a number, got '0.1'"),
    (dict(lr=None), TypeError, r"lr must be a number, got None"),
    (dict(lr=True), TypeError, r"lr must be a number, got True"),
    (dict(lr=-0.1), ValueError, r"lr must be >= 0.0, got -0.1"),
    (dict(lr=0.1, momentum=-0.9), ValueError, r"momentum must be >= 0.0, got -0.9"),
    (dict(lr=0.1, weight_decay=-1), ValueError, r"weight_decay must be >= 0.0, got -1"),
    (dict(lr=0.1, momentum="0.9"), TypeError, r"momentum must be a number"),
])
def test_sgd_hyperparameters_are_checked(kwargs, error, message):
    with pytest.raises(error, match=rf"SGD: {message}"):
        optim.SGD([Tensor(np.ones(2), requires_grad=True)], **kwargs)


def test_adam_hyperparameters_are_checked():
    p = [Tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(ValueError, match=r"Adam: betas\[1\] must be in \[0.0, 1.0\), got 1.0"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(TypeError, match=r"Adam: betas must be a pair of numbers"):
        optim.Adam(p, betas=0.9)
    with pytest.raises(ValueError, match=r"Adam: eps must be finite"):
        optim.Adam(p, eps=math.inf)


def test_a_grad_of_the_wrong_shape_is_refused_not_broadcast_into_the_parameter():
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = np.ones(3)  # would broadcast over the rows
    with pytest.raises(ValueError, match=r"SGD: parameter 0 has shape \(2, 3\) but its .grad "
                                         r"has shape \(3,\); they must match"):
        opt.step()
    np.testing.assert_array_equal(w.data, np.ones((2, 3)))
    w.grad = np.array([["a"] * 3] * 2)
    with pytest.raises(TypeError, match=r"parameter 0 has a .grad of dtype <U1, expected numbers"):
        opt.step()
    v = Value(1.0)
    v.grad = "1"
    with pytest.raises(TypeError, match=r"Adam: parameter 0 .* has a .grad of type str"):
        optim.Adam([v]).step()


# -- gradcheck and numerical_grad --------------------------------------------------------

def test_gradcheck_accepts_transposed_read_only_and_broadcast_inputs():
    a = np.random.default_rng(0).normal(size=(3, 4))
    transposed = Tensor.from_numpy(a.T, requires_grad=True)  # (Tensor(a.T) would copy)
    assert not transposed.data.flags.c_contiguous
    assert gradcheck(lambda x: (x * x).sum(), [transposed])
    frozen = a.copy()
    frozen.flags.writeable = False
    assert gradcheck(lambda x: (x * x).sum(), [Tensor.from_numpy(frozen, requires_grad=True)])
    stretched = Tensor.from_numpy(np.broadcast_to(a[0], (3, 4)), requires_grad=True)
    assert gradcheck(lambda x: (x * x * x).sum(), [stretched])
    assert stretched.data.strides[0] == 0  # the caller's array is given back


def test_numerical_grad_weights_a_value_output_by_grad_output():
    x = Value(2.0)
    (g,) = numerical_grad(lambda v: v * v, [x], grad_output=3.0)
    assert g == pytest.approx(12.0, rel=1e-6)
    (g,) = numerical_grad(lambda v: v * v, [x])
    assert g == pytest.approx(4.0, rel=1e-6)


def test_numerical_grad_refuses_a_grad_output_of_the_wrong_shape():
    x = t64(np.ones(3))
    with pytest.raises(ValueError, match=r"grad_output has shape \(2,\) but fn returns shape \(3,\)"):
        numerical_grad(lambda t: t * 2, [x], grad_output=np.ones(2))


# -- refusals that must not crash ------------------------------------------------------------

def test_path_grad_on_a_very_deep_diamond_refuses_with_a_readable_count():
    x = Value(1.0)
    y = x
    for _ in range(20000):  # 2**20000 paths: a 6,021-digit number
        y = y * 0.5 + y * 0.5
    with pytest.raises(TooManyPathsError, match=r"path_grad: ~3\.98e\+6020 paths lead from the "
                                                r"output to wrt, more than max_paths=100,000"):
        path_grad(y, [x])


# -- core defects (tinygrad_memo/core) --------------------------------------------------------


@pytest.mark.parametrize("data", [None, [1.0, None], [[1.0, None]]])
def test_none_in_tensor_data_is_a_type_error_not_nan(data):
    with pytest.raises(TypeError, match=r"Tensor: .*None"):
        Tensor(data)


def test_truth_value_of_a_tensor_follows_pytorch():
    assert not bool(Tensor([0.0]))
    assert bool(Tensor(np.array(2.0)))
    with pytest.raises(RuntimeError, match=r"Boolean value of Tensor with more than one "
                                           r"value is ambiguous"):
        bool(Tensor([0.0, 1.0]))


def test_tensor_of_an_array_is_a_copy_and_from_numpy_shares():
    a = np.ones(3)
    w1, w2 = Tensor(a, requires_grad=True), Tensor(a, requires_grad=True)
    a[0] = 5.0
    assert w1.data[0] == 1.0 and w1.data is not w2.data  # two parameters, not one
    shared = Tensor.from_numpy(a)
    a[1] = 7.0
    assert shared.data[1] == 7.0 and shared.dtype == np.float64


def test_relu_passes_nan_and_blocks_an_infinite_gradient_in_dead_units():
    assert math.isnan(Value(math.nan).relu().data)
    x = Tensor(np.array([-1.0, 2.0, np.nan]), requires_grad=True)
    x.relu().backward(np.array([np.inf, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])  # PyTorch's threshold_backward
    x.grad = None  # a NaN gradient in a dead unit is dropped too, a live unit's kept
    x.relu().backward(np.array([np.nan, -np.inf, np.nan]))
    np.testing.assert_array_equal(x.grad, [0.0, -np.inf, np.nan])
    assert not np.signbit(x.grad[0])


def test_pow_derivatives_at_base_zero_are_zero_where_the_math_says_so():
    x, y = Tensor(np.array([0.0]), requires_grad=True), Tensor(np.array([2.0]), requires_grad=True)
    (x ** y).backward(np.ones(1))
    assert x.grad[0] == 0.0 and y.grad[0] == 0.0  # d/dy 0**y = 0**y * log 0 -> 0 (PyTorch)
    e = Tensor(np.array([2.0]), requires_grad=True)
    (0.0 ** e).backward(np.ones(1))
    assert e.grad[0] == 0.0
    u, v = Value(0.0), Value(3.0)
    (u ** v).backward()
    assert (u.grad, v.grad) == (0.0, 0.0)
    assert (Value(-0.0) ** -1).data == -math.inf  # IEEE pow: an odd power keeps the sign


def test_float16_python_numbers_are_not_rounded_to_float16_first():
    x = Tensor(np.array([0.5, 0.0], np.float16))
    np.testing.assert_array_equal((x * 70000.0).data, np.array([35000.0, 0.0], np.float16))
    np.testing.assert_array_equal((70000 * x).data, np.array([35000.0, 0.0], np.float16))
    np.testing.assert_array_equal((x * 1e30).data, [np.inf, 0.0])  # 0 * 1e30, not 0 * inf
    np.testing.assert_array_equal((Tensor(np.array([0.0], np.float16)) / 1e-8).data, [0.0])
    np.testing.assert_array_equal((x * np.float32(70000.0)).data, (x * 70000.0).data)
    assert (x * 70000.0).dtype == np.float16 and (x / 3).dtype == np.float16


@pytest.mark.parametrize("op", ["x * c", "c * x", "x / c", "c / x", "x + c", "c + x", "x - c",
                                "c - x", "x < c", "x == c", "x >= c"])
@pytest.mark.parametrize("c", [70000.0, 1e30, 1e-8, 0.1, -0.0, math.inf, math.nan, 3])
def test_float16_with_a_python_number_matches_torch_bit_for_bit(op, c):
    """Values and gradients: PyTorch rounds the number to float16 for + - and comparisons,
    keeps it in float32 for * and /, and computes c / x as (1 / x) * c."""
    torch = pytest.importorskip("torch")
    data = np.array([0.5, 0.0, -0.0, 1.0, -3.0, 1000.0, 65504.0, np.inf, np.nan, 1e-7, 0.1],
                    np.float16)
    g = np.linspace(-2, 3, data.size).astype(np.float16)
    x, t = Tensor(data, requires_grad=True), torch.from_numpy(data.copy()).requires_grad_()
    ours, theirs = eval(op, {"x": x, "c": c}), eval(op, {"x": t, "c": c})
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    assert ours.dtype == theirs.detach().numpy().dtype
    if theirs.requires_grad:
        ours.backward(g)
        theirs.backward(torch.from_numpy(g.copy()))
        np.testing.assert_array_equal(x.grad, t.grad.numpy())
        assert x.grad.dtype == np.float16


def test_numpy_scalars_are_numbers_as_in_pytorch():
    x = Tensor(np.ones(2, np.float32))
    assert (x * np.float64(2.0)).dtype == np.float32  # not NumPy's float64
    assert (Tensor(np.array([1, 2])) * np.float64(0.5)).dtype == np.float32
    assert (Tensor(np.array([1, 2])) * np.int32(3)).dtype == np.int64


def test_max_and_softmax_over_a_size_0_tensor_return_an_empty_result():
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    assert x.max(axis=1).shape == (0,)
    assert x.softmax(axis=0).shape == (0, 3) and x.log_softmax(axis=1).shape == (0, 3)
    with pytest.raises(ValueError, match=r"max: .*size 0"):
        x.max(axis=0)  # nothing to take the max of (PyTorch refuses too)


def test_ops_that_make_floats_of_int_and_bool_tensors_give_float32():
    assert Tensor(np.array([1, 2])).exp().dtype == np.float32
    assert Tensor(np.array([True])).exp().dtype == np.float32  # not NumPy's float16
    assert (Tensor(np.array([1, 2])) * 0.5).dtype == np.float32
    assert (Tensor(np.array([1, 2])) / Tensor(np.array([2, 2]))).dtype == np.float32


def test_an_int_to_a_negative_int_power_says_so():
    with pytest.raises(ValueError, match=r"Integers to negative integer powers are not allowed"):
        Tensor(np.array([2])) ** Tensor(np.array([-1]))


def test_abs_gradient_at_nan_is_zero_as_in_pytorch():
    x = Tensor(np.array([np.nan, -2.0]), requires_grad=True)
    x.abs().backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [0.0, -1.0])


def test_a_vjp_that_returns_the_wrong_shape_is_an_error_not_a_wrong_grad():
    from tinygrad_memo.core import engine
    broken = engine.Op("broken", array=lambda x: x * 2, vjps=(lambda g, out, ctx, x: g.sum(),))
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward: the vjp of broken for its input 0 returned a "
                                           r"gradient of shape \(\) for an input of shape \(3,\), "
                                           r"which broadcasting cannot explain"):
        engine.apply(broken, (x,)).backward(np.ones(3))
    assert x.grad is None
    with pytest.raises(RuntimeError, match=r"a vjp returned the wrong shape"):
        engine.grad(engine.apply(broken, (x,)), [x], grad_output=np.ones(3))


def test_from_numpy_shares_the_array():
    a = np.ones(3)
    shared = Tensor.from_numpy(a)
    a[1] = 7.0
    assert shared.data[1] == 7.0 and shared.dtype == np.float64
    with pytest.raises(TypeError, match=r"from_numpy: expected a NumPy array, got list"):
        Tensor.from_numpy([1.0])
    with pytest.raises(TypeError, match=r"from_numpy: dtype int64 is not supported with requires_grad"):
        Tensor.from_numpy(np.array([1]), requires_grad=True)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_pass_the_gradient_to_a_nan_operand_as_pytorch(name):
    torch = pytest.importorskip("torch")
    a, b = np.array([1.0, np.nan, 2.0, np.nan, 3.0]), np.array([np.nan, 1.0, 2.0, np.nan, 0.0])
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    s, t = (torch.from_numpy(v.copy()).requires_grad_() for v in (a, b))
    getattr(x, name)(y).backward(np.ones(5))
    getattr(torch, name)(s, t).backward(torch.ones(5, dtype=torch.float64))
    np.testing.assert_array_equal(x.grad, s.grad.numpy())  # nothing beats NaN: all of g
    np.testing.assert_array_equal(y.grad, t.grad.numpy())


# -- pow where the base is 0 or +-inf and the exponent <= 0, first and second order ----------
INF, NAN = math.inf, math.nan
POW_POINTS = [(0.0, 0.0), (-0.0, 0.0), (0.0, -1.0), (-0.0, -1.0), (0.0, -2.5), (0.0, 2.0),
              (0.0, 0.5), (INF, 0.0), (INF, -1.0), (-INF, 0.0), (-INF, -2.0), (-INF, -1.0),
              (NAN, 0.0), (2.0, 0.0), (-2.0, 0.0), (1.0, -INF)]


def first_and_second(fn, inputs, make, to_numpy):
    """fn's first derivatives and the derivatives of their sum, via create_graph."""
    xs = [make(v) for v in inputs]
    firsts = grad(fn(*xs), xs, create_graph=True)
    total = sum(firsts[1:], firsts[0])
    seconds = grad(total, xs) if getattr(total, "requires_grad", True) else [0.0] * len(xs)
    return [to_numpy(g) for g in firsts], [to_numpy(g) for g in seconds]


def torch_first_and_second(torch, fn, inputs, dtype):
    ts = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in inputs]
    firsts = torch.autograd.grad(fn(*ts), ts, create_graph=True, allow_unused=True)
    firsts = [torch.zeros_like(t) if g is None else g for g, t in zip(firsts, ts)]
    total = sum(firsts[1:], firsts[0])
    seconds = (torch.autograd.grad(total, ts, allow_unused=True) if total.requires_grad
               else [None] * len(ts))
    seconds = [torch.zeros_like(t) if g is None else g for g, t in zip(seconds, ts)]
    return [g.detach().numpy() for g in firsts], [g.detach().numpy() for g in seconds]


BASES = [(v,) for v in (0.0, -0.0, INF, -INF, 4.0)]
EXPONENTS = [(v,) for v in (0.0, -0.0, -1.0, 2.0, INF, -INF)]
POW_FUNCTIONS = {"x ** y": (lambda x, y: x ** y, POW_POINTS)}
POW_FUNCTIONS.update({f"x ** {c}": ((lambda x, c=c: x ** c), BASES)
                      for c in (0, -1, -2, -0.5, 0.5, -1.5, 1.5)})
POW_FUNCTIONS.update({f"{b} ** x": ((lambda x, b=b: b ** x), EXPONENTS) for b in (0.0, 1.0, 2.0)})


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", list(POW_FUNCTIONS))
def test_pow_derivatives_at_base_zero_and_infinity_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    fn, points = POW_FUNCTIONS[name]
    tdtype = getattr(torch, np.dtype(dtype).name)
    for point in points:
        with np.errstate(all="ignore"):
            ours = first_and_second(fn, point, lambda v: Tensor(np.array(v, dtype), requires_grad=True),
                                    lambda g: np.asarray(getattr(g, "data", g), dtype))
        theirs = torch_first_and_second(torch, fn, point, tdtype)
        for what, a, b in zip(("first", "second"), ours, theirs):
            np.testing.assert_allclose(np.array(a, np.float64), np.array(b, np.float64), rtol=1e-2,
                                       equal_nan=True, err_msg=f"{name} at {point}: {what} derivatives")


@pytest.mark.parametrize("name", [n for n in POW_FUNCTIONS if "-0.5" not in n])
def test_value_pow_derivatives_at_base_zero_and_infinity_match_torch(name):
    """Values too; except that where PyTorch masks its formula (exponent 0, or base 0 with
    exponent >= 0) the masked term adds 0 to a Value's second derivatives (as a constant
    does) and NaN to PyTorch's (0 * inf inside its where): a deliberate difference, see
    docs/guarantees.md (x ** 2 at 0: 2 here, NaN in PyTorch)."""
    torch = pytest.importorskip("torch")
    fn, points = POW_FUNCTIONS[name]
    for point in points:
        (f1, f2) = first_and_second(fn, point, Value, lambda g: float(getattr(g, "data", g)))
        (t1, t2) = torch_first_and_second(torch, fn, point, torch.float64)
        np.testing.assert_allclose(f1, np.array(t1, np.float64), rtol=1e-12, equal_nan=True,
                                   err_msg=f"{name} at {point}: first derivatives")
        masked = np.isnan(np.array(t2, np.float64)) & ~np.isnan(f2)
        np.testing.assert_allclose(np.where(masked, np.nan, f2), np.array(t2, np.float64), rtol=1e-12,
                                   equal_nan=True, err_msg=f"{name} at {point}: second derivatives")


def test_x_to_the_minus_half_is_one_over_sqrt_as_in_pytorch():
    """-inf at -0.0 and NaN at -inf (float32/64), matching x ** 0.5 = sqrt(x); float16 uses
    IEEE pow for both, in NumPy and PyTorch alike."""
    x = np.array([-0.0, -np.inf, 4.0])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal((Tensor(x) ** -0.5).data, [-np.inf, np.nan, 0.5])
        np.testing.assert_array_equal((Tensor(x.astype(np.float16)) ** -0.5).data, [np.inf, 0.0, 0.5])
    assert (Value(-0.0) ** -0.5).data == -math.inf and math.isnan((Value(-math.inf) ** 0.5).data)
    assert math.copysign(1, (Value(-0.0) ** 0.5).data) == -1  # sqrt(-0.0) is -0.0


def test_c_over_x_is_ieee_division_where_pytorchs_reciprocal_overflows():
    """A deliberate difference (docs/guarantees.md): 1e-10 / 1e-310 is 1e300, not inf."""
    x = Tensor(np.array([1e-310]), requires_grad=True)
    y = 1e-10 / x
    y.backward(np.ones(1))
    assert y.data[0] == pytest.approx(1e300) and x.grad[0] == -math.inf  # -1e300 / 1e-310


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_float16_tanh_and_sigmoid_match_pytorch_bit_for_bit(name, create_graph):
    """Bit for bit: PyTorch computes tanh's vjp in float32 and rounds once (1 - out**2 in
    float16 steps keeps a digit or two near |out| = 1: tanh(2.5)'s was 0.02637 here, 0.0262
    in torch); sigmoid's forward in float32, its vjp g * (1 - out) * out in float16 steps."""
    torch = pytest.importorskip("torch")
    data = np.linspace(-12, 12, 801).astype(np.float16)
    g = np.random.default_rng(0).uniform(-3, 3, data.size).astype(np.float16)
    x, t = Tensor(data, requires_grad=True), torch.from_numpy(data.copy()).requires_grad_()
    ours = grad(getattr(x, name)(), [x], grad_output=g, create_graph=create_graph)[0]
    getattr(t, name)().backward(torch.from_numpy(g.copy()))
    np.testing.assert_array_equal(np.asarray(getattr(ours, "data", ours)), t.grad.numpy())
    np.testing.assert_array_equal(getattr(x, name)().data, getattr(t, name)().detach().numpy())


def test_float16_soft_label_cross_entropy_scales_after_the_sum_as_pytorch():
    """Scaling the probabilities by -1/N first made a tiny probability 0 in float16, and
    0 * log_softmax = 0 * -inf NaN, where PyTorch's loss is inf (found by the oracle)."""
    torch = pytest.importorskip("torch")
    logits = np.full((4, 4), -100.0, np.float16)
    logits[1, 1] = 65504.0  # log_softmax is -inf for the other classes of row 1
    probs = np.full((4, 4), 5.96e-8, np.float16)
    ours = nn.cross_entropy(Tensor(logits), probs)
    theirs = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(probs))
    assert ours.dtype == np.float16 and ours.item() == theirs.item() == math.inf


def test_float16_division_gradient_of_the_divisor_is_pytorchs_bit_for_bit():
    """-g * ((x / y) / y), PyTorch's order: (-g * out) / y rounds differently in float16
    (a third of the elements differ by an ulp), which a broadcast sum then amplifies."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, g = (rng.uniform(-3, 3, 2000).astype(np.float16) for _ in range(2))
    y = (rng.uniform(0.1, 3, 2000) * rng.choice([-1, 1], 2000)).astype(np.float16)
    b = Tensor(y, requires_grad=True)
    (Tensor(x) / b).backward(g)
    t = torch.from_numpy(y.copy()).requires_grad_()
    (torch.from_numpy(x.copy()) / t).backward(torch.from_numpy(g.copy()))
    np.testing.assert_array_equal(b.grad, t.grad.numpy())
