"""Every primitive, defined once: its forward next to its vector-Jacobian products.

Read this file as the table of derivatives. Each `Op` has a forward on Python floats
(``scalar``, used by `Value`) and/or on NumPy arrays (``array``, used by `Tensor`), and one
vjp per input: ``vjp(g, out, ctx, *inputs) -> g * d(out)/d(input)``. Every forward here is
the one that runs: `engine.apply` calls it (an op with parameters gets them as a last
argument, ``ctx``). The vjps use only operators and methods that raw data and nodes share,
so the engine can run them on raw numbers (fast) or on nodes (``create_graph=True``: the
gradient gets a graph of its own). Helpers are lower-case verbs; no helper shares an op's name.
"""
from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

from .broadcast import _FLOAT16, sum_to, total
from .engine import Node, Op

# -- helpers the vjps share ------------------------------------------------------------



def raw(x: Any) -> Any:
    """The raw number/array inside a node (vjps use it where no gradient should flow)."""
    return x.data if isinstance(x, Node) else x


def exp_of(x: Any) -> Any:
    return x.exp() if isinstance(x, Node) else np.exp(x)


def log_of(x: Any) -> Any:
    if isinstance(x, Node):
        return x.log()
    return _log(x) if x.__class__ is float else np.log(x)


def is_number(x: Any) -> bool:
    """Whether ``x`` is a plain number rather than an array or a node: a Value's data, which
    user code may set to an int or a NumPy float (micrograd's ``Value(0)`` biases)."""
    return x.__class__ is not np.ndarray and not isinstance(x, (np.ndarray, Node))


def divide(x: Any, y: Any) -> Any:
    """x / y that, on numbers, gives inf/nan for a zero divisor as NumPy does."""
    return _div(x, y) if y.__class__ is float or is_number(y) else x / y


def power(x: Any, c: Any) -> Any:
    """x ** c that, on numbers, gives nan (not a complex number) for a negative base."""
    return _pow(x, c) if x.__class__ is float or is_number(x) else x ** c


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """``x`` (with ``len(shape)`` axes, size 1 where it repeats) repeated to ``shape``.

    On arrays it is np.broadcast_to's read-only view, built directly: the stretched axes get
    stride 0 (np.broadcast_to spends ~5 us in Python-level checks, more than a small sum).
    """
    if isinstance(x, Node):
        return x.broadcast_to(shape)
    x = np.asarray(x)
    if x.ndim != len(shape) or not x.flags.c_contiguous:
        return np.broadcast_to(x, shape)
    strides = tuple(0 if m == 1 else s for m, s in zip(x.shape, x.strides))
    view = np.ndarray(shape, x.dtype, x, 0, strides)
    view.flags.writeable = False
    return view


def kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over ``axis`` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def expand(g: Any, x: Any, ctx: tuple) -> Any:
    """The gradient of a reduction, spread back over the elements that were reduced."""
    axis, keepdims = ctx
    shape = x.shape
    if not keepdims:
        g = g.reshape(kept_shape(shape, axis))
    return broadcast_to(g, shape)


# -- IEEE-style float forwards: inf and nan propagate instead of raising --------------


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    try:
        return math.log(x)
    except ValueError:
        return -math.inf if x == 0 else math.nan


def _div(x: float, y: float) -> float:
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or x != x:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)


def _pow(x: float, c: float) -> float:
    try:
        return math.pow(x, c)
    except (OverflowError, ValueError):  # too large; 0 ** negative; negative ** fraction
        whole = float(c).is_integer()
        if x < 0 and not whole:
            return math.nan
        odd = whole and int(c) % 2 == 1  # IEEE: an odd power keeps the base's sign
        return math.copysign(math.inf, x) if odd else math.inf


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x), written so neither branch overflows and small results keep their
    digits (0.5 * (tanh(x / 2) + 1) rounds sigmoid(-20) to 0 in float32)."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = _exp(x)  # NaN lands here too and stays NaN
    return e / (1.0 + e)


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    """The same on arrays: e = exp(-|x|) is at most 1, then one branch per sign (float16 in
    float32, rounded once, as PyTorch's kernel: its gradient out * (1 - out) needs it)."""
    if x.dtype is _FLOAT16:
        return _sigmoid_array(x.astype(np.float32)).astype(_FLOAT16)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _relu_vjp(g: Any, out: Any, ctx: Any, x: Any) -> Any:
    """g where x > 0 or x is NaN, else 0 (PyTorch's threshold_backward): selected
    (`keep_where`), so an infinite g in a dead unit gives 0, not NaN."""
    xd = raw(x)
    if xd.__class__ is float or isinstance(xd, numbers.Real):  # a Value's number
        return g * 0 if xd <= 0 else g
    # an array (or jit's symbolic one): out = relu(x) is 0 exactly where x <= 0
    return keep_where(g, raw(out) != 0)


