"""Training pictures: the loss curve and a 2-D decision boundary (PNG, via matplotlib).

matplotlib is an optional extra (``pip install "tinygrad-memo[plot]"``); every function
raises ImportError with that hint when it is missing, so callers can skip the picture.
Figures are drawn with ``matplotlib.figure.Figure`` directly, not pyplot: no global
backend state is touched and nothing opens a window.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..nn.module import Module
from .train import History, predict

MISSING = 'matplotlib is not installed (pip install "tinygrad-memo[plot]")'


def _figure(**kwargs: Any) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(MISSING) from None
    return Figure(**kwargs)


def loss_curve(history: History, path: Any, title: str = "training loss") -> Path:
    """Loss per mini-batch step (faint), per-epoch mean and held-out loss (if recorded)."""
    fig = _figure(figsize=(6.4, 4.0), layout="tight")
    ax = fig.add_subplot()
    per_epoch = len(history.step_loss) / max(len(history.epoch_loss), 1)
    steps = np.arange(1, len(history.step_loss) + 1) / per_epoch
    epochs = np.arange(1, len(history.epoch_loss) + 1)
    ax.plot(steps, history.step_loss, color="tab:blue", alpha=0.3, lw=0.8, label="batch loss")
    ax.plot(epochs, history.epoch_loss, color="tab:blue", lw=2, label="train loss (epoch mean)")
    if history.test_loss:
        ax.plot(epochs, history.test_loss, color="tab:orange", lw=2, label="test loss")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title(title)
    ax.legend()
    fig.savefig(path, dpi=110)
    return Path(path)


def decision_boundary(model: Module, X: np.ndarray, y: np.ndarray, path: Any,
                      title: str = "decision boundary", resolution: int = 200,
                      class_names: Sequence[str] | None = None) -> Path:
    """The class the model predicts at every point of a grid around the 2-D data, with the
    data points on top."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary: needs 2-D points, got X of shape {X.shape}")
    pad = 0.25 * (X.max(axis=0) - X.min(axis=0))
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    ratio = (hi[1] - lo[1]) / max(hi[0] - lo[0], 1e-12)  # equal axes: size the figure to fit
    fig = _figure(figsize=(6.0, float(np.clip(5.4 * ratio + 0.6, 3.0, 7.0))), layout="tight")
    ax = fig.add_subplot()
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    classes = int(max(y.max() + 1, 2))
    zone = predict(model, grid).argmax(axis=1).reshape(gx.shape)
    cmap = "coolwarm" if classes == 2 else "viridis"
    ax.contourf(gx, gy, zone, levels=np.arange(classes + 1) - 0.5, cmap=cmap, alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=0, vmax=classes - 1, s=18,
               edgecolors="k", linewidths=0.4)
    ax.set_title(title)
    ax.set_aspect("equal")
    fig.savefig(path, dpi=110)
    return Path(path)


__all__ = ["loss_curve", "decision_boundary", "MISSING"]
