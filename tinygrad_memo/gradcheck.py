"""Trust, but verify: compare the engine's gradients with central finite differences.

``(f(x + eps) - f(x - eps)) / (2 eps)`` needs no calculus at all, so agreement with it is
evidence that every vjp on the way is right. Non-scalar outputs are reduced with a fixed
random weighting ``sum(w * f(x))`` so that every output element takes part.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np

from .core.engine import Node, grad
from .core.tensor import Tensor
from .core.value import Value


class GradcheckError(AssertionError):
    """An analytic gradient disagreed with the finite-difference one."""


def _check_inputs(inputs: Sequence[Any]) -> list[Node]:
    try:
        items = [inputs] if isinstance(inputs, Node) else list(inputs)
    except TypeError:
        raise TypeError(f"gradcheck: inputs must be a Value, a Tensor or a list of them, got "
                        f"{type(inputs).__name__}") from None
    if not items:
        raise ValueError("gradcheck: no inputs to check")
    for i, x in enumerate(items):
        if isinstance(x, Tensor):
            if x.dtype != np.float64:
                raise ValueError(f"gradcheck: input {i} is {x.dtype}; finite differences need "
                                 "float64 tensors (Tensor(data, dtype=np.float64))")
            if not x.requires_grad:
                raise ValueError(f"gradcheck: input {i} does not require grad")
        elif not isinstance(x, Value):
            raise TypeError(f"gradcheck: input {i} is {type(x).__name__}, expected a Value or Tensor")
    return items


def _check_call(fn: Any, eps: Any, **tolerances: Any) -> None:
    """``fn`` is callable and each of eps, atol, rtol a finite number (eps > 0)."""
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be callable, got {type(fn).__name__}")
    for name, value in {"eps": eps, **tolerances}.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or value < 0 or (name == "eps" and value == 0):
            raise ValueError(f"gradcheck: {name} must be a finite number"
                             f"{' > 0' if name == 'eps' else ' >= 0'}, got {value!r}")


def _weights(out: Node) -> Any:
    """Fixed pseudo-random weights for the output elements (1.0 for a scalar output)."""
    if not isinstance(out, Tensor) or out.size == 1:  # a Value, or one element
        return None
    return np.random.default_rng(0).uniform(0.5, 1.5, out.shape).astype(out.dtype)


def _scalar(out: Any, w: Any) -> float:
    """The number finite differences look at: sum(w * out)."""
    if not isinstance(out, Node):
        raise TypeError(f"gradcheck: fn must return a Value or Tensor, got {type(out).__name__}")
    if w is None:
        return float(out.data) if isinstance(out, Value) else float(out.data.sum())
    w = np.asarray(w.data if isinstance(w, Node) else w, dtype=np.float64)
    if w.shape != np.shape(out.data):
        raise ValueError(f"numerical_grad: grad_output has shape {w.shape} but fn returns "
                         f"shape {np.shape(out.data)}; they must match")
    return float((out.data * w).sum())


def numerical_grad(fn: Callable[..., Node], inputs: Sequence[Node], eps: float = 1e-6,
                   grad_output: Any = None) -> list[Any]:
    """Central-difference gradients of ``sum(grad_output * fn(*inputs))`` for each input.

    ``grad_output`` defaults to ones, i.e. the gradient of the sum of the outputs. A
    Tensor input's data is swapped for a writable copy while its elements are nudged by
    +-eps, and the original array is put back afterwards: nudging the caller's array in
    place would miss a transposed view (reshape copies it), fail on a read-only one, and
    move every alias of a broadcast one at once.
    """
    _check_call(fn, eps)
    items = _check_inputs(inputs)
    result: list[Any] = []
    for x in items:
        if isinstance(x, Value):
            x0 = x.data
            x.data = x0 + eps
            hi = _scalar(fn(*items), grad_output)
            x.data = x0 - eps
            lo = _scalar(fn(*items), grad_output)
            x.data = x0
            result.append((hi - lo) / (2 * eps))
            continue
        original = x.data
        nudged = x.data = np.array(original, order="C")  # writable, no aliases
        flat = nudged.reshape(-1)  # a view of the copy: writing it nudges x
        g = np.zeros_like(nudged)
        try:
            for k in range(flat.size):
                x0 = flat[k]
                flat[k] = x0 + eps
                hi = _scalar(fn(*items), grad_output)
                flat[k] = x0 - eps
                lo = _scalar(fn(*items), grad_output)
                flat[k] = x0
                g.reshape(-1)[k] = (hi - lo) / (2 * eps)
        finally:
            x.data = original
        result.append(g)
    return result


def gradcheck(fn: Callable[..., Node], inputs: Sequence[Node], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """True if the engine's gradient of ``fn(*inputs)`` matches central differences.

    Every element of every input is checked: ``|analytic - numeric| <= atol + rtol * |numeric|``.
    On the first mismatch, raises `GradcheckError` naming the input, the element index, both
    numbers and their difference (or returns False with ``raise_exception=False``).
    """
    _check_call(fn, eps, atol=atol, rtol=rtol)
    items = _check_inputs(inputs)
    out = fn(*items)
    if not isinstance(out, Node):
        raise TypeError(f"gradcheck: fn must return a Value or Tensor, got {type(out).__name__}")
    w = _weights(out)
    analytic = grad(out, items, grad_output=w)
    numeric = numerical_grad(fn, items, eps, grad_output=w)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
        bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
        bad &= ~(np.isnan(a) & np.isnan(n))
        if bad.any():
            idx = tuple(int(k) for k in np.argwhere(bad)[0])
            an, nu = float(a[idx]), float(n[idx])
            where = f"element {idx}" if idx else "its value"
            msg = (f"gradcheck: input {i}, {where}: analytic gradient {an:.8g} but numeric "
                   f"{nu:.8g} (difference {abs(an - nu):.3g}, allowed {atol + rtol * abs(nu):.3g})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
