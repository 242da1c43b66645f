"""Tensor layers: `Linear` and `MLP`, batch first.

``Linear`` computes ``x @ weight + bias`` with ``weight`` of shape ``(nin, nout)``: one
matmul node and no transpose node per layer (PyTorch stores the transpose, ``(nout, nin)``,
and computes ``x @ W.T``). The initialisation is PyTorch's default for ``nn.Linear``.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

from ..checkpointing import checkpoint
from ..core.tensor import Tensor
from .module import Module

Seed = int | np.random.Generator | None

ACTIVATIONS = ("relu", "tanh", "sigmoid")


def _rng(seed: Seed) -> np.random.Generator:
    """A Generator from an int seed (reproducible), a Generator (shared stream) or None."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_size(what: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


def as_input(x: Any, dtype: np.dtype, who: str = "model") -> Tensor:
    """Model input as a Tensor; arrays and lists take the model's dtype (no graph needed)."""
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor.from_numpy(np.asarray(x, dtype=dtype))  # an input: read, never written
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{who}: the input must be an array of numbers, got "
                        f"{type(x).__name__} ({exc})") from None


def float_dtype(dtype: Any, who: str) -> np.dtype:
    """``dtype`` as a NumPy float dtype, or a TypeError naming it."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: dtype must be a float type such as np.float32, got {dtype!r}") from None
    if dt.kind != "f":
        raise ValueError(f"{who}: dtype must be a float type, got {dt}")
    return dt


class Linear(Module):
    """``y = x @ weight + bias``; weight and bias ~ U(-1/sqrt(nin), 1/sqrt(nin)) like PyTorch.

    ``seed`` makes the initialisation reproducible: an int, or a shared
    ``numpy.random.Generator`` (what `MLP` passes so its layers draw one stream).
    """

    def __init__(self, nin: int, nout: int, bias: bool = True, *, seed: Seed = None,
                 dtype: Any = np.float32) -> None:
        self.nin, self.nout = _check_size("nin", nin), _check_size("nout", nout)
        self.dtype = float_dtype(dtype, "Linear")
        rng, bound = _rng(seed), 1.0 / math.sqrt(self.nin)
        self.weight = Tensor(rng.uniform(-bound, bound, (self.nin, self.nout)).astype(self.dtype),
                             requires_grad=True, label="weight")
        self.bias = (Tensor(rng.uniform(-bound, bound, self.nout).astype(self.dtype),
                            requires_grad=True, label="bias") if bias else None)

    def forward(self, x: Any) -> Tensor:
        x = _features(x, self.nin, self.dtype, "Linear")
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "bias": self.bias is not None,
                "dtype": self.dtype.name}

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int:
        nin, nout = _check_size("nin", config["nin"]), _check_size("nout", config["nout"])
        return nin * nout + (nout if config.get("bias", True) else 0)


def _features(x: Any, nin: int, dtype: Any, who: str) -> Tensor:
    """The input as a Tensor whose last axis has ``nin`` features, or a ValueError saying not."""
    x = as_input(x, dtype, who)
    if x.ndim == 0 or x.shape[-1] != nin:
        got = x.shape[-1] if x.ndim else "a 0-d tensor"
        raise ValueError(f"{who}: expected {nin} input features, got {got} (input shape {x.shape})")
    return x


class MLP(Module):
    """Linear layers of sizes ``[nin, *sizes]`` with ``activation`` between them.

    The last layer is linear (it outputs logits or regression values). ``seed`` draws every
    layer's weights from one Generator, so the same seed gives the same network.
    ``checkpoint=True`` keeps only each hidden layer's output during the forward pass and
    recomputes the layer in backward (less memory, one more forward; docs/checkpointing.md).
    """

    def __init__(self, nin: int, sizes: Sequence[int], activation: str = "relu", *,
                 seed: Seed = None, dtype: Any = np.float32, checkpoint: bool = False) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {', '.join(ACTIVATIONS)}, "
                             f"got {activation!r}")
        if isinstance(sizes, (str, bytes, numbers.Number)) or not hasattr(sizes, "__len__") \
                or not len(sizes):
            raise ValueError(f"MLP: sizes must be a non-empty list of layer widths, got {sizes!r}")
        self.nin = _check_size("nin", nin)
        self.sizes = [_check_size(f"sizes[{i}]", n) for i, n in enumerate(sizes)]
        self.activation = activation
        self.dtype = float_dtype(dtype, "MLP")
        self.checkpoint = bool(checkpoint)
        rng = _rng(seed)
        widths = [self.nin, *self.sizes]
        self.layers = [Linear(a, b, seed=rng, dtype=self.dtype)
                       for a, b in zip(widths[:-1], widths[1:])]
        self.named_parameters()  # label the weights layers.0.weight, ... for graph pictures

    def forward(self, x: Any) -> Tensor:
        x = _features(x, self.nin, self.dtype, "MLP")
        *hidden, last = self.layers
        for layer in hidden:
            if self.checkpoint:
                x = checkpoint(lambda h, layer=layer: getattr(layer(h), self.activation)(), x)
            else:
                x = getattr(layer(x), self.activation)()
        return last(x)

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "sizes": list(self.sizes), "activation": self.activation,
                "dtype": self.dtype.name, "checkpoint": self.checkpoint}

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int:
        sizes = config["sizes"]
        if not isinstance(sizes, list):
            raise ValueError(f"sizes must be a list of layer widths, got {type(sizes).__name__}")
        widths = [_check_size("nin", config["nin"])] + [_check_size("sizes", n) for n in sizes]
        return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))

    def __repr__(self) -> str:
        arrows = " -> ".join(str(n) for n in [self.nin, *self.sizes])
        return f"MLP({arrows}, {self.activation})"
