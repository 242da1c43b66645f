"""The broadcasting rule of backward, applied by the engine for every op.

An op that broadcast an input used each of its elements once per copy, so the input's
gradient is the sum over the copies; an op that computed in a wider dtype hands each input
its gradient in the input's own dtype. PyTorch's engine does both for every op (in
``validate_outputs``), so vjps are written as the math: add's is ``g``, mul's ``g * y``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

_FLOAT16 = np.dtype(np.float16)


def fit(local: Any, data: Any, op: Any, i: int) -> Any:
    """A vjp's result as the gradient of the ``op``'s ``i``-th input, whose raw data is
    ``data``: summed back to its shape, cast to its dtype. Any other shape is a broken vjp:
    an error, never a wrongly shaped ``.grad``."""
    if data.__class__ is not np.ndarray:  # a Value's number: no shape to fit
        return local
    if local.__class__ is np.ndarray and local.shape == data.shape and local.dtype is data.dtype:
        return local  # (the common case, tested first: the 1,000-op chain 3.6 -> 3.4 ms)
    shape = getattr(local, "shape", None)
    if shape is None:  # a plain number from a vjp of a Tensor op
        local = np.asarray(local, data.dtype)
        shape = local.shape
    if shape != data.shape:
        summed = sum_to(local, data.shape)
        if summed is None:
            raise RuntimeError(
                f"backward: the vjp of {op.name} for its input {i} returned a gradient of shape "
                f"{tuple(shape)} for an input of shape {data.shape}, which broadcasting cannot "
                "explain: a vjp returned the wrong shape")
        local = summed
    if isinstance(local, (np.ndarray, np.generic)):
        return local if local.dtype is data.dtype else local.astype(data.dtype)
    # create_graph: a Tensor, cast by a differentiable op
    return local if local.data.dtype == data.dtype else local.to(data.dtype)


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """``g`` (an array or a Tensor) summed back to ``shape``, from which broadcasting made
    it: over the leading axes it added and the axes where ``shape`` has size 1. None if
    ``shape`` does not broadcast to ``g``'s shape."""
    gshape = tuple(g.shape)
    lead = len(gshape) - len(shape)
    if lead < 0:
        return None
    stretched = []
    for k, n in enumerate(shape):
        if n != gshape[lead + k]:
            if n != 1:
                return None
            stretched.append(lead + k)
    if not stretched:  # only leading axes were added (a bias, say): one sum, no reshape
        return total(g, tuple(range(lead))) if lead else g
    return total(g, tuple(range(lead)) + tuple(stretched), True).reshape(shape)


def total(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``x.sum(axis, keepdims)``, float16 summed in float32 as PyTorch's reductions do: a
    float16 running sum stalls (10,000 times 0.25 gives 512, not 2,500) or overflows."""
    if x.__class__ is np.ndarray and x.dtype is _FLOAT16:
        return x.sum(axis=axis, keepdims=keepdims, dtype=np.float32).astype(_FLOAT16)
    return x.sum(axis=axis, keepdims=keepdims)
