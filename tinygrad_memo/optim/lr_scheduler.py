"""Learning-rate schedules with PyTorch's names and numbers: `StepLR`, `CosineAnnealingLR`,
`LinearLR` (a warm-up) and `SequentialLR` (one schedule after another).

Use as in PyTorch: build the scheduler after the optimizer (that already sets the lr of
step 0) and call ``scheduler.step()`` once after each ``optimizer.step()``, per epoch or per
batch. Each schedule is written in closed form, ``lr_at(epoch)`` from the optimizer's
initial lr; PyTorch computes the same numbers recursively from the current lr (they agree
to rounding, about 1e-16), which differs only if something else changes ``optimizer.lr``
in between: here the schedule overrides such a change.
"""
from __future__ import annotations

import bisect
import math
import numbers
from typing import Any, Sequence


def _positive_int(who: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _real(who: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{who}: {name} must be a finite number, got {value!r}")
    return float(value)


class LRScheduler:
    """Sets ``optimizer.lr`` to ``lr_at(last_epoch)`` at construction and at every `step`.

    ``base_lrs`` holds the optimizer's initial lr (remembered on the optimizer as
    ``initial_lr`` by the first scheduler, so later ones start from the same value).
    """

    def __init__(self, optimizer: Any) -> None:
        # (duck-typed: this module is imported by tinygrad_memo.optim, not the reverse)
        if not (hasattr(optimizer, "lr") and hasattr(optimizer, "step")):
            raise TypeError(f"{type(self).__name__}: expected an optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lrs = [optimizer.__dict__.setdefault("initial_lr", optimizer.lr)]
        self.last_epoch = -1
        self._last_lr: list[float] = []
        self.step()

    def lr_at(self, epoch: int) -> float:
        """The learning rate of step ``epoch`` (0 is the value set at construction)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch (or batch) and set the optimizer's lr for it."""
        self.last_epoch += 1
        self._set(self.last_epoch)

    def _set(self, epoch: int) -> None:
        lr = self.lr_at(epoch)
        self.optimizer.lr = lr
        self._last_lr = [lr]

    def get_last_lr(self) -> list[float]:
        """The lr the last step set, as a list (PyTorch's: one entry per parameter group)."""
        return list(self._last_lr)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs: ``base * gamma ** (e // step_size)``."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int("StepLR", "step_size", step_size)
        self.gamma = _real("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lrs[0] * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """From the initial lr down to ``eta_min`` along half a cosine over ``T_max`` epochs:
    ``eta_min + (base - eta_min) * (1 + cos(pi * e / T_max)) / 2`` (past T_max it rises again,
    as in PyTorch)."""

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        self.T_max = _positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = _real("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        base, low = self.base_lrs[0], self.eta_min
        return low + (base - low) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LinearLR(LRScheduler):
    """Scale the lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    epochs, then keep it: the usual warm-up (PyTorch's defaults: 1/3 to 1 over 5)."""

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5) -> None:
        self.start_factor = _real("LinearLR", "start_factor", start_factor)
        self.end_factor = _real("LinearLR", "end_factor", end_factor)
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= self.end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        self.total_iters = _positive_int("LinearLR", "total_iters", total_iters)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        done = min(epoch, self.total_iters) / self.total_iters
        return self.base_lrs[0] * (self.start_factor + (self.end_factor - self.start_factor) * done)


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` from its own
    epoch 0, and so on: e.g. a `LinearLR` warm-up followed by `CosineAnnealingLR`."""

    def __init__(self, optimizer: Any, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int]) -> None:
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("SequentialLR: expected at least one scheduler")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or s.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: schedulers[{i}] is not a scheduler of this "
                                 "optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need "
                             f"{len(schedulers) - 1} milestones, got {len(milestones)}")
        milestones = [_positive_int("SequentialLR", f"milestones[{i}]", m)
                      for i, m in enumerate(milestones)]
        if milestones != sorted(set(milestones)):
            raise ValueError(f"SequentialLR: milestones must increase, got {milestones}")
        self.optimizer, self._schedulers, self._milestones = optimizer, schedulers, milestones
        self.base_lrs = [optimizer.__dict__["initial_lr"]]
        for s in schedulers:  # undo their construction steps: epoch 0 belongs to the first
            s.last_epoch -= 1
        self.last_epoch = 0
        schedulers[0].step()
        self._last_lr = schedulers[0].get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler.last_epoch = 0
            scheduler._set(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR", "LinearLR", "SequentialLR"]
