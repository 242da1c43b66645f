"""`LayerNorm` and `BatchNorm1d`: rescale activations to mean 0 and variance 1, then apply a
learned scale (``weight``) and shift (``bias``), with PyTorch's rules and defaults.

Both are written with Tensor ops (mean, subtract, square, mean, ``** -0.5``), so their
gradient is the engine's, through the batch statistics. The variance that normalises is the
biased one (divide by n); BatchNorm's running variance is the unbiased one (n - 1), as in
PyTorch.
"""
from __future__ import annotations

import math

import numbers
from typing import Any, Sequence

import numpy as np

from ..core.tensor import Tensor
from .containers import _as_tensor
from .layers import _check_size
from .embedding import _positive
from .module import Module


def _eps(who: str, eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not float(eps) >= 0:
        raise ValueError(f"{who}: eps must be a number >= 0, got {eps!r}")
    return float(eps)


def _float_dtype(who: str, dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise ValueError(f"{who}: dtype must be a float type, got {dt}")
    return dt


def _normalize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """``(x - mean) / sqrt(var + eps)`` over ``axes``, with the mean and (biased) variance."""
    mean = x.mean(axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axes, keepdims=True)
    return centered * (var + eps) ** -0.5, mean, var


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` axes of each sample.

    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape``;
    ``elementwise_affine=False`` drops both, ``bias=False`` only the bias.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, *,
                 dtype: Any = np.float32) -> None:
        dims = [normalized_shape] if isinstance(normalized_shape, (int, numbers.Integral)) \
            else list(normalized_shape)
        self.normalized_shape = tuple(_check_size(f"normalized_shape[{i}]", n)
                                      for i, n in enumerate(dims))
        if not self.normalized_shape:
            raise ValueError("LayerNorm: normalized_shape must name at least one axis")
        self.eps = _eps("LayerNorm", eps)
        self.dtype = _float_dtype("LayerNorm", dtype)
        self.elementwise_affine = bool(elementwise_affine)
        shape = self.normalized_shape
        self.weight = Tensor(np.ones(shape, self.dtype), requires_grad=True, label="weight") \
            if self.elementwise_affine else None
        self.bias = Tensor(np.zeros(shape, self.dtype), requires_grad=True, label="bias") \
            if self.elementwise_affine and bias else None

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape or x.ndim < k:
            raise ValueError(f"LayerNorm: expected an input whose last {k} axes have shape "
                             f"{self.normalized_shape}, got shape {x.shape}")
        y, _, _ = _normalize(x, tuple(range(x.ndim - k, x.ndim)), self.eps)
        if self.weight is not None:
            y = y * self.weight
        return y + self.bias if self.bias is not None else y

    def config(self) -> dict[str, Any]:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None,
                "dtype": self.dtype.name}

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int | None:
        if "normalized_shape" not in config:
            return None  # the constructor says what is missing
        shape = config["normalized_shape"]
        shape = [shape] if isinstance(shape, int) else shape
        if not isinstance(shape, list):
            raise ValueError(f"normalized_shape must be a list of sizes, got {shape!r}")
        n = math.prod(_positive(d, "normalized_shape") for d in shape)
        if not config.get("elementwise_affine", True):
            return 0
        return n * (2 if config.get("bias", True) else 1)


class BatchNorm1d(Module):
    """Normalise each feature over the batch: inputs ``(N, C)`` or ``(N, C, L)``.

    In training mode it uses the batch's mean and variance and updates the buffers
    ``running_mean``/``running_var`` as ``(1 - momentum) * running + momentum * batch``
    (``momentum=None``: a cumulative average over ``num_batches_tracked`` batches); in
    evaluation mode (`Module.eval`) it normalises with the running statistics instead.
    ``track_running_stats=False`` keeps no statistics and always uses the batch's.
    """

    # buffers (see Module.register_buffer), present when track_running_stats is True
    running_mean: Tensor
    running_var: Tensor
    num_batches_tracked: Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 dtype: Any = np.float32) -> None:
        self.num_features = c = _check_size("num_features", num_features)
        self.eps = _eps("BatchNorm1d", eps)
        if momentum is not None and (isinstance(momentum, bool)
                                     or not isinstance(momentum, numbers.Real)
                                     or not 0 <= momentum <= 1):
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum!r}")
        self.momentum = None if momentum is None else float(momentum)
        self.dtype = _float_dtype("BatchNorm1d", dtype)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Tensor(np.ones(c, self.dtype), requires_grad=True, label="weight") \
            if self.affine else None
        self.bias = Tensor(np.zeros(c, self.dtype), requires_grad=True, label="bias") \
            if self.affine else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, self.dtype))
            self.register_buffer("running_var", np.ones(c, self.dtype))
            self.register_buffer("num_batches_tracked", np.array(0, np.int64))

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        c = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != c:
            raise ValueError(f"BatchNorm1d: expected an input of shape (N, {c}) or "
                             f"(N, {c}, L), got shape {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, c) if x.ndim == 2 else (1, c, 1)  # per-feature numbers, broadcastable
        if self.training or not self.track_running_stats:
            n = x.size // c
            if self.training and n < 2:
                raise ValueError(f"BatchNorm1d: expected more than 1 value per feature when "
                                 f"training, got input shape {x.shape} (use eval() for "
                                 "single samples)")
            y, mean, var = _normalize(x, axes, self.eps)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.data.reshape(c), var.data.reshape(c), n)
        else:
            scale = (self.running_var.data.astype(x.dtype) + self.eps) ** -0.5
            y = (x - self.running_mean.data.reshape(shape)) * scale.reshape(shape)
        if self.weight is not None and self.bias is not None:  # affine: (N, C) broadcasts against
            # (C,) as it is, so no reshape nodes then
            w, b = (self.weight, self.bias) if x.ndim == 2 else \
                (self.weight.reshape(shape), self.bias.reshape(shape))
            y = y * w + b
        return y

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        """PyTorch's update: the batch's unbiased variance, mixed in with ``momentum``."""
        tracked = self.num_batches_tracked.data + 1
        self.num_batches_tracked.data = np.asarray(tracked, np.int64)
        f = 1.0 / float(tracked) if self.momentum is None else self.momentum
        unbiased = var * (n / (n - 1))
        for buffer, batch in ((self.running_mean, mean), (self.running_var, unbiased)):
            buffer.data = ((1 - f) * buffer.data + f * batch).astype(self.dtype)

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats,
                "dtype": self.dtype.name}

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int | None:
        if "num_features" not in config:
            return None  # the constructor says what is missing
        n = _positive(config["num_features"], "num_features")
        return n * (2 * bool(config.get("affine", True))
                    + 2 * bool(config.get("track_running_stats", True)))

