"""Gradient utilities for training loops: `clip_grad_norm_`.

Why new arrays and never in-place edits: a ``.grad`` array may be shared. The engine hands
the same gradient array to several places when no arithmetic separates them (``y = x + 0``
passes ``g`` through unchanged, a hook may return what it was given), so scaling one in
place could silently scale another. Clipping assigns a fresh array to ``.grad`` instead.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

from ..core.engine import Node
from ..core.value import Value


def clip_grad_norm_(parameters: Node | Iterable[Node], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale the gradients of ``parameters`` so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if they were one vector (PyTorch's
    rule); ``norm_type`` may be any p >= 1 or ``math.inf``. Parameters without a gradient
    (None) are skipped. Returns the total norm before clipping. Works for Tensors and Values.
    """
    params = [parameters] if isinstance(parameters, Node) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Node):
            raise TypeError(f"clip_grad_norm_: parameters[{i}] is {type(p).__name__}, "
                            f"expected a Tensor or Value")
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or max_norm < 0 \
            or math.isnan(max_norm):
        raise ValueError(f"clip_grad_norm_: max_norm must be a non-negative number, "
                         f"got {max_norm!r}")
    p_norm = float(norm_type)
    if not (p_norm >= 1):
        raise ValueError(f"clip_grad_norm_: norm_type must be >= 1 or math.inf, got {norm_type!r}")
    grads = [(p, p.grad) for p in params if p.grad is not None]
    if not grads:
        return 0.0
    total = _total_norm([g for _, g in grads], p_norm)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise RuntimeError(f"clip_grad_norm_: the total norm of the gradients is {total}; "
                               f"they hold NaN or inf (detect_anomaly() finds where)")
        return total
    scale = float(max_norm) / (total + 1e-6)
    if scale < 1.0:
        for p, g in grads:
            if isinstance(p, Value):
                p.grad = float(g) * scale
            else:
                g = np.asarray(g)
                p.grad = g * np.asarray(scale, dtype=g.dtype)  # a new array, same dtype
    return total


def _total_norm(grads: list[Any], p: float) -> float:
    """The p-norm of all gradients taken together, in float64."""
    flat = [np.abs(np.asarray(g, dtype=np.float64)).ravel() for g in grads]
    if math.isinf(p):
        return float(max((a.max() if a.size else 0.0) for a in flat))
    return float(sum(float((a ** p).sum()) for a in flat) ** (1.0 / p))