def _abs_vjp(g: Any, out: Any, ctx: Any, x: Any) -> Any:
    """g * sign(x), with sign(NaN) = 0 as in PyTorch."""
    return g * np.nan_to_num(np.sign(raw(x)), nan=0.0)


def zero_where(local: Any, mask: Any) -> Any:
    """``local`` with 0 where ``mask`` holds, PyTorch's ``where(mask, 0, local)``: where
    pow's derivative formula is 0 * inf or 0 * log 0 but the function is constant."""
    if mask.__class__ is bool:  # about a Value's number (arrays give NumPy bools)
        if not mask:
            return local
        return local._zero_grad_like(True) if isinstance(local, Node) else 0.0
    return keep_where(local, ~mask) if mask.any() else local


def _pow_vjp_base(g: Any, out: Any, ctx: Any, x: Any, y: Any) -> Any:
    """g y x^(y-1), and 0 where y = 0 (x^0 = 1 is constant; the formula is NaN at x = 0),
    as in PyTorch, whose second derivatives this shares (see docs/guarantees.md)."""
    return zero_where(g * (y * power(x, y - 1)), raw(y) == 0)


def _pow_vjp_exponent(g: Any, out: Any, ctx: Any, x: Any, y: Any) -> Any:
    """g x^y log x, and 0 where x = 0 and y >= 0 (0^y is constant there), as in PyTorch
    (which masks x^y log x, not g: an infinite g gives NaN there in both)."""
    return g * zero_where(out * log_of(x), (raw(x) == 0) & (raw(y) >= 0))


def _pow_const(x: Any, c: Any) -> Any:
    """x ** c for a constant c; x ** -0.5 is 1 / sqrt(x) as in PyTorch (float32/64: -inf at
    -0.0, NaN at -inf, where IEEE pow gives inf and 0), to agree with x ** 0.5, which is
    sqrt(x) in NumPy and PyTorch alike (float16 computes both with IEEE pow, in both)."""
    if c == -0.5 and x.dtype != _FLOAT16:
        with np.errstate(divide="ignore"):
            return np.reciprocal(np.sqrt(x))
    return np.power(x, c)


def _pow_const_scalar(x: float, c: Any) -> float:
    """The same on a Value's float (sqrt for 0.5, as on float64 arrays)."""
    if c == 0.5 or c == -0.5:
        root = math.sqrt(x) if x >= 0 else (x if x == 0 or x != x else math.nan)  # sqrt(-0) = -0
        return root if c == 0.5 else _div(1.0, root)
    try:
        return math.pow(x, c)
    except (OverflowError, ValueError):
        return _pow(x, c)


def _pow_const_vjp(g: Any, out: Any, c: Any, x: Any) -> Any:
    """g c x^(c-1); x^0 is the constant 1, so its derivative is 0 everywhere (0 * x^-1
    would be NaN at x = 0)."""
    if c == 0:
        return g * 0
    if x.__class__ is float or is_number(x):  # a Value's number
        return g * c * _pow_const_scalar(x, c - 1)
    return g * c * (x ** (c - 1) if isinstance(x, Node) else _pow_const(x, c - 1))


# -- elementwise binary ops (broadcasting) ---------------------------------------------

add = Op("add", symbol="+", scalar=operator.add, array=np.add, vjps=(
    lambda g, out, ctx, x, y: g,
    lambda g, out, ctx, x, y: g))

sub = Op("sub", symbol="-", scalar=operator.sub, array=np.subtract, vjps=(
    lambda g, out, ctx, x, y: g,
    lambda g, out, ctx, x, y: -g))

mul = Op("mul", symbol="*", scalar=operator.mul, array=np.multiply, vjps=(
    lambda g, out, ctx, x, y: g * y,
    lambda g, out, ctx, x, y: g * x))

div = Op("div", symbol="/", scalar=_div, array=np.divide, vjps=(
    lambda g, out, ctx, x, y: divide(g, y),
    lambda g, out, ctx, x, y: -g * divide(out, y)))  # PyTorch's order (float16 bit for bit)

pow_ = Op("pow", symbol="**", scalar=_pow, array=np.power,
          vjps=(_pow_vjp_base, _pow_vjp_exponent))

# x ** c for a constant number c (kept in ctx, so no node is made for it)
pow_const = Op("pow", scalar=_pow_const_scalar, array=_pow_const, vjps=(_pow_const_vjp,))


