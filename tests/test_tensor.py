"""Tensor: every op family against finite differences over Hypothesis-drawn shapes, plus
dtype rules, broadcasting both ways, and the errors users see."""
import numpy as np
import pytest
from conftest import BINARY, F64, MATMUL_SHAPES, t64
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinygrad_memo import Tensor, gradcheck
from tinygrad_memo.testing import arrays, broadcastable_shapes, shapes, tensors


# -- construction and dtypes ----------------------------------------------------------------

def test_lists_and_numbers_take_pytorchs_dtypes_arrays_keep_theirs():
    assert Tensor([1, 2, 3]).dtype == np.int64 and Tensor(3).dtype == np.int64
    assert Tensor([1, 2.5]).dtype == np.float32 and Tensor([True, False]).dtype == np.bool_
    assert Tensor(np.float64(2.0)).dtype == F64  # a NumPy scalar keeps its dtype
    assert Tensor(2.5).dtype == np.float32 and Tensor(2.5).shape == ()
    assert Tensor(np.zeros(3, dtype=F64)).dtype == F64
    assert Tensor(np.zeros(3, dtype=np.float16)).dtype == np.float16
    assert Tensor(np.arange(3)).dtype == np.arange(3).dtype  # integer data, no gradient needed
    assert Tensor(np.arange(3), requires_grad=True).dtype == np.float32  # promoted to float
    assert Tensor([1, 2], dtype=F64).dtype == F64


def test_array_protocol_and_accessors():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    assert Tensor([7.0]).item() == 7.0 and float(Tensor([[7.5]])) == 7.5
    with pytest.raises(ValueError, match=r"only a one-element tensor.*shape \(2, 2\)"):
        t.item()


def test_bad_data_is_refused_clearly():
    with pytest.raises(TypeError, match="cannot make an array from list"):
        Tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="dtype <U3 is not supported"):
        Tensor("abc")
    with pytest.raises(TypeError, match="dtype object is not supported"):
        Tensor(2 ** 70)
    with pytest.raises(TypeError, match="dtype complex128 is not supported"):
        Tensor(np.array([1j]))


def test_float32_stays_float32_through_ops_and_gradients():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    y = ((x @ w).tanh() * 2.0 + 1).log_softmax().mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


@pytest.mark.parametrize("op", ["add", "mul", "div", "pow", "matmul", "batched matmul"])
def test_gradients_keep_each_inputs_dtype_when_dtypes_mix(op):
    # float32 beside float64 (or int) computes in float64, as NumPy does; each input's
    # gradient is still in the input's own dtype (PyTorch's rule), not the wider one
    f = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
         "pow": lambda a, b: a ** b, "matmul": lambda a, b: a @ b,
         "batched matmul": lambda a, b: a @ b}[op]
    sa, sb = {"matmul": ((2, 3), (3, 2)), "batched matmul": ((2, 2, 3), (3, 2))}.get(op, ((2, 3), (3,)))
    rng = np.random.default_rng(0)
    a0, b0 = rng.uniform(0.5, 1.5, sa), rng.uniform(0.5, 1.5, sb)
    a = Tensor(a0.astype(np.float32), requires_grad=True)
    b = Tensor(b0, requires_grad=True)  # float64
    y = f(a, b)
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    a64, b64 = Tensor(a.data.astype(np.float64), requires_grad=True), Tensor(b0, requires_grad=True)
    f(a64, b64).sum().backward()
    np.testing.assert_allclose(a.grad, a64.grad, rtol=1e-6)
    np.testing.assert_allclose(b.grad, b64.grad, rtol=1e-6)
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    (Tensor(np.arange(3)) * w).sum().backward()  # int64 data beside a float32 parameter
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, [0.0, 1.0, 2.0])


