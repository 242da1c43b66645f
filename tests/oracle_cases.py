"""The table that tests/test_torch_oracle.py runs against PyTorch: one row per op or loss.

Adding an op's differential tests is one `Case` row in `CASES`: what it computes here
(``ours``, on Tensors), the same in PyTorch (``theirs``, on torch tensors), and how its
inputs are drawn (``inputs``, a key of ``INPUTS`` in test_torch_oracle.py). Extra keyword
arguments (an axis, an exponent, a Python number) come from ``params(shapes)``, a function
returning a Hypothesis strategy of dicts, and go to both functions. How close counts as
"agree" is declared once, in `TOLERANCE`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from tinygrad_memo import nn, where

# -- how close is "agree": per dtype, overridden per (op, dtype) -------------------------
# (rtol, atol) for |ours - torch| <= atol + rtol * |torch|, applied to forward values,
# gradients and second derivatives alike. The atol is far below the dtype's resolution
# near 1, so a relative error (sigmoid(-20) computed as 0) is never hidden by it; ops
# whose results cancel (sums, softmax, matmul) scale it by the largest |torch| value.
TOLERANCE: dict[Any, tuple[float, float]] = {
    np.float16: (4e-3, 1e-7),
    np.float32: (2e-5, 1e-30),
    np.float64: (1e-10, 1e-300),
}
OVERRIDES: dict[tuple[str, Any], tuple[float, float]] = {
    # float16 results that go through two roundings here (NumPy rounds each ufunc's
    # float32 result) but one in PyTorch (one float32 kernel per op, one rounding)
    ("pow", np.float16): (1e-2, 1e-7),
    ("pow_const", np.float16): (1e-2, 1e-7),
    ("rpow", np.float16): (1e-2, 1e-7),
    ("log_softmax", np.float16): (1e-2, 1e-7),
    ("div", np.float16): (1e-2, 1e-7),
    ("softmax", np.float16): (1e-2, 1e-7),
    ("cross_entropy", np.float16): (1e-2, 1e-7),
    ("cross_entropy_probs", np.float16): (1e-2, 1e-7),
    ("mse_loss", np.float16): (1e-2, 1e-7),
}


def tolerance(op: str, dtype: Any) -> tuple[float, float]:
    dtype = np.dtype(dtype).type
    return OVERRIDES.get((op, dtype), TOLERANCE.get(dtype, TOLERANCE[np.float32]))


@dataclass(frozen=True)
class Case:
    """One op or loss, as computed here and in PyTorch."""

    name: str
    ours: Callable[..., Any]
    theirs: Callable[..., Any]
    inputs: str = "unary"          # how the arrays are drawn (INPUTS in test_torch_oracle.py)
    params: Callable[[tuple], st.SearchStrategy[dict]] | None = None
    ints: bool = True              # also run on int64 and bool inputs (forward values)
    grad: bool = True              # compare gradients (float inputs)
    second: bool = True            # compare second derivatives (create_graph=True)
    cancels: bool = False          # results may cancel: atol scales with the largest |value|
    # False: no finite inputs below sqrt(smallest normal) in magnitude or above its inverse.
    # PyTorch computes c / x as c * (1 / x) and its gradient with (1 / x)**2, which overflow
    # or underflow there (NaN or 0 where this library's IEEE division gives the exact value).
    tiny: bool = True
    value: Callable[..., Any] | None = None  # the same on Values (compared in float64)
    # False: a Value's second derivatives are not compared where an input (or the number
    # parameter) is 0 or within sqrt(float64 eps) of it. pow: where PyTorch masks its
    # derivative formulas (exponent 0, base 0) its second derivatives are NaN (0 * inf inside
    # the mask), a Value's the constant's, 0; and near base 0 they are differences of terms
    # ~ y / x**2 whose rounding (eps * y / x**2) depends on the order they are summed in.
    value_second_near_zero: bool = True
    # True: where products overflow to infinities of both signs, one library's sum is NaN
    # and the other's +-inf: each BLAS accumulates a dot product in its own order, with
    # fused multiply-adds (2 * max + -2 * max: inf after an FMA, NaN after two roundings).
    overflow_order: bool = False

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        return f"Case({self.name!r})"


# -- parameter strategies ----------------------------------------------------------------
# Python numbers on the other side of an operator: the float16 rounding trap (70000.),
# signed zeros, infinities and NaN, tiny and huge magnitudes.
NUMBERS = st.sampled_from([2.0, 0.5, -1.5, 3, -2, 0.0, -0.0, 70000.0, 1e-8, 1e30, -1e30,
                           math.inf, -math.inf, math.nan])
EXPONENTS = st.sampled_from([0, 1, 2, 3, -1, -2, 0.5, -0.5, -1.5, 1.5, 2.5, 0.0, 3.0])
BASES = st.sampled_from([2.0, 0.5, 1.0, 0.0, 10.0, math.e, -2.0])


def number(_shapes: tuple) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"c": NUMBERS})


def finite_number(_shapes: tuple) -> st.SearchStrategy[dict]:
    """NUMBERS without +-inf, for c / x: PyTorch's gradient -(g * c) * (1 / x)**2 is
    inf * 0 = NaN where 1 / x**2 underflows, this library's IEEE -g * (c / x) / x is -inf
    (a deliberate difference, docs/guarantees.md; float16 follows PyTorch bit for bit,
    tests/test_trust_fixes.py checks c = inf there)."""
    return st.fixed_dictionaries({"c": NUMBERS.filter(lambda c: not math.isinf(c))})


def exponent(_shapes: tuple) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"c": EXPONENTS})


def base(_shapes: tuple) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"c": BASES})


def reduction(shapes: tuple) -> st.SearchStrategy[dict]:
    """axis None, one axis (possibly negative) or a non-empty tuple; keepdims either way."""
    (shape,) = shapes
    n = len(shape)
    axes: list[st.SearchStrategy] = [st.none()]
    if n:
        axes.append(st.integers(-n, n - 1))
        axes.append(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)
                    .map(tuple))
    else:
        axes.append(st.sampled_from([0, -1]))  # a 0-d tensor takes axis 0 or -1, as in PyTorch
    return st.fixed_dictionaries({"axis": st.one_of(axes), "keepdims": st.booleans()})


def one_axis(shapes: tuple) -> st.SearchStrategy[dict]:
    (shape,) = shapes
    n = max(len(shape), 1)
    return st.fixed_dictionaries({"axis": st.integers(-n, n - 1)})


def new_shape(shapes: tuple) -> st.SearchStrategy[dict]:
    (shape,) = shapes
    size = math.prod(shape)
    options = [(size,), (-1,), tuple(reversed(shape)), (1, *shape, 1)]
    if size:
        options.append((size, -1))
    return st.fixed_dictionaries({"shape": st.sampled_from(options)})


def permutation(shapes: tuple) -> st.SearchStrategy[dict]:
    (shape,) = shapes
    return st.fixed_dictionaries({"axes": st.permutations(range(len(shape))).map(tuple)})


def target_shape(shapes: tuple) -> st.SearchStrategy[dict]:
    """A shape ``shape`` broadcasts to: new leading axes, size-1 axes stretched (or to 0)."""
    (shape,) = shapes
    lead = st.lists(st.integers(0, 3), max_size=2).map(tuple)
    body = st.tuples(*[st.integers(0, 3) if n == 1 else st.just(n) for n in shape])
    return st.fixed_dictionaries({"shape": st.tuples(lead, body).map(lambda p: p[0] + p[1])})


def index(shapes: tuple) -> st.SearchStrategy[dict]:
    """Basic indices (ints, slices, None, Ellipsis) or an integer array that repeats."""
    from hypothesis.extra import numpy as hnp
    (shape,) = shapes
    # (positive slice steps only: PyTorch has no negative steps; NumPy's are allowed here)
    basic = hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).filter(
        lambda i: all(k.step is None or k.step > 0 for k in (i if isinstance(i, tuple) else (i,))
                      if isinstance(k, slice)))
    options = [basic]
    if shape and shape[0]:
        options.append(st.lists(st.integers(-shape[0], shape[0] - 1), max_size=5)
                       .map(lambda i: np.array(i, dtype=np.int64)))
    return st.fixed_dictionaries({"index": st.one_of(options)})


def _torch_reduce(fn: str) -> Callable[..., Any]:
    def reduce(t: Any, axis: Any, keepdims: bool) -> Any:
        if axis is None:
            axis = tuple(range(t.ndim)) if t.ndim else None
        if axis is None:  # a 0-d tensor, all axes: nothing to reduce
            return getattr(t, fn)()
        return getattr(t, fn)(dim=axis, keepdim=keepdims)
    return reduce


def _torch_index(t: Any, index: Any) -> Any:
    import torch
    if isinstance(index, np.ndarray):
        return t[torch.from_numpy(index)]
    return t[index]


def _torch() -> Any:
    import torch
    return torch


def _as_torch(c: Any, t: Any) -> Any:
    """A number as the 0-d tensor torch.maximum needs: in t's dtype if t holds floats (so it
    is rounded as this library rounds a number next to a tensor), else PyTorch's default."""
    return _torch().tensor(c, dtype=t.dtype if t.is_floating_point() else None)


