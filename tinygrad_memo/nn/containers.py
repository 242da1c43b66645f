"""`Sequential` and the two shape-only layers that go inside it, `Identity` and `Flatten`.

A `Sequential` keeps its layers as attributes named ``"0"``, ``"1"``, ..., so the attribute
walk names their parameters ``0.weight``, ``2.bias``: the same keys as PyTorch's
``nn.Sequential`` state_dict, and one box per layer in a collapsed graph picture.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterator

from ..core.tensor import Tensor
from .module import Module
from .serialize import MODEL_CLASSES


def _as_tensor(x: Any) -> Tensor:
    """A layer's input: Tensors as they are, arrays keep their dtype, lists become float32."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _spec(module: Module) -> dict[str, Any] | None:
    """``{"class": ..., "config": ...}`` that rebuilds ``module``; None if it has no config."""
    config = module.config()
    if config is None:
        return None
    cls = type(module)
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "config": config}


def _build(spec: Any, where: str) -> Module:
    """The module a `_spec` describes, from registered classes only (a file never picks code)."""
    if not (isinstance(spec, dict) and isinstance(spec.get("class"), str)
            and isinstance(spec.get("config"), dict)):
        raise ValueError(f"{where} is not a {{'class': ..., 'config': {{...}}}} layer description")
    klass = MODEL_CLASSES.get(spec["class"])
    if klass is None:
        raise ValueError(f"{where}: the layer class {spec['class']} is unknown here")
    return klass.from_config(spec["config"])


class Sequential(Module):
    """Layers applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``."""

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is {type(layer).__name__}, "
                                "expected a Module")
            setattr(self, str(i), layer)
        self._len = len(layers)
        self.named_parameters()  # label the weights 0.weight, ... for graph pictures

    def forward(self, x: Any) -> Any:
        for layer in self:
            x = layer(x)
        return x

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Module]:
        return (getattr(self, str(i)) for i in range(self._len))

    def __getitem__(self, i: int) -> Module:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) \
                or not -self._len <= i < self._len:
            raise IndexError(f"Sequential: index {i!r} is out of range for {self._len} layers")
        return getattr(self, str(int(i) % self._len))

    def config(self) -> dict[str, Any] | None:
        specs = [_spec(layer) for layer in self]
        return None if any(s is None for s in specs) else {"layers": specs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Sequential":
        layers = config.get("layers")
        if set(config) != {"layers"} or not isinstance(layers, list):
            raise ValueError("Sequential: the config must be {'layers': [...]}")
        return cls(*[_build(spec, f"Sequential layer {i}") for i, spec in enumerate(layers)])

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int:
        """The numbers its layers would hold, each asked before anything is built (a layer
        class that cannot say, like an activation, is counted as holding none)."""
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise ValueError("Sequential: the config must be {'layers': [...]}")
        total = 0
        for i, spec in enumerate(layers):
            if not (isinstance(spec, dict) and isinstance(spec.get("config"), dict)):
                raise ValueError(f"Sequential layer {i} is not a layer description")
            klass = MODEL_CLASSES.get(spec.get("class"))
            if klass is None:
                raise ValueError(f"Sequential layer {i}: the layer class {spec.get('class')} "
                                 "is unknown here")
            total += klass.config_size(spec["config"]) or 0
        return total

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self))
        return f"Sequential({inner}\n)" if inner else "Sequential()"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer, as in PyTorch)."""

    def forward(self, x: Any) -> Any:
        return x

    def config(self) -> dict[str, Any]:
        return {}


class Flatten(Module):
    """Joins the axes ``start_dim..end_dim`` into one, by default all but the batch axis."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        for what, d in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(d, bool) or not isinstance(d, numbers.Integral):
                raise TypeError(f"Flatten: {what} must be an integer, got {d!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        n = max(x.ndim, 1)
        start, end = self.start_dim, self.end_dim
        if not (-n <= start < n and -n <= end < n) or start % n > end % n:
            raise ValueError(f"Flatten: start_dim={start}, end_dim={end} do not fit an input "
                             f"of shape {x.shape}")
        start, end = start % n, end % n
        shape = x.shape
        if not x.ndim:
            return x.reshape(1)
        return x.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}