def _matmul_grad(g: Any, x: Any, y: Any, which: int) -> Any:
    """d(x @ y) for NumPy's rules: 1-D operands get a unit axis, batch axes broadcast."""
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    y2 = y.reshape(-1, 1) if y.ndim == 1 else y
    batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
    g2 = g.reshape(batch + (x2.shape[-2], y2.shape[-1]))
    if which == 0:
        return sum_to(g2 @ swap_last(y2), x2.shape).reshape(x.shape)
    return sum_to(swap_last(x2) @ g2, y2.shape).reshape(y.shape)


def swap_last(x: Any) -> Any:
    """Transpose the last two axes (the matrix part of a batch of matrices)."""
    n = x.ndim
    return x.transpose(*range(n - 2), n - 1, n - 2)


matmul = Op("matmul", symbol="@", array=np.matmul, vjps=(
    lambda g, out, ctx, x, y: g @ y.T if x.ndim == 2 == y.ndim else _matmul_grad(g, x, y, 0),
    lambda g, out, ctx, x, y: x.T @ g if x.ndim == 2 == y.ndim else _matmul_grad(g, x, y, 1)))

# -- elementwise unary ops --------------------------------------------------------------

neg = Op("neg", symbol="neg", scalar=operator.neg, array=np.negative, vjps=(
    lambda g, out, ctx, x: -g,))

exp = Op("exp", scalar=_exp, array=np.exp, vjps=(
    lambda g, out, ctx, x: g * out,))

log = Op("log", scalar=_log, array=np.log, vjps=(
    lambda g, out, ctx, x: divide(g, x),))

def _tanh_vjp(g: Any, out: Any, ctx: Any, x: Any) -> Any:
    """g (1 - out^2); float16 in float32, rounded once (by the engine), as in PyTorch's
    kernel: step by step in float16, 1 - out^2 near |out| = 1 keeps a digit or two."""
    if out.__class__ is not float and getattr(out, "dtype", None) is _FLOAT16:
        g, out = (v.to(np.float32) if isinstance(v, Node) else v.astype(np.float32) for v in (g, out))
    return g * (1 - out * out)


tanh = Op("tanh", scalar=math.tanh, array=np.tanh, vjps=(_tanh_vjp,))

relu = Op("relu", symbol="ReLU", scalar=lambda x: 0.0 if x <= 0 else x,  # NaN stays NaN
          array=lambda x: np.maximum(x, 0), vjps=(_relu_vjp,))

sigmoid = Op("sigmoid", scalar=_sigmoid, array=_sigmoid_array, vjps=(  # PyTorch's order: its
    lambda g, out, ctx, x: g * (1 - out) * out,))                    # float16 rounds each step

sqrt = Op("sqrt", array=np.sqrt, vjps=(  # g / (2 sqrt x): a tiny g is not halved to 0 first
    lambda g, out, ctx, x: divide(g, 2 * out),))

abs_ = Op("abs", array=np.abs, vjps=(_abs_vjp,))

# -- reductions (ctx = (axis tuple or None, keepdims)) ----------------------------------

sum_ = Op("sum", array=lambda x, ctx: total(x, ctx[0], ctx[1]), vjps=(
    lambda g, out, ctx, x: expand(g, x, ctx[:2]),))

def _mean(x: np.ndarray, ctx: tuple) -> np.ndarray:
    axis, keepdims, scale = ctx
    if x.dtype is _FLOAT16:  # NumPy's mean sums float16 in float32: a float16 sum overflows
        return x.mean(axis=axis, keepdims=keepdims)  # past 65504 (and 1/count may underflow)
    return x.sum(axis=axis, keepdims=keepdims) * scale


# the mean is the sum times 1/count, in one node (ctx = (axis, keepdims, 1/count))
mean = Op("mean", array=_mean, vjps=(lambda g, out, ctx, x: expand(g * ctx[2], x, ctx[:2]),))


def _max_vjp(g: Any, out: Any, ctx: tuple, x: Any) -> Any:
    """The gradient goes to the maximal elements; tied maxima share it evenly."""
    axis, keepdims = ctx
    xd, od = raw(x), raw(out)
    if not keepdims:
        od = od.reshape(kept_shape(xd.shape, axis))
        g = g.reshape(od.shape)
    winners = (xd == od).astype(xd.dtype)
    return g * (winners / winners.sum(axis=axis, keepdims=True))


def _max(x: np.ndarray, ctx: tuple) -> np.ndarray:
    """x.max, but a size-0 tensor reduced over non-empty axes gives an empty result (as in
    PyTorch; NumPy refuses any max of a size-0 array). Tensor.max refuses empty axes."""
    if 0 in x.shape:
        return np.empty(np.empty(x.shape, np.int8).sum(axis=ctx[0], keepdims=ctx[1]).shape, x.dtype)
    return x.max(axis=ctx[0], keepdims=ctx[1])


