"""Making tensors: zeros, ones, ranges, identity matrices and random numbers (PyTorch's names).

Defaults follow PyTorch: float32 unless ``dtype`` says otherwise (``arange`` of ints and
``randint`` give int64, ``full`` takes its fill value's kind). Random tensors draw from
``generator`` (a ``numpy.random.Generator``) or from this thread's default generator,
which `manual_seed` reseeds: like the grad modes, it is per thread, so a seeded
training loop is not perturbed by another thread drawing numbers.
"""
from __future__ import annotations

import numbers
import threading
from typing import Any, Sequence

import numpy as np

from .tensor import Tensor, as_dtype, as_number

_FLOAT32 = np.dtype(np.float32)


class _DefaultGenerator(threading.local):
    def __init__(self) -> None:  # each thread: fresh entropy until manual_seed
        self.rng = np.random.default_rng()


_default = _DefaultGenerator()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed this thread's default generator (what rand/randn/randint draw from when
    given no ``generator``); returns it."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _default.rng = np.random.default_rng(int(seed))
    return _default.rng


def _generator(generator: Any, what: str) -> np.random.Generator:
    if generator is None:
        return _default.rng
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{what}: generator must be a numpy.random.Generator, got "
                        f"{type(generator).__name__}")
    return generator


def _size(size: tuple, what: str) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))``: the shape as a tuple of non-negative ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and int(n) >= 0 for n in size):
        raise ValueError(f"{what}: size must be non-negative ints, got {size}")
    return tuple(int(n) for n in size)


def _dtype(dtype: Any, default: Any, what: str) -> np.dtype:
    return as_dtype(default if dtype is None else dtype, what)


def _make(arr: np.ndarray, requires_grad: bool, what: str) -> Tensor:
    if requires_grad and arr.dtype.kind != "f":
        raise TypeError(f"{what}: only a float tensor can require grad, this one is {arr.dtype}")
    return Tensor(arr, requires_grad=requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of the given shape."""
    return _make(np.zeros(_size(size, "zeros"), _dtype(dtype, _FLOAT32, "zeros")), requires_grad, "zeros")


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given shape."""
    return _make(np.ones(_size(size, "ones"), _dtype(dtype, _FLOAT32, "ones")), requires_grad, "ones")


def _fill_dtype(fill_value: Any, what: str) -> Any:
    """PyTorch's dtype for a fill value: bool, int64 or float32."""
    if isinstance(fill_value, (bool, np.bool_)):
        return np.bool_
    if isinstance(fill_value, numbers.Integral):
        return np.int64
    if isinstance(fill_value, numbers.Real):
        return _FLOAT32
    raise TypeError(f"{what}: fill_value must be a number, got {type(fill_value).__name__}")


def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``."""
    dt = _dtype(dtype, _fill_dtype(fill_value, "full"), "full")
    return _make(np.full(_size((size,), "full"), fill_value, dt), requires_grad, "full")


def _like(t: Any, what: str) -> np.ndarray:
    if isinstance(t, Tensor):
        return t.data
    if isinstance(t, np.ndarray):
        return t
    raise TypeError(f"{what}: expected a Tensor or array, got {type(t).__name__}")


def zeros_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape (and dtype, unless ``dtype`` is given)."""
    a = _like(t, "zeros_like")
    return _make(np.zeros(a.shape, _dtype(dtype, a.dtype, "zeros_like")), requires_grad, "zeros_like")


def ones_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape (and dtype, unless ``dtype`` is given)."""
    a = _like(t, "ones_like")
    return _make(np.ones(a.shape, _dtype(dtype, a.dtype, "ones_like")), requires_grad, "ones_like")


def full_like(t: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``t``'s shape (and dtype, unless ``dtype`` is given)."""
    a = _like(t, "full_like")
    _fill_dtype(fill_value, "full_like")
    return _make(np.full(a.shape, fill_value, _dtype(dtype, a.dtype, "full_like")), requires_grad,
                 "full_like")


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to but excluding end (``arange(n)``: 0..n-1); int64 if
    every argument is an int, else float32."""
    if end is None:
        start, end = 0, start
    for name, x in (("start", start), ("end", end), ("step", step)):
        as_number(x, "arange", name)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    ints = all(isinstance(x, numbers.Integral) for x in (start, end, step))
    dt = _dtype(dtype, np.int64 if ints else _FLOAT32, "arange")
    return _make(np.arange(start, end, step).astype(dt), requires_grad, "arange")


def linspace(start: float, end: float, steps: int, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced numbers from start to end, both included."""
    as_number(start, "linspace", "start"), as_number(end, "linspace", "end")
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    dt = _dtype(dtype, _FLOAT32, "linspace")
    return _make(np.linspace(start, end, int(steps)).astype(dt), requires_grad, "linspace")


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m defaults to n)."""
    for name, k in (("n", n), ("m", n if m is None else m)):
        if not isinstance(k, numbers.Integral) or k < 0:
            raise ValueError(f"eye: {name} must be a non-negative int, got {k!r}")
    return _make(np.eye(n, m, dtype=_dtype(dtype, _FLOAT32, "eye")), requires_grad, "eye")


def _float_dtype(dtype: Any, what: str) -> np.dtype:
    dt = _dtype(dtype, _FLOAT32, what)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{what}: dtype must be float32 or float64, got {dt}")
    return dt


def rand(*size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    rng = _generator(generator, "rand")
    arr = rng.random(_size(size, "rand"), dtype=_float_dtype(dtype, "rand"))
    return _make(arr, requires_grad, "rand")


def randn(*size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers (mean 0, variance 1)."""
    rng = _generator(generator, "randn")
    arr = rng.standard_normal(_size(size, "randn"), dtype=_float_dtype(dtype, "randn"))
    return _make(arr, requires_grad, "randn")


def randint(low: int, high: Any = None, size: Any = None, *, generator: Any = None,
            dtype: Any = None) -> Tensor:
    """Random ints in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint: size is required: randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    for name, x in (("low", low), ("high", high)):
        if not isinstance(x, numbers.Integral) or isinstance(x, bool):
            raise TypeError(f"randint: {name} must be an int, got {x!r}")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    rng = _generator(generator, "randint")
    shape = _size((size,), "randint")
    return _make(rng.integers(low, high, shape).astype(_dtype(dtype, np.int64, "randint")), False,
                 "randint")
