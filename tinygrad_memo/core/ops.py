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
import operator
from typing import Any

import numpy as np

from .engine import Node, Op

# (A helper that takes a node calls a method Value or Tensor defines and Node does not:
# those lines carry "type: ignore[attr-defined]"; ops cannot import the node types.)

# -- helpers the vjps share ------------------------------------------------------------


def raw(x: Any) -> Any:
    """The raw number/array inside a node (vjps use it where no gradient should flow)."""
    return x.data if isinstance(x, Node) else x


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum ``g`` back to ``x``'s shape.

    A broadcast operand was used once per copy, so its gradient is the sum over the copies:
    over the leading axes broadcasting added and over the axes where ``x`` has size 1.
    """
    if x.__class__ is float:  # a Value's data: nothing to broadcast
        return g
    shape, gshape = x.shape, g.shape
    if gshape != shape:
        lead = len(gshape) - len(shape)
        if 1 not in shape:  # only leading axes were added (a bias, say): one sum, no reshape
            g = g.sum(axis=tuple(range(lead)))
        else:
            axes = tuple(range(lead)) + tuple(
                lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
            if axes:
                g = g.sum(axis=axes, keepdims=True)
            g = g.reshape(shape)
    return cast_like(g, x)


def cast_like(g: Any, x: Any) -> Any:
    """``g`` in ``x``'s dtype: an op on mixed dtypes (float32 with float64, int with float)
    computes in the wider one, but each input's gradient keeps the input's own dtype."""
    if not isinstance(g, Node) and g.dtype is not x.dtype:  # (a node gradient: kept as is)
        return g.astype(x.dtype)
    return g


def exp_of(x: Any) -> Any:
    return x.exp() if isinstance(x, Node) else np.exp(x)  # type: ignore[attr-defined]


def log_of(x: Any) -> Any:
    if isinstance(x, Node):
        return x.log()  # type: ignore[attr-defined]
    return _log(x) if x.__class__ is float else np.log(x)


def divide(x: Any, y: Any) -> Any:
    """x / y that, on floats, gives inf/nan for a zero divisor as NumPy does."""
    return _div(x, y) if y.__class__ is float else x / y


def power(x: Any, c: Any) -> Any:
    """x ** c that, on floats, gives nan (not a complex number) for a negative base."""
    return _pow(x, c) if x.__class__ is float else x ** c


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """``x`` (with ``len(shape)`` axes, size 1 where it repeats) repeated to ``shape``.

    On arrays it is np.broadcast_to's read-only view, built directly: the stretched axes get
    stride 0 (np.broadcast_to spends ~5 us in Python-level checks, more than a small sum).
    """
    if isinstance(x, Node):
        return x.broadcast_to(shape)  # type: ignore[attr-defined]
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
    except OverflowError:
        return math.inf
    except ValueError:  # 0 ** negative, or a negative base with a fractional exponent
        return math.inf if x == 0 else math.nan


def _sigmoid(x: float) -> float:
    return 0.5 * (math.tanh(0.5 * x) + 1.0)


# -- elementwise binary ops (broadcasting) ---------------------------------------------

add = Op("add", symbol="+", scalar=operator.add, array=np.add, vjps=(
    lambda g, out, ctx, x, y: unbroadcast(g, x),
    lambda g, out, ctx, x, y: unbroadcast(g, y)))

sub = Op("sub", symbol="-", scalar=operator.sub, array=np.subtract, vjps=(
    lambda g, out, ctx, x, y: unbroadcast(g, x),
    lambda g, out, ctx, x, y: unbroadcast(-g, y)))

mul = Op("mul", symbol="*", scalar=operator.mul, array=np.multiply, vjps=(
    lambda g, out, ctx, x, y: unbroadcast(g * y, x),
    lambda g, out, ctx, x, y: unbroadcast(g * x, y)))

div = Op("div", symbol="/", scalar=_div, array=np.divide, vjps=(
    lambda g, out, ctx, x, y: unbroadcast(divide(g, y), x),
    lambda g, out, ctx, x, y: unbroadcast(divide(-g * out, y), y)))

pow_ = Op("pow", symbol="**", scalar=_pow, array=np.power, vjps=(
    lambda g, out, ctx, x, y: unbroadcast(g * y * power(x, y - 1), x),
    lambda g, out, ctx, x, y: unbroadcast(g * out * log_of(x), y)))

# x ** c for a constant number c (kept in ctx, so no node is made for it); x ** 0 is the
# constant 1, so its derivative is 0 everywhere (0 * x ** -1 would be nan at x = 0)
pow_const = Op("pow", scalar=_pow, array=np.power, vjps=(
    lambda g, out, c, x: g * c * power(x, c - 1) if c != 0 else g * 0,))


def _matmul_grad(g: Any, x: Any, y: Any, which: int) -> Any:
    """d(x @ y) for NumPy's rules: 1-D operands get a unit axis, batch axes broadcast."""
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    y2 = y.reshape(-1, 1) if y.ndim == 1 else y
    batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
    g2 = g.reshape(batch + (x2.shape[-2], y2.shape[-1]))
    if which == 0:
        return unbroadcast(g2 @ swap_last(y2), x2).reshape(x.shape)
    return unbroadcast(swap_last(x2) @ g2, y2).reshape(y.shape)