max_ = Op("max", array=_max, vjps=(_max_vjp,))

# -- shape ops ---------------------------------------------------------------------------

reshape = Op("reshape", array=lambda x, shape: x.reshape(shape), vjps=(  # ctx = the new shape
    lambda g, out, ctx, x: g.reshape(x.shape),))

transpose = Op("transpose", array=lambda x, axes: x.transpose(axes), vjps=(  # ctx = the permutation
    lambda g, out, axes, x: g.transpose(*np.argsort(axes)),))

broadcast = Op("broadcast_to", array=np.broadcast_to, vjps=(  # ctx = the new shape
    lambda g, out, shape, x: g,))  # (the engine sums it back to x's shape)


def scatter_array(g: np.ndarray, index: Any, shape: tuple[int, ...], repeats: bool) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``index`` (np.add.at when indices may repeat)."""
    z = np.zeros(shape, dtype=g.dtype)
    if repeats:
        np.add.at(z, index, g)
    else:
        z[index] = g
    return z


def scatter_grad(g: Any, index: Any, shape: tuple[int, ...], repeats: bool) -> Any:
    """The gradient of ``x[index]``: ``g`` put back at ``index`` in zeros of x's shape."""
    if isinstance(g, Node):
        return g._scatter(index, shape, repeats)
    return scatter_array(g, index, shape, repeats)


# x[index], ctx = (index, repeats): a picked element gets the gradient of each pick
getitem = Op("getitem", array=lambda x, ctx: x[ctx[0]], vjps=(
    lambda g, out, ctx, x: scatter_grad(g, ctx[0], x.shape, ctx[1]),))

# the adjoint of getitem (ctx = (index, shape, repeats)); needed for gradients of gradients
scatter = Op("scatter", array=lambda x, ctx: scatter_array(x, *ctx), vjps=(
    lambda g, out, ctx, x: g[ctx[0]],))

# -- softmax family (ctx = the axis tuple) -------------------------------------------------


