"""Loss functions: a number to minimise, built from Tensor ops so backward just works.

Targets are plain data (arrays, lists or Tensors); they are checked up front, because a
wrong label or a silently broadcast shape trains a model to nonsense without any error.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core import ops
from ..core.engine import apply
from ..core.tensor import Tensor
from ..core.value import Value


def _target_array(target: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(target.data if isinstance(target, (Tensor, Value)) else target)
    except (TypeError, ValueError) as exc:  # ragged lists, unconvertible objects
        raise TypeError(f"{what}: targets must be an array of numbers ({exc})") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what}: targets must be numbers, got dtype {arr.dtype}")
    return arr


def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean of the squared differences; ``pred`` and ``target`` must have the same shape.

    Why so strict: predictions of shape (N, 1) against targets of shape (N,) would broadcast
    to (N, N) and give a wrong loss without any error.
    """
    _check_float_tensor(pred, "mse_loss", "pred")
    diff = pred - _same_shape(pred, target, "mse_loss", "pred")
    return (diff * diff).mean()


def _check_float_tensor(x: Any, who: str, name: str) -> None:
    """A loss input must be a float Tensor: integer logits would give a loss of 0.0."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: {name} must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: {name} must have a float dtype, got {x.dtype} "
                        f"(convert with Tensor(data, dtype=np.float32))")


def cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """Mean negative log-likelihood of ``targets`` under ``softmax(logits)``.

    ``logits`` has shape (N, C). ``targets`` are PyTorch's two kinds: N class indices of an
    integer dtype in [0, C), or class probabilities, a float array of shape (N, C) (soft
    labels). Bool or float class indices are refused, as in PyTorch: a bool array would
    otherwise be read as a mask. Computed through ``log_softmax`` (never log of softmax), so
    large logits do not overflow.
    """
    _check_float_tensor(logits, "cross_entropy", "logits")
    if logits.ndim == 2 and len(logits) > 0:
        t = _target_array(targets, "cross_entropy")
        if t.dtype.kind == "f" and t.shape == logits.shape:  # class probabilities (soft labels)
            probs = Tensor(t.astype(logits.dtype), label="probs(targets)")  # scaled by -1/N
            return (logits.log_softmax(axis=1) * probs).sum() * (-1.0 / len(logits))  # last, as
            # in PyTorch: first, it rounds a float16 probability of 6e-8 to 0, and 0 * -inf is NaN
    t = _class_targets(logits, targets, "cross_entropy", "logits")
    labels = targets if isinstance(targets, Tensor) else Tensor(t, label="targets")
    return apply(ops.cross_entropy, (logits, labels), ops.SavedSoftmax())


def nll_loss(log_probs: Tensor, targets: Any) -> Tensor:
    """Mean of ``-log_probs[i, targets[i]]``: cross-entropy for inputs that are already
    log-probabilities (``log_softmax`` outputs), shape (N, C), targets N integers in [0, C)."""
    _check_float_tensor(log_probs, "nll_loss", "log_probs")
    t = _class_targets(log_probs, targets, "nll_loss", "log_probs")
    labels = targets if isinstance(targets, Tensor) else Tensor(t, label="targets")
    return apply(ops.nll_loss, (log_probs, labels))


def _class_targets(scores: Any, targets: Any, who: str, what: str) -> np.ndarray:
    """``targets`` as N integer class labels for ``scores`` of shape (N, C), every problem
    named but their range (`ops.check_labels`); the caller's own array, not a copy."""
    if not isinstance(scores, Tensor):
        raise TypeError(f"{who}: {what} must be a Tensor, got {type(scores).__name__}")
    if scores.ndim != 2:
        raise ValueError(f"{who}: {what} must have shape (N, classes), got {scores.shape}")
    n = len(scores)
    if n == 0:
        raise ValueError(f"{who}: {what} have no rows (an empty batch)")
    t = _target_array(targets, who)
    if t.dtype.kind == "b":  # as in PyTorch: a bool array would otherwise be read as a mask
        raise TypeError(f"{who}: targets have dtype bool; class indices must have an "
                        "integer dtype (e.g. labels.astype(np.int64))")
    if t.dtype.kind == "f":
        soft = (f"; float targets are class probabilities and need the {what}' shape "
                f"{scores.shape}") if who == "cross_entropy" else ""
        raise TypeError(f"{who}: class indices must have an integer dtype, got {t.dtype} "
                        f"targets of shape {t.shape}{soft}")
    if t.shape != (n,):
        raise ValueError(f"{who}: expected {n} targets (one per row of {what}), "
                         f"got shape {t.shape}")
    return t


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
        _check_float_tensor(scores, "hinge_loss", "scores")
        flat_ok = scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1)
        if not flat_ok or scores.shape[0] != t.size:
            raise ValueError(f"hinge_loss: scores of shape {scores.shape} do not match "
                             f"{t.size} targets (expected shape ({t.size},) or ({t.size}, 1))")
        y = t.astype(scores.dtype).reshape(scores.shape)
        return (1 - scores * y).relu().mean()
    if not isinstance(scores, (list, tuple)):
        raise TypeError(f"hinge_loss: scores must be a Tensor or a list of Values, got "
                        f"{type(scores).__name__}")
    scores = list(scores)
    if len(scores) != t.size:
        raise ValueError(f"hinge_loss: {len(scores)} scores but {t.size} targets")
    if not all(isinstance(s, Value) for s in scores):
        raise TypeError("hinge_loss: scores must be a Tensor or a list of Values")
    if not scores:
        raise ValueError("hinge_loss: no scores")
    losses = [(1 + -float(y) * s).relu() for s, y in zip(scores, t)]
    return sum(losses[1:], losses[0]) * (1.0 / len(losses))