def swap_last(x: Any) -> Any:
    """Transpose the last two axes (the matrix part of a batch of matrices)."""
    n = x.ndim
    return x.transpose(*range(n - 2), n - 1, n - 2)


matmul = Op("matmul", symbol="@", array=np.matmul, vjps=(
    lambda g, out, ctx, x, y: cast_like(g @ y.T, x) if x.ndim == 2 == y.ndim
    else _matmul_grad(g, x, y, 0),
    lambda g, out, ctx, x, y: cast_like(x.T @ g, y) if x.ndim == 2 == y.ndim
    else _matmul_grad(g, x, y, 1)))

# -- elementwise unary ops --------------------------------------------------------------

neg = Op("neg", symbol="neg", scalar=operator.neg, array=np.negative, vjps=(
    lambda g, out, ctx, x: -g,))

exp = Op("exp", scalar=_exp, array=np.exp, vjps=(
    lambda g, out, ctx, x: g * out,))

log = Op("log", scalar=_log, array=np.log, vjps=(
    lambda g, out, ctx, x: divide(g, x),))

tanh = Op("tanh", scalar=math.tanh, array=np.tanh, vjps=(
    lambda g, out, ctx, x: g * (1 - out * out),))

relu = Op("relu", symbol="ReLU", scalar=lambda x: x if x > 0 else 0.0, array=lambda x: np.maximum(x, 0),
          vjps=(lambda g, out, ctx, x: g * (raw(x) > 0),))

sigmoid = Op("sigmoid", scalar=_sigmoid, array=lambda x: 0.5 * (np.tanh(0.5 * x) + 1), vjps=(
    lambda g, out, ctx, x: g * out * (1 - out),))

sqrt = Op("sqrt", array=np.sqrt, vjps=(
    lambda g, out, ctx, x: divide(g * 0.5, out),))

abs_ = Op("abs", array=np.abs, vjps=(
    lambda g, out, ctx, x: g * np.sign(raw(x)),))

# -- reductions (ctx = (axis tuple or None, keepdims)) ----------------------------------

sum_ = Op("sum", array=lambda x, ctx: x.sum(axis=ctx[0], keepdims=ctx[1]), vjps=(
    lambda g, out, ctx, x: expand(g, x, ctx[:2]),))

_FLOAT16 = np.dtype(np.float16)


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


max_ = Op("max", array=lambda x, ctx: x.max(axis=ctx[0], keepdims=ctx[1]),
          vjps=(_max_vjp,))

# -- shape ops ---------------------------------------------------------------------------

reshape = Op("reshape", array=lambda x, shape: x.reshape(shape), vjps=(  # ctx = the new shape
    lambda g, out, ctx, x: g.reshape(x.shape),))

transpose = Op("transpose", array=lambda x, axes: x.transpose(axes), vjps=(  # ctx = the permutation
    lambda g, out, axes, x: g.transpose(*np.argsort(axes)),))

broadcast = Op("broadcast_to", array=np.broadcast_to, vjps=(  # ctx = the new shape
    lambda g, out, shape, x: unbroadcast(g, x),))


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
        return g._scatter(index, shape, repeats)  # type: ignore[attr-defined]
    return scatter_array(g, index, shape, repeats)


# x[index], ctx = (index, repeats): a picked element gets the gradient of each pick
getitem = Op("getitem", array=lambda x, ctx: x[ctx[0]], vjps=(
    lambda g, out, ctx, x: scatter_grad(g, ctx[0], x.shape, ctx[1]),))

# the adjoint of getitem (ctx = (index, shape, repeats)); needed for gradients of gradients
scatter = Op("scatter", array=lambda x, ctx: scatter_array(x, *ctx), vjps=(
    lambda g, out, ctx, x: g[ctx[0]],))

# -- softmax family (ctx = the axis tuple) -------------------------------------------------


def _softmax(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


softmax = Op("softmax", array=_softmax, vjps=(
    lambda g, out, axis, x: out * (g - (g * out).sum(axis=axis, keepdims=True)),))

log_softmax = Op("log_softmax", array=_log_softmax, vjps=(
    lambda g, out, axis, x: g - exp_of(out) * g.sum(axis=axis, keepdims=True),))
