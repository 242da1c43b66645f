"""`Dropout`: zero each element with probability ``p`` while training, identity in eval.

The kept elements are scaled by ``1 / (1 - p)`` (inverted dropout, PyTorch's rule), so the
expected output equals the input and nothing needs rescaling at evaluation time.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from .containers import _as_tensor
from .layers import Seed, _rng
from .module import Module


class Dropout(Module):
    """Randomly zero elements with probability ``p`` in training mode (see `Module.train`).

    ``seed`` (an int or a numpy Generator) makes the masks reproducible; the masks are drawn
    from the module's own stream, never from global state.
    """

    def __init__(self, p: float = 0.5, *, seed: Seed = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p: float = float(p)
        self._rng: np.random.Generator = _rng(seed)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * np.zeros((), dtype=x.dtype)
        keep = self._rng.random(x.shape) >= self.p
        return x * (keep / (1 - self.p)).astype(x.dtype)

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