def _torch_nn() -> Any:
    import torch.nn.functional as F
    return F


def _hinge_reference(s: Any, y: Any) -> Any:
    """PyTorch has no hinge loss on {-1, +1} labels: its formula, in torch ops."""
    return (1 - s * y).relu().mean()


CASES: list[Case] = [
    # elementwise, one input
    Case("neg", lambda x: -x, lambda t: -t, value=lambda v: -v),
    Case("exp", lambda x: x.exp(), lambda t: t.exp(), value=lambda v: v.exp()),
    Case("log", lambda x: x.log(), lambda t: t.log(), value=lambda v: v.log()),
    Case("tanh", lambda x: x.tanh(), lambda t: t.tanh(), value=lambda v: v.tanh()),
    Case("relu", lambda x: x.relu(), lambda t: t.relu(), value=lambda v: v.relu()),
    Case("sigmoid", lambda x: x.sigmoid(), lambda t: t.sigmoid(), value=lambda v: v.sigmoid()),
    Case("sqrt", lambda x: x.sqrt(), lambda t: t.sqrt()),
    Case("abs", lambda x: x.abs(), lambda t: t.abs()),
    # a tensor and a Python number
    Case("add_number", lambda x, c: x + c, lambda t, c: t + c, params=number,
         value=lambda v, c: v + c),
    Case("radd_number", lambda x, c: c + x, lambda t, c: c + t, params=number),
    Case("sub_number", lambda x, c: x - c, lambda t, c: t - c, params=number,
         value=lambda v, c: v - c),
    Case("rsub_number", lambda x, c: c - x, lambda t, c: c - t, params=number,
         value=lambda v, c: c - v),
    Case("mul_number", lambda x, c: x * c, lambda t, c: t * c, params=number,
         value=lambda v, c: v * c),
    Case("rmul_number", lambda x, c: c * x, lambda t, c: c * t, params=number),
    Case("div_number", lambda x, c: x / c, lambda t, c: t / c, params=number,
         value=lambda v, c: v / c),
    Case("rdiv_number", lambda x, c: c / x, lambda t, c: c / t, params=finite_number,
         value=lambda v, c: c / v, tiny=False),
    Case("pow_const", lambda x, c: x ** c, lambda t, c: t ** c, params=exponent,
         value=lambda v, c: v ** c),
    Case("rpow", lambda x, c: c ** x, lambda t, c: c ** t, params=base,
         value=lambda v, c: c ** v, value_second_near_zero=False),
    Case("lt_number", lambda x, c: x < c, lambda t, c: t < c, params=number, grad=False),
    Case("eq_number", lambda x, c: x == c, lambda t, c: t == c, params=number, grad=False),
    Case("clamp_min_number", lambda x, c: x.clamp(min=c), lambda t, c: t.clamp(min=c),
         params=number),
    Case("clamp_max_number", lambda x, c: x.clamp(max=c), lambda t, c: t.clamp(max=c),
         params=number),
    Case("where_number", lambda x, c: where(x > 0, x, c), lambda t, c: _torch().where(t > 0, t, c),
         params=number),
    Case("rwhere_number", lambda x, c: where(x > 0, c, x), lambda t, c: _torch().where(t > 0, c, t),
         params=number),
    Case("maximum_number", lambda x, c: x.maximum(c), lambda t, c: _torch().maximum(t, _as_torch(c, t)),
         params=number),
    Case("minimum_number", lambda x, c: x.minimum(c), lambda t, c: _torch().minimum(t, _as_torch(c, t)),
         params=number),
    # elementwise, two inputs, broadcasting both ways
    Case("add", lambda x, y: x + y, lambda s, t: s + t, "binary", value=lambda u, v: u + v),
    Case("sub", lambda x, y: x - y, lambda s, t: s - t, "binary", value=lambda u, v: u - v),
    Case("mul", lambda x, y: x * y, lambda s, t: s * t, "binary", value=lambda u, v: u * v),
    Case("div", lambda x, y: x / y, lambda s, t: s / t, "binary", value=lambda u, v: u / v),
    Case("pow", lambda x, y: x ** y, lambda s, t: s ** t, "binary", value=lambda u, v: u ** v,
         value_second_near_zero=False),
    Case("matmul", lambda x, y: x @ y, lambda s, t: s @ t, "matmul", cancels=True,
         overflow_order=True),
    # reductions
    Case("sum", lambda x, axis, keepdims: x.sum(axis, keepdims), _torch_reduce("sum"),
         params=reduction, cancels=True),
    Case("mean", lambda x, axis, keepdims: x.mean(axis, keepdims), _torch_reduce("mean"),
         params=reduction, cancels=True, ints=False),
    Case("max", lambda x, axis, keepdims: x.max(axis, keepdims), _torch_reduce("amax"),
         params=reduction),
    # shapes
    Case("reshape", lambda x, shape: x.reshape(shape), lambda t, shape: t.reshape(shape),
         params=new_shape),
    Case("transpose", lambda x, axes: x.transpose(axes), lambda t, axes: t.permute(axes),
         params=permutation),
    Case("T", lambda x: x.T, lambda t: t.permute(tuple(reversed(range(t.ndim))))),
    Case("broadcast_to", lambda x, shape: x.broadcast_to(shape),
         lambda t, shape: t.broadcast_to(shape), params=target_shape),
    Case("getitem", lambda x, index: x[index], _torch_index, params=index),
    # softmax family
    Case("softmax", lambda x, axis: x.softmax(axis), lambda t, axis: t.softmax(axis),
         params=one_axis, ints=False, cancels=True),
    Case("log_softmax", lambda x, axis: x.log_softmax(axis),
         lambda t, axis: t.log_softmax(axis), params=one_axis, ints=False, cancels=True),
    # losses
    Case("mse_loss", nn.mse_loss, lambda s, t: _torch_nn().mse_loss(s, t), "pairs",
         ints=False, cancels=True),
    Case("cross_entropy", nn.cross_entropy,
         lambda s, t: _torch_nn().cross_entropy(s, t), "labels", ints=False, cancels=True),
    Case("cross_entropy_probs", nn.cross_entropy,
         lambda s, t: _torch_nn().cross_entropy(s, t), "probabilities", ints=False,
         cancels=True),
    Case("hinge_loss", nn.hinge_loss, _hinge_reference, "signs", ints=False, cancels=True),
]
