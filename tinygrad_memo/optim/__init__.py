"""Optimizers: `SGD`, `Adam` and `AdamW` with PyTorch's exact update rules; learning-rate
schedules in `lr_scheduler`.

Both work on `Value` parameters (float data and grad) and `Tensor` parameters (array data,
grad None or an array). The rules are written with plain arithmetic that floats and arrays
share, so one line of math serves both. A ``.grad`` array is never modified in place: it
belongs to the user, who may still be reading it.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

from ..core.tensor import Tensor
from ..core.value import Value
from . import lr_scheduler

Params = Iterable[Value | Tensor]


def _check_params(params: Params, who: str) -> list[Value | Tensor]:
    if isinstance(params, (Tensor, Value)):  # iterating a Tensor would give non-leaf rows
        raise TypeError(f"{who}: params must be an iterable of Tensors or Values, got a "
                        f"single {type(params).__name__}; pass [param]")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{who}: params must be an iterable of Tensors or Values, got "
                        f"{type(params).__name__}") from None
    if not items:
        raise ValueError(f"{who}: got an empty parameter list")
    seen: set[int] = set()
    for i, p in enumerate(items):
        if isinstance(p, Tensor):
            if not p.requires_grad:
                raise ValueError(f"{who}: parameter {i} is a Tensor that does not require grad")
            if p.dtype.kind != "f":
                raise ValueError(f"{who}: parameter {i} has dtype {p.dtype}, expected floats")
        elif not isinstance(p, Value):
            raise TypeError(f"{who}: parameter {i} is {type(p).__name__}, expected a Value or Tensor")
        if not p.is_leaf:  # the result of an op: updating it would not change the model
            raise ValueError(f"{who}: parameter {i} is not a leaf (it was computed by "
                             f"{getattr(p._fn, 'name', 'an op')}); an optimizer can only update leaves")
        if id(p) in seen:
            raise ValueError(f"{who}: parameter {i} appears more than once in the list")
        seen.add(id(p))
    return items


def _check_number(who: str, name: str, value: Any, low: float = 0.0,
                  high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{who}: {name} must be finite, got {value!r}")
    if not v >= low or (high is not None and not v < high):
        where = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{who}: {name} must be {where}, got {value!r}")
    return v


def _check_grad(p: Value | Tensor, g: Any, i: int, who: str) -> Any:
    """``p.grad`` as the optimizer uses it, or a ValueError: a gradient of another shape
    would broadcast into the parameter and update it with the wrong numbers."""
    if isinstance(p, Value):
        if isinstance(g, bool) or not isinstance(g, numbers.Real):
            raise TypeError(f"{who}: parameter {i} ({p.label or 'a Value'}) has a .grad of "
                            f"type {type(g).__name__}, expected a number")
        return g
    g = np.asarray(g.data if isinstance(g, Tensor) else g)
    if g.dtype.kind not in "fiu":
        raise TypeError(f"{who}: parameter {i} has a .grad of dtype {g.dtype}, expected numbers")
    if g.shape != p.shape:
        raise ValueError(f"{who}: parameter {i} has shape {p.shape} but its .grad has shape "
                         f"{g.shape}; they must match")
    return g


def _update(p: Value | Tensor, delta: Any) -> None:
    """``p.data -= delta``: in place for a writable array (keeping its dtype), else rebound."""
    if isinstance(p, Value):
        p.data = float(p.data - delta)
    elif p.data.flags.writeable:
        np.subtract(p.data, delta, out=p.data, casting="unsafe")
    else:
        p.data = (p.data - delta).astype(p.dtype)


class Optimizer:
    """Holds the parameters and per-parameter state; subclasses define ``_step_one``."""

    def __init__(self, params: Params, lr: float) -> None:
        who = type(self).__name__
        self.params = _check_params(params, who)
        self.lr = _check_number(who, "lr", lr)
        self.state: dict[int, dict[str, Any]] = {}  # id(param) -> momentum buffers, step count

    def zero_grad(self) -> None:
        """Clear every parameter's gradient (Value: 0.0, Tensor: None)."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """One update of every parameter that has a gradient (a Tensor whose grad is None is
        skipped, as in PyTorch)."""
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            g = _check_grad(p, g, i, type(self).__name__)
            self._step_one(p, g, self.state.setdefault(id(p), {}))

    def _step_one(self, p: Value | Tensor, g: Any, state: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay (PyTorch's rule):

    ``g = grad + weight_decay * p``; ``buf = g`` on the first step, then
    ``buf = momentum * buf + (1 - dampening) * g``; ``p -= lr * buf``, or with ``nesterov``
    ``p -= lr * (g + momentum * buf)`` (``p -= lr * g`` without momentum).
    """

    def __init__(self, params: Params, lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("SGD", "momentum", momentum)
        self.weight_decay = _check_number("SGD", "weight_decay", weight_decay)
        self.dampening = _check_number("SGD", "dampening", dampening)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov momentum requires a momentum and zero dampening, "
                             f"got momentum={momentum!r}, dampening={dampening!r}")

    def _step_one(self, p: Value | Tensor, g: Any, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            buf = state.get("momentum_buffer")
            buf = g if buf is None else self.momentum * buf + (1 - self.dampening) * g
            state["momentum_buffer"] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        _update(p, self.lr * g)


class Adam(Optimizer):
    """Adam (Kingma & Ba) exactly as PyTorch computes it, with L2 ``weight_decay``:

    ``g = grad + weight_decay * p``; ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`` at step ``t = 1, 2, ...``.
    """

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"Adam: betas must be a pair of numbers, got {betas!r}") from None
        self.betas = (_check_number("Adam", "betas[0]", b1, 0.0, 1.0),
                      _check_number("Adam", "betas[1]", b2, 0.0, 1.0))
        self.eps = _check_number("Adam", "eps", eps)
        self.weight_decay = _check_number("Adam", "weight_decay", weight_decay)

    def _step_one(self, p: Value | Tensor, g: Any, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        self._adam_update(p, g, state)

    def _adam_update(self, p: Value | Tensor, g: Any, state: dict[str, Any]) -> None:
        """The Adam step proper: moments, bias corrections, the update of ``p``."""
        b1, b2 = self.betas
        t = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = b1 * state.get("exp_avg", 0.0) + (1 - b1) * g
        v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0.0) + (1 - b2) * (g * g)
        denom = v ** 0.5 / (1 - b2 ** t) ** 0.5 + self.eps
        _update(p, (self.lr / (1 - b1 ** t)) * m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch computes it:

    first ``p -= lr * weight_decay * p`` (the decay does not pass through the moments, so it
    shrinks every weight at the same rate), then the Adam step with the plain gradient.
    """

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _step_one(self, p: Value | Tensor, g: Any, state: dict[str, Any]) -> None:
        if self.weight_decay:
            _update(p, (self.lr * self.weight_decay) * p.data)
        self._adam_update(p, g, state)



__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