def _softmax(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    if 0 in x.shape:  # nothing to normalise (NumPy's max would refuse)
        return np.exp(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    if 0 in x.shape:
        return np.exp(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


softmax = Op("softmax", array=_softmax, vjps=(
    lambda g, out, axis, x: out * (g - (g * out).sum(axis=axis, keepdims=True)),))

log_softmax = Op("log_softmax", array=_log_softmax, vjps=(
    lambda g, out, axis, x: g - exp_of(out) * g.sum(axis=axis, keepdims=True),))


# == the PyTorch surface (issue 13): more elementwise ops, reductions, shape ops =========
# Same rules as above: forwards on arrays, vjps written with operators and methods that
# arrays and Tensors share (or a helper below that picks one), so second derivatives work.


def sin_of(x: Any) -> Any:
    return x.sin() if isinstance(x, Node) else np.sin(x)


def cos_of(x: Any) -> Any:
    return x.cos() if isinstance(x, Node) else np.cos(x)


def tanh_of(x: Any) -> Any:
    return x.tanh() if isinstance(x, Node) else np.tanh(x)


def sigmoid_of(x: Any) -> Any:
    return x.sigmoid() if isinstance(x, Node) else sigmoid.array(x)


def erf_of(x: Any) -> Any:
    return x.erf() if isinstance(x, Node) else erf.array(x)


def keep_where(g: Any, keep: np.ndarray) -> Any:
    """``g`` where ``keep`` holds, 0 elsewhere: a selection, not a product (an inf or nan
    gradient arriving at a masked element gives 0 there, not nan, as in PyTorch).

    On arrays it is the product (a dropped negative g gives -0.0), redone as a selection
    only if that made a nan (an inf or nan g where keep is false; a nan max finds one):
    np.where takes 33 us on a (256, 128) float32 array, the product and the check 12 us
    (the traced MLP step of the bench: 1.43x -> 1.11x the hand-written NumPy step at batch
    256; ``isnan(max)`` rather than ``isfinite().all()``: 4.6 against 6.4 us)."""
    if isinstance(g, Node):
        return g._where(keep, 0.0)
    kept = g * keep
    if kept.size and np.isnan(kept.max()):
        kept = np.where(keep, g, 0).astype(g.dtype, copy=False)
    return kept


class PerInput:
    """The vjps of an op that takes any number of inputs (cat, stack): ``self[i]`` is
    ``vjp`` with the input's position bound first, made once per position."""

    __slots__ = ("vjp", "made")

    def __init__(self, vjp: Any) -> None:
        self.vjp = vjp
        self.made: list[Any] = []

    def __getitem__(self, i: int) -> Any:
        while len(self.made) <= i:
            n = len(self.made)
            self.made.append(lambda g, out, ctx, *xs, n=n: self.vjp(n, g, out, ctx, *xs))
        return self.made[i]

    def index(self, vjp: Any) -> int:
        return self.made.index(vjp)


# -- elementwise unary ---------------------------------------------------------------------

# ctx = the new dtype; the gradient goes back in the input's dtype
cast = Op("cast", array=lambda x, dtype: x.astype(dtype), vjps=(
    lambda g, out, dtype, x: g.to(x.dtype) if isinstance(g, Node) else g.astype(x.dtype),))

sin = Op("sin", array=np.sin, vjps=(lambda g, out, ctx, x: g * cos_of(x),))

cos = Op("cos", array=np.cos, vjps=(lambda g, out, ctx, x: -g * sin_of(x),))

log1p = Op("log1p", array=np.log1p, vjps=(lambda g, out, ctx, x: divide(g, x + 1),))

expm1 = Op("expm1", array=np.expm1, vjps=(lambda g, out, ctx, x: g * (out + 1),))

square = Op("square", array=np.square, vjps=(lambda g, out, ctx, x: g * (x * 2),))

reciprocal = Op("reciprocal", array=np.reciprocal, vjps=(
    lambda g, out, ctx, x: -g * (out * out),))

# math.erf elementwise: NumPy has no erf and the core imports NumPy alone; exact to the last
# bit, at about 0.1 us per element
_erf: Any = np.frompyfunc(math.erf, 1, 1)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

erf = Op("erf", array=lambda x: _erf(x).astype(x.dtype), vjps=(
    lambda g, out, ctx, x: g * (exp_of(-(x * x)) * _TWO_OVER_SQRT_PI),))

# clamp(min, max), ctx = (lo, hi) with None for no bound; the gradient passes where
# lo <= x <= hi (both ends included, as in PyTorch)
clamp = Op("clamp", array=lambda x, ctx: np.clip(x, *ctx), vjps=(
    lambda g, out, ctx, x: keep_where(g, _inside(raw(x), *ctx)),))


def _inside(x: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    if lo is None:
        return x <= hi
    return x >= lo if hi is None else (x >= lo) & (x <= hi)


# -- activations ------------------------------------------------------------------------------

# ctx = negative_slope
leaky_relu = Op("leaky_relu", array=lambda x, a: np.where(x > 0, x, x * a), vjps=(
    lambda g, out, a, x: g * np.where(raw(x) > 0, 1, a).astype(raw(x).dtype),))

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)

# exact GELU, x * Phi(x); d/dx = Phi(x) + x * phi(x)
gelu = Op("gelu", array=lambda x: x * (0.5 * (1 + erf.array(x * _SQRT_HALF))), vjps=(
    lambda g, out, ctx, x: g * ((erf_of(x * _SQRT_HALF) + 1) * 0.5
                                + x * exp_of(x * x * -0.5) * _INV_SQRT_2PI),))

_GELU_K, _GELU_C = math.sqrt(2 / math.pi), 0.044715


def _gelu_tanh_inner(x: Any) -> Any:
    return tanh_of((x + x * x * x * _GELU_C) * _GELU_K)


def _gelu_tanh_vjp(g: Any, out: Any, ctx: Any, x: Any) -> Any:
    t = _gelu_tanh_inner(x)
    return g * ((t + 1) * 0.5 + x * (1 - t * t) * ((x * x * (3 * _GELU_C) + 1) * (0.5 * _GELU_K)))


# GELU with PyTorch's approximate='tanh'
gelu_tanh = Op("gelu_tanh", array=lambda x: x * (0.5 * (1 + _gelu_tanh_inner(x))),
               vjps=(_gelu_tanh_vjp,))


def _silu_vjp(g: Any, out: Any, ctx: Any, x: Any) -> Any:
    s = sigmoid_of(x)
    return g * (s * (x * (1 - s) + 1))


silu = Op("silu", array=lambda x: x * sigmoid.array(x), vjps=(_silu_vjp,))


def _softplus(x: np.ndarray, ctx: tuple) -> np.ndarray:
    beta, threshold = ctx
    bx = x * beta
    with np.errstate(over="ignore"):
        soft = np.logaddexp(0, bx) / beta
    return np.where(bx > threshold, x, soft).astype(x.dtype, copy=False)


def _softplus_vjp(g: Any, out: Any, ctx: tuple, x: Any) -> Any:
    beta, threshold = ctx
    linear = raw(x) * beta > threshold  # where softplus is x itself: slope 1
    s = sigmoid_of(x * beta)
    return g * (s + (1 - s) * linear)


# ctx = (beta, threshold): (1 / beta) log(1 + exp(beta x)), and x itself where beta x > threshold
softplus = Op("softplus", array=_softplus, vjps=(_softplus_vjp,))

# -- elementwise binary and ternary --------------------------------------------------------


def _pick(which: int, larger: bool) -> Any:
    """The vjp of maximum (``larger``) or minimum for input ``which``: the gradient goes to
    every operand the other does not beat; where both are equal each gets half, and where
    either is NaN both get all of it (PyTorch's rule: nothing beats NaN)."""
    def vjp(g: Any, out: Any, ctx: Any, x: Any, y: Any) -> Any:
        mine, other = (raw(x), raw(y)) if which == 0 else (raw(y), raw(x))
        beaten = mine < other if larger else mine > other
        share = np.where(beaten, 0.0, np.where(mine == other, 0.5, 1.0)).astype(raw(out).dtype)
        return g * share
    return vjp


maximum = Op("maximum", array=np.maximum, vjps=(_pick(0, True), _pick(1, True)))

minimum = Op("minimum", array=np.minimum, vjps=(_pick(0, False), _pick(1, False)))

# where(cond, x, y), ctx = the boolean condition array
where = Op("where", array=lambda x, y, cond: np.where(cond, x, y), vjps=(
    lambda g, out, cond, x, y: keep_where(g, cond),
    lambda g, out, cond, x, y: keep_where(g, ~cond)))

# -- comparisons and logic: boolean results, no gradient (never recorded) -----------------

eq = Op("eq", symbol="==", array=np.equal, vjps=())
ne = Op("ne", symbol="!=", array=np.not_equal, vjps=())
lt = Op("lt", symbol="<", array=np.less, vjps=())
le = Op("le", symbol="<=", array=np.less_equal, vjps=())
gt = Op("gt", symbol=">", array=np.greater, vjps=())
ge = Op("ge", symbol=">=", array=np.greater_equal, vjps=())
logical_and = Op("logical_and", symbol="&", array=np.logical_and, vjps=())
logical_or = Op("logical_or", symbol="|", array=np.logical_or, vjps=())
logical_xor = Op("logical_xor", symbol="^", array=np.logical_xor, vjps=())
logical_not = Op("logical_not", symbol="~", array=np.logical_not, vjps=())

# -- reductions ------------------------------------------------------------------------------

# ctx = (axis tuple or None, keepdims); ties share the gradient evenly, as for max
min_ = Op("min", array=lambda x, ctx: x.min(axis=ctx[0], keepdims=ctx[1]), vjps=(_max_vjp,))

# ctx = (axis int or None, keepdims); int64 indices of the first extreme, no gradient
argmax = Op("argmax", array=lambda x, ctx: x.argmax(axis=ctx[0], keepdims=ctx[1]), vjps=())
argmin = Op("argmin", array=lambda x, ctx: x.argmin(axis=ctx[0], keepdims=ctx[1]), vjps=())
all_ = Op("all", array=lambda x, ctx: x.all(axis=ctx[0], keepdims=ctx[1]), vjps=())
any_ = Op("any", array=lambda x, ctx: x.any(axis=ctx[0], keepdims=ctx[1]), vjps=())


def _var(x: np.ndarray, ctx: tuple) -> np.ndarray:
    axis, keepdims, dof = ctx
    centred = x - x.mean(axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # dof <= 0: inf or nan, as PyTorch
        return total(centred * centred, axis, keepdims) / np.asarray(dof, x.dtype)


def _centred(x: Any, axis: tuple[int, ...] | None) -> Any:
    return x - x.mean(axis=axis, keepdims=True)


# ctx = (axis, keepdims, max(0, n - correction) as a float): sum((x - mean)^2) / that
var = Op("var", array=_var, vjps=(
    lambda g, out, ctx, x: expand(g, x, ctx[:2]) * _centred(x, ctx[0]) * _div(2.0, ctx[2]),))

# the square root of var, one node (same ctx)
std = Op("std", array=lambda x, ctx: np.sqrt(_var(x, ctx)), vjps=(
    lambda g, out, ctx, x: divide(expand(g, x, ctx[:2]) * _centred(x, ctx[0]),
                                  expand(out, x, ctx[:2]) * ctx[2]),))


def _logsumexp(x: np.ndarray, ctx: tuple) -> np.ndarray:
    axis, keepdims = ctx
    m = x.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf): no shift, the answer is +-inf
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis)


# ctx = (axis tuple or None, keepdims); d/dx = softmax(x) over the axes
logsumexp = Op("logsumexp", array=_logsumexp, vjps=(
    lambda g, out, ctx, x: expand(g, x, ctx) * exp_of(x - expand(out, x, ctx)),))


def _prod_others(x: np.ndarray, axis: int) -> np.ndarray:
    """The product of all the other elements along ``axis``, for each element: exclusive
    running products from both ends, so zeros need no division."""
    x = np.moveaxis(x, axis, -1)
    ones = np.ones_like(x[..., :1])
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis(left * right, -1, axis)


def _prod_vjp(g: Any, out: Any, ctx: tuple, x: Any) -> Any:
    """g times the product of the other elements. On nodes (create_graph) it is out / x,
    which needs nonzero inputs; on arrays it is exact at zeros too."""
    axis, keepdims = ctx
    gx = expand(g, x, ((axis,), keepdims))
    if isinstance(x, Node):
        return gx * divide(expand(out, x, ((axis,), keepdims)), x)
    return gx * _prod_others(x, axis)


# ctx = (axis int, keepdims) (the tensor method flattens first for the product of all)
prod = Op("prod", array=lambda x, ctx: x.prod(axis=ctx[0], keepdims=ctx[1]), vjps=(_prod_vjp,))


def reverse_cumsum(g: Any, axis: int) -> Any:
    """Sums from the end along ``axis``: the adjoint of cumsum."""
    if isinstance(g, Node):
        return g.flip(axis).cumsum(axis).flip(axis)
    return np.flip(_cumsum(np.flip(g, axis), axis), axis)


def _cumsum(x: np.ndarray, axis: int) -> np.ndarray:
    """x.cumsum(axis), float16 summed in float32 (see `broadcast.total`)."""
    if x.dtype is _FLOAT16:
        return x.cumsum(axis, dtype=np.float32).astype(_FLOAT16)
    return x.cumsum(axis)


# ctx = the axis
cumsum = Op("cumsum", array=_cumsum, vjps=(
    lambda g, out, axis, x: reverse_cumsum(g, axis),))

# -- shape ---------------------------------------------------------------------------------------

# ctx = the axis tuple; flipping is its own adjoint
flip = Op("flip", array=lambda x, axes: np.flip(x, axes), vjps=(
    lambda g, out, axes, x: g.flip(axes) if isinstance(g, Node) else np.flip(g, axes),))


def _repeat_vjp(g: Any, out: Any, reps: tuple[int, ...], x: Any) -> Any:
    """Sum the copies: split each axis into (copies, size) and add over the copies."""
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    split = [n for r, s in zip(reps, shape) for n in (r, s)]
    return total(g.reshape(tuple(split)), tuple(range(0, len(split), 2))).reshape(x.shape)


# ctx = the repeat counts, one per axis of the result (PyTorch's repeat = np.tile)
repeat = Op("repeat", array=np.tile, vjps=(_repeat_vjp,))

# ctx = (NumPy pad widths per axis, fill value); the gradient is the unpadded middle
pad = Op("pad", array=lambda x, ctx: np.pad(x, ctx[0], constant_values=ctx[1]), vjps=(
    lambda g, out, ctx, x: g[tuple(slice(a, a + n) for (a, _), n in zip(ctx[0], x.shape))],))


def _cat_vjp(i: int, g: Any, out: Any, ctx: tuple, *xs: Any) -> Any:
    axis, offsets = ctx
    return g[(slice(None),) * axis + (slice(offsets[i], offsets[i + 1]),)]


# any number of inputs; ctx = (axis, the offsets where each input starts, then the end)
cat = Op("cat", array=lambda *xs: np.concatenate(xs[:-1], axis=xs[-1][0]),
         vjps=PerInput(_cat_vjp))  # type: ignore[arg-type]

# any number of inputs; ctx = the new axis
stack = Op("stack", array=lambda *xs: np.stack(xs[:-1], axis=xs[-1]), vjps=PerInput(  # type: ignore[arg-type]
    lambda i, g, out, axis, *xs: g[(slice(None),) * axis + (i,)]))

# -- losses ----------------------------------------------------------------------------------


class SavedSoftmax:
    """cross_entropy's ctx, made afresh for each call: its forward keeps softmax(logits)
    here so that its vjp, like a hand-written step, subtracts 1 at the labels instead of
    recomputing exp (a jit program keeps one and refills it at every replay)."""

    __slots__ = ("softmax", "rows")

    def __repr__(self) -> str:
        return "SavedSoftmax()"


def check_labels(t: np.ndarray, classes: int, who: str, what: str) -> None:
    """Refuse a class label outside [0, classes), naming the first one and its position."""
    unsigned = t.view(f"u{t.itemsize}") if t.dtype.kind == "i" else t  # a negative label is
    if unsigned.max() >= classes:                                       # huge unsigned: one pass
        i = int(np.flatnonzero((t < 0) | (t >= classes))[0])
        raise ValueError(f"{who}: target {int(t[i])} at position {i} is outside "
                         f"[0, {classes}) ({what} have {classes} classes)")


def _cross_entropy(x: np.ndarray, t: np.ndarray, saved: SavedSoftmax) -> np.ndarray:
    """mean(logsumexp(x[i]) - x[i, t[i]]) over the rows, with each row shifted by its max
    (no overflow); float16 is computed in float32, as PyTorch's CPU kernels do. The labels
    are checked here, not only by nn.cross_entropy, so a jit replay checks its own (and
    ``t.view`` keeps a jit from inlining this function: the program calls it by name).

    With fewer classes than rows it works on the transposed copy, classes as rows: NumPy
    reduces a short last axis row by row (the max over axis 1 of a (256, 10) float32 array
    takes 12 us, over axis 0 of its (10, 256) copy 1.5 us, the copy 1 us).
    """
    n, classes = x.shape
    check_labels(t, classes, "cross_entropy", "logits")
    wide = np.float32 if x.dtype is _FLOAT16 else None
    rows = np.arange(n)
    if classes < n:
        a, axis = np.ascontiguousarray(x.T, wide), 0
    else:
        a, axis = (x if wide is None else x.astype(wide)), 1
    shifted = a - a.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=axis, keepdims=True)
    picked = shifted[t, rows] if axis == 0 else shifted[rows, t]
    loss = (np.log(s).sum() - picked.sum()) / n  # two sums of terms >= 0: nothing cancels
    e /= s
    saved.softmax, saved.rows = (e.T if axis == 0 else e), rows
    return np.asarray(loss, x.dtype)


def _cross_entropy_vjp(g: Any, out: Any, saved: SavedSoftmax, x: Any, t: Any) -> Any:
    """(softmax(x) - onehot(t)) * g / N, from the softmax the forward kept; on nodes
    (create_graph) from a softmax node, so second derivatives flow through it."""
    n = len(x)
    if isinstance(g, Node):
        onehot = np.zeros(x.shape, x.dtype)
        onehot[saved.rows, raw(t)] = 1
        return (x.softmax(axis=1) - onehot) * (g / n)
    scale = g / n
    d = saved.softmax * scale
    d[saved.rows, t] -= scale
    return d  # F-ordered after the transposed forward (the matmuls and bias sum that read
    # it run faster so); float32 for float16 logits (the engine casts it back)


# logits (N, C) and N integer class labels (an input, not ctx: a jit program reads new
# labels at every replay) -> the mean negative log-likelihood; the labels have no
# gradient, so one vjp. ctx = a new SavedSoftmax.
cross_entropy = Op("cross_entropy", array=_cross_entropy, vjps=(_cross_entropy_vjp,))


def _nll_loss(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """mean(-x[i, t[i]]) over the rows (float16 summed in float32); the labels are checked
    here, so a jit replay checks its own, as cross_entropy's are."""
    n, classes = x.shape
    check_labels(t, classes, "nll_loss", "log_probs")
    picked = x[np.arange(n), t]
    return np.asarray(-picked.sum(dtype=np.float32 if x.dtype is _FLOAT16 else None) / n, x.dtype)


def _nll_loss_vjp(g: Any, out: Any, ctx: Any, x: Any, t: Any) -> Any:
    """-g / N at each row's label, 0 elsewhere (linear in g: on nodes, g times a constant)."""
    n = len(x)
    rows = np.arange(n)
    if isinstance(g, Node):
        onehot = np.zeros(x.shape, x.dtype)
        onehot[rows, raw(t)] = 1
        return (g / -n) * onehot
    d = np.zeros(x.shape, np.result_type(x.dtype, np.asarray(g).dtype))
    d[rows, t] = -g / n
    return d


def _labels_vjp(g: Any, out: Any, ctx: Any, x: Any, t: Any) -> Any:
    """Never called: integer labels cannot require a gradient (a binary op has two vjps)."""
    raise TypeError("nll_loss: class labels have no gradient")


# log-probabilities (N, C) and N integer class labels (an input, as cross_entropy's) -> the
# mean negative log-likelihood
nll_loss = Op("nll_loss", array=_nll_loss, vjps=(_nll_loss_vjp, _labels_vjp))
