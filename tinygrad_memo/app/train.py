"""A reusable training loop for Tensor classifiers: `fit`, `evaluate`, `predict`.

Why a function and not a Trainer class: the loop is ten lines that every reader should be
able to see at once (zero_grad, forward, loss, backward, step), plus the bookkeeping that
the demo and the examples share (a progress bar with the live loss, a loss history).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from .. import data as datasets
from ..core.modes import no_grad
from ..nn.losses import cross_entropy
from ..nn.module import Module
from ..optim import Optimizer
from ..core.tensor import Tensor

LossFn = Callable[[Tensor, Any], Tensor]


@dataclass
class History:
    """Losses recorded by `fit`: one per mini-batch step, and the mean per epoch."""

    step_loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)


@contextmanager
def evaluating(model: Module) -> Iterator[Module]:
    """``model.eval()`` and no graph inside the block (no dropout; BatchNorm uses and keeps
    its running statistics); afterwards every sub-module gets its own mode back."""
    modes = [(m, m.training) for _, m in model.named_modules()]
    model.eval()
    try:
        with no_grad():
            yield model
    finally:
        for m, mode in modes:
            m.training = mode


def predict(model: Module, X: Any, batch_size: int = 1024) -> np.ndarray:
    """The model's outputs for ``X`` as an array, computed under `evaluating`."""
    X = np.asarray(X)
    with evaluating(model):
        parts = [np.asarray(model(X[i:i + batch_size]).data) for i in range(0, len(X), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0,))


def evaluate(model: Module, X: Any, y: Any, loss_fn: LossFn = cross_entropy) -> tuple[float, float]:
    """``(mean loss, accuracy)`` of a classifier on ``(X, y)``; accuracy in [0, 1]."""
    out = predict(model, X)
    y = np.asarray(y)
    with no_grad():
        loss = float(loss_fn(Tensor(out), y).item())
    return loss, float(np.mean(out.argmax(axis=1) == y))


def fit(model: Module, X: Any, y: Any, optimizer: Optimizer, epochs: int, batch_size: int,
        loss_fn: LossFn = cross_entropy, seed: int | None = 0, progress: bool = True,
        validation: tuple[Any, Any] | None = None, desc: str = "training",
        jit: bool = False, scheduler: Any = None) -> History:
    """Train ``model`` on ``(X, y)`` with mini-batches, reshuffled each epoch (seeded).

    With ``progress`` a tqdm bar counts the steps and shows the live (smoothed) loss.
    With ``validation=(X_test, y_test)`` the held-out loss is recorded after every epoch.
    A ``scheduler`` (`tinygrad_memo.optim.lr_scheduler`) is stepped after every batch.
    With ``jit`` the step (forward, loss, backward) is traced once per batch shape and
    replayed (`tinygrad_memo.jit`).
    """
    if epochs < 1:
        raise ValueError(f"fit: epochs must be >= 1, got {epochs}")
    rng = np.random.default_rng(seed)
    X, y = np.asarray(X), np.asarray(y)
    batch_size = datasets._check_int("batch_size", batch_size, 1)  # before dividing by it
    steps = epochs * -(-len(X) // batch_size)
    bar = _progress_bar(steps, desc) if progress else None
    history, smooth = History(), None
    step = _traced_step(model, loss_fn) if jit else None
    try:
        for _ in range(epochs):
            total = 0.0
            for xb, yb in datasets.batches(X, y, batch_size, seed=int(rng.integers(2**31))):
                optimizer.zero_grad()
                if step is None:
                    loss = loss_fn(model(xb), yb)
                    loss.backward()
                else:
                    loss = step(xb, yb)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                value = loss.item()
                history.step_loss.append(value)
                total += value * len(xb)
                if bar is not None:
                    smooth = value if smooth is None else 0.9 * smooth + 0.1 * value
                    bar.set_postfix_str(f"loss {smooth:.4f}", refresh=False)
                    bar.update(1)
            history.epoch_loss.append(total / len(X))
            if validation is not None:
                history.test_loss.append(evaluate(model, *validation, loss_fn=loss_fn)[0])
    finally:
        if bar is not None:
            bar.close()
    return history


def _traced_step(model: Module, loss_fn: LossFn) -> Callable[[Any, Any], Any]:
    from ..jit import jit
    return jit(lambda xb, yb: loss_fn(model(xb), yb))


def _progress_bar(total: int, desc: str) -> Any:
    """A tqdm bar on stderr (stdout stays clean for the results)."""
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="step", leave=True, dynamic_ncols=True)


__all__ = ["History", "fit", "evaluate", "predict", "evaluating"]
