"""Loss functions: a number to minimise, built from Tensor ops so backward just works.

Targets are plain data (arrays, lists or Tensors); they are checked up front, because a
wrong label or a silently broadcast shape trains a model to nonsense without any error.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.tensor import Tensor
from ..core.value import Value


def _target_array(target: Any, what: str) -> np.ndarray:
    arr = np.asarray(target.data if isinstance(target, (Tensor, Value)) else target)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what}: targets must be numbers, got dtype {arr.dtype}")
    return arr


def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean of the squared differences; ``pred`` and ``target`` must have the same shape.

    Why so strict: predictions of shape (N, 1) against targets of shape (N,) would broadcast
    to (N, N) and give a wrong loss without any error.
    """
    if not isinstance(pred, Tensor):
        raise TypeError(f"mse_loss: pred must be a Tensor, got {type(pred).__name__}")
    t = _target_array(target, "mse_loss")
    if t.shape != pred.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape {t.shape}; "
                         "they must match (reshape one of them)")
    diff = pred - t.astype(pred.dtype, copy=False)
    return (diff * diff).mean()


def cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """Mean negative log-likelihood of integer ``targets`` under ``softmax(logits)``.

    ``logits`` has shape (N, C), ``targets`` N integers in [0, C). Computed through
    ``log_softmax`` (never log of softmax), so large logits do not overflow.
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy: logits must be a Tensor, got {type(logits).__name__}")
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, classes), got {logits.shape}")
    n, classes = logits.shape
    if n == 0:
        raise ValueError("cross_entropy: logits have no rows (an empty batch)")
    t = _target_array(targets, "cross_entropy")
    if t.dtype.kind == "f":
        if not np.all(np.isfinite(t)) or not np.all(t == np.round(t)):
            raise TypeError("cross_entropy: targets must be integer class labels, "
                            f"got non-integer floats of dtype {t.dtype}")
        t = t.astype(np.int64)
    if t.shape != (n,):
        raise ValueError(f"cross_entropy: expected {n} targets (one per row of logits), "
                         f"got shape {t.shape}")
    bad = np.flatnonzero((t < 0) | (t >= classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"cross_entropy: target {int(t[i])} at position {i} is outside "
                         f"[0, {classes}) (logits have {classes} classes)")
    onehot = np.zeros(logits.shape, dtype=logits.dtype)
    onehot[np.arange(n), t] = -1.0 / n
    weights = Tensor(onehot, label="-onehot(targets)/N")  # picks -log p(target) / N per row
    return (logits.log_softmax(axis=1) * weights).sum()


def hinge_loss(scores: Tensor | Sequence[Value] | Value, targets: Any) -> Tensor | Value:
    """Mean of ``relu(1 - y * score)`` for targets ``y`` in {-1, +1} (the SVM margin loss).

    Works on a Tensor of N scores (shape (N,) or (N, 1)) or, micrograd style, on a list of
    N Values; the result is a Tensor or a Value accordingly.
    """
    t = _target_array(targets, "hinge_loss").reshape(-1)
    bad = np.flatnonzero((t != 1) & (t != -1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"hinge_loss: target {t[i].item()!r} at position {i} is not -1 or +1")
    if isinstance(scores, Value):
        scores = [scores]
    if isinstance(scores, Tensor):
        flat_ok = scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1)
        if not flat_ok or scores.shape[0] != t.size:
            raise ValueError(f"hinge_loss: scores of shape {scores.shape} do not match "
                             f"{t.size} targets (expected shape ({t.size},) or ({t.size}, 1))")
        y = t.astype(scores.dtype).reshape(scores.shape)
        return (1 - scores * y).relu().mean()
    scores = list(scores)
    if len(scores) != t.size:
        raise ValueError(f"hinge_loss: {len(scores)} scores but {t.size} targets")
    if not all(isinstance(s, Value) for s in scores):
        raise TypeError("hinge_loss: scores must be a Tensor or a list of Values")
    if not scores:
        raise ValueError("hinge_loss: no scores")
    losses = [(1 + -float(y) * s).relu() for s, y in zip(scores, t)]
    return sum(losses[1:], losses[0]) * (1.0 / len(losses))


__all__ = ["mse_loss", "cross_entropy", "hinge_loss"]
