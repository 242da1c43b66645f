"""Activation layers with PyTorch's names: `ReLU`, `Tanh`, `Sigmoid`, `GELU`, `SiLU`,
`Softplus`, `LeakyReLU`, `ELU`, `Softmax`, `LogSoftmax`.

Each is a `Module` around the Tensor op of the same name, so it can sit in a `Sequential`
and be saved. ELU has no op of its own: its slope at the kink is chosen by a constant mask
taken from the input, which gives PyTorch's gradient there (alpha at 0).
"""
from __future__ import annotations

import math
import numbers
from typing import Any


from ..core.tensor import Tensor
from .containers import _as_tensor
from .module import Module


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
        return x.silu()


class GELU(_Activation):
    """``x * Phi(x)``, Phi the normal CDF (exact, via erf), or PyTorch's tanh approximation
    with ``approximate="tanh"``."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def _apply(self, x: Tensor) -> Tensor:
        return x.gelu(self.approximate)

    def config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


class Softplus(_Activation):
    """``log(1 + exp(beta x)) / beta``, a smooth ReLU; ``x`` itself where ``beta x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        self.beta = _number("Softplus", "beta", beta)
        self.threshold = _number("Softplus", "threshold", threshold)
        if self.beta == 0:
            raise ValueError("Softplus: beta must be nonzero")

    def _apply(self, x: Tensor) -> Tensor:
        return x.softplus(self.beta, self.threshold)

    def config(self) -> dict[str, Any]:
        return {"beta": self.beta, "threshold": self.threshold}


class LeakyReLU(_Activation):
    """``x`` where ``x > 0``, else ``negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)

    def _apply(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

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
