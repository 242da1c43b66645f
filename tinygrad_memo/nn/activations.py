"""Activation layers with PyTorch's names: `ReLU`, `Tanh`, `Sigmoid`, `LeakyReLU`, `ELU`,
`SiLU`, `Softplus`, `Softmax`, `LogSoftmax`.

Each is a `Module` around Tensor ops, so it can sit in a `Sequential` and be saved. Where a
function has a kink (LeakyReLU, ELU at 0) the slope is chosen by a constant mask taken from
the input, which gives PyTorch's gradient there, not the 0 that relu(x) - a*relu(-x) would.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from .containers import _as_tensor
from .module import Module


def softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))`` without overflow, with the exact gradient ``sigmoid(x)``.

    Why this form: with the constant ``m = max(x, 0)`` it is ``m + log(exp(-m) + exp(x - m))``,
    whose exponentials never exceed 1, and whose derivative is sigmoid(x) even at x = 0
    (relu(x) + log(1 + exp(-|x|)) has slope 0 there, where the true slope is 1/2).
    """
    m = np.maximum(x.data, 0)
    return ((x - m).exp() + np.exp(-m)).log() + m


def _number(who: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise ValueError(f"{who}: {name} must be a finite number, got {value!r}")
    return float(value)


class _Activation(Module):
    """An elementwise function without parameters (subclasses define `_apply`)."""

    def forward(self, x: Any) -> Tensor:
        return self._apply(_as_tensor(x))

    def _apply(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {}


class ReLU(_Activation):
    """``max(x, 0)``."""

    def _apply(self, x: Tensor) -> Tensor:
        return x.relu()


class Tanh(_Activation):
    """``tanh(x)``."""

    def _apply(self, x: Tensor) -> Tensor:
        return x.tanh()


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))``."""

    def _apply(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class SiLU(_Activation):
    """``x * sigmoid(x)`` (also called swish)."""

    def _apply(self, x: Tensor) -> Tensor:
        return x * x.sigmoid()


class Softplus(_Activation):
    """``log(1 + exp(x))``, a smooth ReLU (PyTorch's default beta=1)."""

    def _apply(self, x: Tensor) -> Tensor:
        return softplus(x)


class LeakyReLU(_Activation):
    """``x`` where ``x > 0``, else ``negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)

    def _apply(self, x: Tensor) -> Tensor:
        return x * np.where(x.data > 0, 1, self.negative_slope).astype(x.dtype)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class ELU(_Activation):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = _number("ELU", "alpha", alpha)

    def _apply(self, x: Tensor) -> Tensor:
        positive = (x.data > 0).astype(x.dtype)
        return x * positive + ((x * (1 - positive)).exp() - 1) * self.alpha

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Softmax(_Activation):
    """``softmax`` along ``dim``: each slice becomes probabilities that sum to 1."""

    def __init__(self, dim: int = -1) -> None:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"{type(self).__name__}: dim must be an integer, got {dim!r}")
        self.dim: int = int(dim)

    def _apply(self, x: Tensor) -> Tensor:
        return x.softmax(self.dim)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}


class LogSoftmax(Softmax):
    """``log_softmax`` along ``dim`` (computed stably, not as the log of softmax)."""

    def _apply(self, x: Tensor) -> Tensor:
        return x.log_softmax(self.dim)