def _same_shape(pred: Any, target: Any, who: str, what: str = "input") -> np.ndarray:
    """The target as an array of ``pred``'s shape and dtype, or an error naming both shapes
    (a silent broadcast of (N, 1) against (N,) would give an (N, N) loss)."""
    if not isinstance(pred, Tensor):
        raise TypeError(f"{who}: {what} must be a Tensor, got {type(pred).__name__}")
    t = _target_array(target, who)
    if t.shape != pred.shape:
        raise ValueError(f"{who}: {what} has shape {pred.shape} but target has shape "
                         f"{t.shape}; they must match (reshape one of them)")
    return t.astype(pred.dtype, copy=False)


def l1_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean absolute difference; ``pred`` and ``target`` must have the same shape."""
    return (pred - _same_shape(pred, target, "l1_loss")).abs().mean()


def _clamped_log(p: Tensor) -> Tensor:
    """``max(log(p), -100)``, PyTorch's clamp in binary_cross_entropy: p = 0 gives a finite
    loss. Where the clamp bites the value is the constant -100 and the gradient 0."""
    inside = (p.data > np.exp(-100.0)).astype(p.dtype)  # a constant mask, no gradient
    return (p * inside + (1 - inside)).log() * inside - 100.0 * (1 - inside)


def binary_cross_entropy(probs: Tensor, target: Any) -> Tensor:
    """Mean of ``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p`` in [0, 1].

    Each log is clamped at -100 as in PyTorch. For raw scores use
    `binary_cross_entropy_with_logits`, which is exact where sigmoid rounds to 0 or 1.
    """
    t = _same_shape(probs, target, "binary_cross_entropy", "probs")
    if probs.size and not (np.all(probs.data >= 0) and np.all(probs.data <= 1)):
        raise ValueError("binary_cross_entropy: probs must be in [0, 1] (apply sigmoid to "
                         "scores first, or use binary_cross_entropy_with_logits), got values "
                         f"from {np.nanmin(probs.data)} to {np.nanmax(probs.data)}")
    return -(_clamped_log(probs) * t + _clamped_log(1 - probs) * (1 - t)).mean()


def binary_cross_entropy_with_logits(logits: Tensor, target: Any) -> Tensor:
    """`binary_cross_entropy` of ``sigmoid(logits)``, computed stably from the logits:
    ``softplus(x) - x t`` never overflows, and its gradient is ``sigmoid(x) - t``."""
    t = _same_shape(logits, target, "binary_cross_entropy_with_logits", "logits")
    return (logits.softplus() - logits * t).mean()


__all__ = ["mse_loss", "cross_entropy", "nll_loss", "hinge_loss", "l1_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits"]
