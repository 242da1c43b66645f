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
    t = _target_array(target, "mse_loss")
    if t.shape != pred.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape {t.shape}; "
                         "they must match (reshape one of them)")
    diff = pred - t.astype(pred.dtype, copy=False)
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
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, classes), got {logits.shape}")
    n, classes = logits.shape
    if n == 0:
        raise ValueError("cross_entropy: logits have no rows (an empty batch)")
    t = _target_array(targets, "cross_entropy")
    if t.dtype.kind == "f":
        if t.shape != logits.shape:
            raise TypeError(f"cross_entropy: class indices must have an integer dtype, got "
                            f"{t.dtype} targets of shape {t.shape}; float targets are class "
                            f"probabilities and need the logits' shape {logits.shape}")
        probs = Tensor(t.astype(logits.dtype) * (-1.0 / n), label="-probs(targets)/N")
        return (logits.log_softmax(axis=1) * probs).sum()
    if t.dtype.kind == "b":
        raise TypeError("cross_entropy: targets have dtype bool; class indices must have an "
                        "integer dtype (e.g. labels.astype(np.int64))")
    if t.shape != (n,):
        raise ValueError(f"cross_entropy: expected {n} targets (one per row of logits), "
                         f"got shape {t.shape}")
    bad = np.flatnonzero((t < 0) | (t >= classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"cross_entropy: target {int(t[i])} at position {i} is outside "
                         f"[0, {classes}) (logits have {classes} classes)")
    # picked by index, not by multiplying with a one-hot mask: 0 * log p = 0 * -inf would
    # be NaN for a class whose logit is -inf (PyTorch gives the finite loss)
    return -logits.log_softmax(axis=1)[np.arange(n), t.astype(np.intp)].mean()


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


__all__ = ["mse_loss", "cross_entropy", "hinge_loss"]