def test_grad_is_an_own_writable_array_per_tensor():
    # add hands one array to both inputs, sum a read-only stride-0 view, backward(g) the
    # user's array: .grad must still be each tensor's own array, safe to change in place
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    g = np.array([1.0, 1.0], dtype=np.float32)
    (a + b).backward(g)
    a.grad *= 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(g, [1.0, 1.0])
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()
    x.grad[0, 0] = 5.0
    np.testing.assert_array_equal(x.grad, [[5.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    s = Tensor(2.0, requires_grad=True)
    (s * s).backward()
    assert isinstance(s.grad, np.ndarray) and s.grad.shape == () and s.grad == 4.0


# -- broadcasting binary ops ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BINARY))
@settings(deadline=None, max_examples=40)
@given(data=st.data(), pair=broadcastable_shapes(2))
def test_broadcasting_binary_ops_against_finite_differences(name, data, pair):
    lo = 0.5 if name in ("div", "pow") else -3.0  # keep away from 0 for / and from negative bases for **
    a = data.draw(tensors(pair[0], min_value=lo, max_value=2.0))
    b = data.draw(tensors(pair[1], min_value=lo, max_value=2.0))
    out = BINARY[name](a, b)
    assert out.shape == np.broadcast_shapes(pair[0], pair[1])
    assert gradcheck(BINARY[name], [a, b])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_numbers_and_arrays_on_either_side(name):
    f = BINARY[name]
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    arr = np.array([0.5, 2.0])
    for left, right in [(x, 2.0), (2.0, x), (x, arr), (arr, x)]:
        out = f(left, right)
        assert isinstance(out, Tensor)
        np.testing.assert_allclose(out.data, f(np.asarray(left), np.asarray(right)))
    assert gradcheck(lambda t: f(arr, t) + f(t, 3.0), [x])


def test_broadcast_operand_gradient_is_summed_to_its_shape():
    a = t64(np.ones((4, 3)))
    b = t64([1.0, 2.0, 3.0])
    (a * b).sum().backward()
    assert b.grad.shape == (3,)
    np.testing.assert_array_equal(b.grad, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(a.grad, np.tile([1.0, 2.0, 3.0], (4, 1)))


def test_incompatible_shapes_name_both_shapes_and_the_op():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"mul: shapes \(2,\) and \(3,\)"):
        np.ones(2) * Tensor(np.ones(3))


def test_unsupported_operands_raise_type_error_like_python():
    with pytest.raises(TypeError, match="unsupported operand"):
        Tensor([1.0]) + "a"
    with pytest.raises(TypeError, match="unsupported operand"):
        Tensor([1.0]) * object()
    with pytest.raises(TypeError, match="unsupported operand"):
        None @ Tensor([1.0])


# -- matmul ------------------------------------------------------------------------------------

@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_like_numpy_with_gradients(sa, sb):
    rng = np.random.default_rng(0)
    a, b = t64(rng.normal(size=sa)), t64(rng.normal(size=sb))
    out = a @ b
    np.testing.assert_allclose(out.data, a.data @ b.data)
    assert gradcheck(lambda x, y: x @ y, [a, b])


def test_matmul_errors_say_which_dimensions_disagree():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned: 3"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: shapes \(3,\) and \(4,\) are not aligned"):
        Tensor(np.ones(3)) @ np.ones(4)
    with pytest.raises(ValueError, match=r"batch dimensions of shapes \(2, 2, 3\) and \(4, 3, 1\)"):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((4, 3, 1)))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        Tensor(2.0) @ Tensor(np.ones(3))


# -- elementwise unary ------------------------------------------------------------------------

UNARY = {
    "neg": (lambda t: -t, -3, 3),
    "exp": (lambda t: t.exp(), -3, 3),
    "log": (lambda t: t.log(), 0.2, 3),
    "tanh": (lambda t: t.tanh(), -3, 3),
    "sigmoid": (lambda t: t.sigmoid(), -6, 6),
    "sqrt": (lambda t: t.sqrt(), 0.2, 3),
    "relu": (lambda t: t.relu(), -3, 3),
    "abs": (lambda t: t.abs(), -3, 3),
    "pow_const": (lambda t: t ** 3 + t ** 0.5 - t ** -1.5, 0.2, 3),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_unary_ops_against_finite_differences(name, data):
    f, lo, hi = UNARY[name]
    x = data.draw(tensors(min_value=lo, max_value=hi))
    if name in ("relu", "abs"):  # not differentiable at 0: keep finite differences off the kink
        assume(np.all(np.abs(x.data) > 1e-3))
    assert gradcheck(f, [x])


def test_rpow_with_a_number_base():
    x = t64([0.5, 1.0, 2.0])
    np.testing.assert_allclose((2 ** x).data, 2 ** x.data)
    assert gradcheck(lambda t: 2 ** t, [x])
    assert gradcheck(lambda t: t ** t, [x])


def test_sigmoid_and_exp_at_extremes():
    with np.errstate(over="ignore"):
        s = Tensor(np.array([-1000.0, 0.0, 1000.0])).sigmoid()
        np.testing.assert_array_equal(s.data, [0.0, 0.5, 1.0])
        assert np.isinf(Tensor([1000.0]).exp().data).all()


def test_nan_and_inf_propagate_without_crashing():
    x = t64([np.nan, np.inf, 1.0])
    with np.errstate(invalid="ignore"):
        y = (x * 2).tanh().sum()
        y.backward()
    assert np.isnan(y.data)
    assert np.isnan(x.grad[0]) and x.grad[2] == pytest.approx(2 * (1 - np.tanh(2.0) ** 2))


def test_power_zero_has_zero_gradient_even_at_zero():
    # x ** 0 is the constant 1: d/dx = 0 everywhere (PyTorch too), not 0 * 0 ** -1 = nan
    x = t64([0.0, 1.0, -2.0])
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    from tinygrad_memo import Value
    v = Value(0.0)
    (v ** 0 + v ** 2).backward()
    assert v.grad == 0.0


# -- reductions --------------------------------------------------------------------------------

@st.composite
def tensor_and_axis(draw):
    x = draw(tensors(shape=shapes(min_dims=1, max_dims=3)))
    nd = x.ndim
    axis = draw(st.one_of(
        st.none(), st.integers(-nd, nd - 1),
        st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    return x, axis, draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@settings(deadline=None, max_examples=60)
@given(case=tensor_and_axis())
def test_reductions_match_numpy_and_finite_differences(name, case):
    x, axis, keepdims = case
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(x.data, name)(axis=axis, keepdims=keepdims))
    if name == "max":  # finite differences need a unique maximum
        flat = np.sort(x.data.reshape(-1))
        assume(flat.size < 2 or np.min(np.diff(flat)) > 1e-4)
    assert gradcheck(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [x])


def test_max_splits_the_gradient_evenly_between_ties():
    x = t64([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = t64([5.0, 1.0, 5.0])
    y.max().backward()
    np.testing.assert_allclose(y.grad, [0.5, 0.0, 0.5])


def test_bad_axis_is_named():
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for a tensor with 2 dimensions"):
        Tensor(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        Tensor(np.ones((2, 3))).mean(axis=(0, -2))


# -- shape ops and indexing ------------------------------------------------------------------

@settings(deadline=None, max_examples=40)
@given(x=tensors(shape=shapes(min_dims=1, max_dims=3)), data=st.data())
def test_reshape_and_transpose(x, data):
    perm = tuple(data.draw(st.permutations(range(x.ndim))))
    assert gradcheck(lambda t: t.transpose(*perm) * 2, [x])
    assert gradcheck(lambda t: t.reshape(-1) * t.reshape(x.size)[::-1], [x])
    assert gradcheck(lambda t: t.T.exp(), [x])
    assert x.transpose(perm).shape == tuple(x.shape[p] for p in perm)


def test_reshape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\) into \(4,\)"):
        Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(ValueError, match=r"axes \(0, 0\) are not a permutation"):
        Tensor(np.ones((2, 3))).transpose(0, 0)
    with pytest.raises(ValueError, match=r"axes \(0, 5\) are not a permutation"):
        Tensor(np.ones((2, 3))).transpose(0, 5)  # 5 used to wrap around to axis 1
    with pytest.raises(ValueError, match=r"axes \(0.5, 1\) are not a permutation"):
        Tensor(np.ones((2, 3))).transpose(0.5, 1)
    with pytest.raises(ValueError, match=r"axes \(0,\) are not a permutation"):
        Tensor(2.0).transpose(0)
    assert Tensor(2.0).T.shape == () and Tensor(np.ones((2, 3))).transpose(-1, 0).shape == (3, 2)


def test_indexing_slices_integer_arrays_masks_and_repeats():
    rng = np.random.default_rng(1)
    x = t64(rng.normal(size=(4, 5)))
    assert gradcheck(lambda t: t[1:3, ::2] * 3, [x])
    assert gradcheck(lambda t: t[np.array([0, 2, 0, 0])].tanh(), [x])
    assert gradcheck(lambda t: t[:, [1, 1, 4]], [x])
    assert gradcheck(lambda t: t[t.data > 0] ** 2, [x])
    assert gradcheck(lambda t: t[np.arange(4), np.array([0, 1, 1, 4])], [x])
    assert gradcheck(lambda t: t[Tensor(np.array([3, 3]))], [x])
    assert gradcheck(lambda t: t[..., None, 2], [x])
    v = t64([1.0, 2.0, 3.0])
    v[[0, 0, 0, 2]].sum().backward()  # repeated indices accumulate
    np.testing.assert_array_equal(v.grad, [3.0, 0.0, 1.0])


def test_index_errors_are_clear():
    with pytest.raises(IndexError, match="index arrays must be integers or booleans"):
        Tensor([1.0, 2.0])[[0.5]]
    with pytest.raises(IndexError):
        Tensor([1.0, 2.0])[5]


def test_an_empty_index_list_picks_nothing_like_numpy():
    x = t64([1.0, 2.0, 3.0])
    y = x[[]]
    assert y.shape == (0,) == x.data[[]].shape
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_0d_tensors_take_axis_0_and_minus_1_like_pytorch():
    for axis in (0, -1, (0,), None):
        x = t64(2.0)
        y = x.sum(axis) * x.max(axis) + x.mean(axis) + x.softmax(axis) + x.log_softmax(axis)
        assert y.shape == ()
        np.testing.assert_allclose(y.data, 4.0 + 2.0 + 1.0 + 0.0)
        y.backward()
        np.testing.assert_allclose(x.grad, 2 * 2.0 + 1.0)  # d(x*x + x + 1 + 0)
    with pytest.raises(ValueError, match="axis 1 is out of range for a tensor with 0 dimensions"):
        t64(2.0).sum(axis=1)


def test_float16_mean_does_not_overflow():
    # NumPy and PyTorch sum float16 in float32 for a mean; 100,000 ones sum past float16's max
    x = Tensor(np.ones(100_000, dtype=np.float16), requires_grad=True)
    m = x.mean()
    assert m.dtype == np.float16 and m.item() == 1.0
    m.backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_allclose(x.grad, 1e-5, rtol=1e-2)
    np.testing.assert_array_equal(Tensor(np.ones((2, 40_000), np.float16)).mean(axis=1).data, [1, 1])


# -- softmax family -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_softmax_family_against_finite_differences(name, data):
    x = data.draw(tensors(shape=shapes(min_dims=1, max_dims=3)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    out = getattr(x, name)(axis=axis)
    probs = out.data if name == "softmax" else np.exp(out.data)
    np.testing.assert_allclose(probs.sum(axis=axis), 1.0)
    assert gradcheck(lambda t: getattr(t, name)(axis=axis), [x])


def test_softmax_over_all_axes_or_a_tuple_of_axes():
    # axis=None normalises over every element, a tuple over those axes jointly (it used to
    # fail deep inside with None, and silently use only the first axis of a tuple)
    rng = np.random.default_rng(3)
    x = t64(rng.normal(size=(2, 3, 4)))
    w = Tensor(rng.normal(size=(2, 3, 4)))
    for axis in (None, (0, 2), (-1, 0)):
        p = x.softmax(axis=axis)
        e = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
        np.testing.assert_allclose(p.data, e / e.sum(axis=axis, keepdims=True))
        np.testing.assert_allclose(np.exp(x.log_softmax(axis=axis).data), p.data)
        assert gradcheck(lambda t, axis=axis: t.softmax(axis=axis) * w, [x])
        assert gradcheck(lambda t, axis=axis: t.log_softmax(axis=axis) * w, [x])


def test_softmax_is_numerically_stable():
    x = Tensor(np.array([1000.0, 1001.0, 1002.0]), requires_grad=True)
    p = x.softmax()
    lp = x.log_softmax()
    assert np.all(np.isfinite(p.data)) and np.all(np.isfinite(lp.data))
    np.testing.assert_allclose(lp.data, np.array([-2.40760596, -1.40760596, -0.40760596]))
    lp[2].backward()
    np.testing.assert_allclose(x.grad, -p.data + np.array([0, 0, 1]))


# -- backward() -----------------------------------------------------------------------------------

def test_backward_needs_grad_for_more_than_one_element():
    x = t64([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"only for a one-element tensor.*shape \(2,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the tensor has shape \(2,\)"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])


def test_backward_on_a_tensor_without_graph_says_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()


def test_only_leaves_keep_grad_unless_retained():
    x = t64([1.0, 2.0])
    h = (x * 3).retain_grad()
    z = x * 2
    (h.sum() + z.sum()).backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])
    np.testing.assert_array_equal(h.grad, [1.0, 1.0])
    assert z.grad is None


def test_constants_get_no_gradient_and_record_no_graph():
    c = Tensor([1.0, 2.0])
    y = c * 2 + 1
    assert not y.requires_grad and y._inputs == ()


@settings(deadline=None, max_examples=30)
@given(a=arrays(shape=(3, 4)), b=arrays(shape=(4,)))
def test_composite_expression(a, b):
    x, w = t64(a), t64(b)
    assert gradcheck(lambda x, w: ((x * w).tanh() @ w + x.mean(axis=1)).softmax()[::2].sum() ** 2, [x, w])
