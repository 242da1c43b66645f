"""`Embedding`: a table of learned vectors, looked up by integer index (one row per token).

The lookup is ``weight[indices]``, a getitem node: its backward adds each row's gradient
into the rows that were picked, as often as they were picked (np.add.at), which is exactly
the gradient of a one-hot matrix product without building the one-hot matrix.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core.tensor import Tensor
from ..core.value import Value
from .layers import Seed, _check_size, _rng
from .module import Module


def _indices(x: Any, num: int) -> np.ndarray:
    """The lookup indices as an integer array, or an error naming the offending index."""
    if isinstance(x, Value):
        raise TypeError("Embedding: indices must be integers, got a Value")
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"Embedding: indices must be integers, got dtype {arr.dtype} "
                        "(convert them with .astype(np.int64); float indices are refused "
                        "as in PyTorch)")
    bad = np.flatnonzero((arr < 0) | (arr >= num))
    if bad.size:
        i = int(bad[0])
        where = tuple(int(k) for k in np.unravel_index(i, arr.shape)) if arr.ndim > 1 else i
        raise IndexError(f"Embedding: index {int(arr.reshape(-1)[i])} at position {where} is "
                         f"outside [0, {num}) (num_embeddings={num})")
    return arr


class Embedding(Module):
    """``num_embeddings`` vectors of size ``embedding_dim``; ``emb(idx)`` has shape
    ``idx.shape + (embedding_dim,)``. Weights ~ N(0, 1), PyTorch's initialisation."""

    def __init__(self, num_embeddings: int, embedding_dim: int, *, seed: Seed = None,
                 dtype: Any = np.float32) -> None:
        self.num_embeddings = _check_size("num_embeddings", num_embeddings)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"Embedding: dtype must be a float type, got {self.dtype}")
        shape = (self.num_embeddings, self.embedding_dim)
        self.weight = Tensor(_rng(seed).standard_normal(shape).astype(self.dtype),
                             requires_grad=True, label="weight")

    def forward(self, indices: Any) -> Tensor:
        return self.weight[_indices(indices, self.num_embeddings)]

    def config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "dtype": self.dtype.name}

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int | None:
        if "num_embeddings" not in config or "embedding_dim" not in config:
            return None  # the constructor says what is missing
        return _positive(config["num_embeddings"], "num_embeddings") \
            * _positive(config["embedding_dim"], "embedding_dim")


def _positive(n: Any, what: str) -> int:
    """A size from a model file's config, checked before anything is built."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return n
