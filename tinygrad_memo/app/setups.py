"""The demo's datasets and what trains well on each: one table, read by ``demo`` and ``memo``."""
from __future__ import annotations

from dataclasses import dataclass

from .. import data


@dataclass(frozen=True)
class Setup:
    """What works well for one dataset: samples, hidden widths and training settings."""

    n: int | None
    hidden: tuple[int, ...]
    epochs: int
    lr: float
    batch_size: int


SETUPS: dict[str, Setup] = {
    "digits": Setup(n=None, hidden=(128,), epochs=30, lr=1e-2, batch_size=64),
    "moons": Setup(n=200, hidden=(32, 32), epochs=200, lr=1e-2, batch_size=32),
    "circles": Setup(n=200, hidden=(32, 32), epochs=200, lr=1e-2, batch_size=32),
    "spirals": Setup(n=300, hidden=(32, 32), epochs=200, lr=1e-2, batch_size=32),
    # makemore's MLP language model on 32,033 names (tinygrad_memo.app.names), not an MLP
    "names": Setup(n=None, hidden=(200,), epochs=5, lr=1e-2, batch_size=256),
}
DEFAULT_DATASET = "digits"


def default_sizes() -> tuple[int, ...]:
    """The layer sizes of the model a plain ``tinygrad-memo demo`` trains."""
    setup = SETUPS[DEFAULT_DATASET]
    X, y = data.load(DEFAULT_DATASET, n=setup.n, seed=0)
    return (X.shape[1], *setup.hidden, int(y.max()) + 1)
