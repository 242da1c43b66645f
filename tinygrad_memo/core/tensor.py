"""`Tensor`: an n-dimensional node backed by one NumPy array.

Each op goes through `engine.apply`, which calls the op's ``array`` forward from the table
in `ops` (NumPy, once) and records ``(op, inputs, ctx)``. Only tensors that need a gradient
record a graph.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterator, Sequence

import numpy as np

from . import ops
from .modes import grad_mode
from .engine import Node, Op, apply

_new = object.__new__
Axis = int | Sequence[int] | None
Number = float  # a number argument (inside Tensor, `float` names the method Tensor.float)


def _as_array(data: Any, dtype: Any, what: str) -> np.ndarray:
    """Convert user data with PyTorch's dtype rules: arrays keep their dtype; Python
    floats (and lists holding any) become float32, ints int64, bools bool."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = np.asarray(data, dtype=dtype)
    else:
        if data is None or _holds_none(data):  # NumPy would make None a NaN, silently
            raise TypeError(f"{what}: data must be numbers, got None")
        try:
            arr = np.asarray(data, dtype=dtype)
        except (ValueError, TypeError, OverflowError) as exc:
            raise TypeError(f"{what}: cannot make an array from {type(data).__name__} "
                            f"({exc})") from None
        if dtype is None and arr.dtype.kind in "fiu":
            arr = arr.astype(np.float32 if arr.dtype.kind == "f" else np.int64, copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what}: dtype {arr.dtype} is not supported (use a float, int or bool array)")
    return arr


def _holds_none(data: Any) -> bool:
    """Whether a (nested) list or tuple has a None anywhere."""
    if isinstance(data, (list, tuple)):
        return any(x is None or _holds_none(x) for x in data)
    return False


def _normalize_axis(axis: Axis, ndim: int, what: str) -> tuple[int, ...] | None:
    """An int or tuple axis as a sorted tuple of non-negative ints (None means all axes).

    A 0-d tensor takes axis 0 or -1, as in PyTorch: there is nothing to reduce, so ().
    """
    if axis is None:
        return None
    if axis.__class__ is int and -ndim <= axis < ndim:  # the common case, quickly
        return (axis % ndim,)
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        axes: tuple = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{what}: axis must be an int, a tuple of ints or None, got {axis!r}")
    n = max(ndim, 1)
    out: list[int] = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or not -n <= int(a) < n:
            raise ValueError(f"{what}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def _shape_arg(shape: Any, what: str, unknown: bool = False) -> tuple[int, ...]:
    """A shape argument as a tuple of sizes, or an error naming it (``unknown``: one -1 may
    stand for the size that makes the numbers fit, as reshape allows)."""
    items = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    for n in items:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) \
                or int(n) < (-1 if unknown else 0) or int(n) > 2 ** 62:
            raise ValueError(f"{what}: {shape!r} is not a shape (sizes must be integers >= "
                             f"{-1 if unknown else 0}{'; -1 for one unknown size' if unknown else ''})")
    if unknown and items.count(-1) > 1:
        raise ValueError(f"{what}: {shape!r} has more than one unknown size (-1)")
    return tuple(int(n) for n in items)


def _show(index: Any) -> str:
    """An index as a short text for an error message."""
    text = repr(index)
    return text if len(text) <= 60 else text[:57] + "..."


def _all_axes(axis: Axis, ndim: int, what: str) -> tuple[int, ...]:
    """`_normalize_axis`, with None spelled out as every axis (an op's ctx is never None)."""
    axes = _normalize_axis(axis, ndim, what)
    return tuple(range(ndim)) if axes is None else axes


def _index_repeats(index: Any) -> bool:
    """Whether ``x[index]`` may pick an element twice (then the gradient must accumulate)."""
    for i in index if isinstance(index, tuple) else (index,):
        if isinstance(i, np.ndarray) and i.dtype.kind != "b":
            return True
    return False


def _clean_index(index: Any) -> Any:
    """Tensors and lists inside an index become arrays, so NumPy reads them as fancy indices."""
    if isinstance(index, tuple):
        return tuple([_clean_index_item(i) for i in index])
    return _clean_index_item(index)


def _clean_index_item(i: Any) -> Any:
    if isinstance(i, Tensor):
        i = i.data
    if isinstance(i, (list, np.ndarray)):
        try:
            i = np.asarray(i)
        except (ValueError, TypeError):  # a ragged list
            raise IndexError(f"index {_show(i)} is not an array of integers or booleans") from None
        if i.size == 0 and i.dtype.kind == "f":  # [] picks nothing, as in NumPy
            i = i.astype(np.intp)
        elif i.dtype.kind not in "iub":
            raise IndexError(f"index arrays must be integers or booleans, got {i.dtype}")
    return i


class Tensor(Node):
    """An array that remembers how it was computed, so it can be differentiated."""

    __slots__ = ("requires_grad", "_keeps_grad")
    __array_ufunc__ = None  # `ndarray + Tensor` must come to Tensor.__radd__, not NumPy
    retains_graph = False   # backward() frees activations as it goes (PyTorch semantics)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 label: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"Tensor: requires_grad must be True or False, got {requires_grad!r}")
        arr = _as_array(data, dtype, "Tensor")
        if requires_grad and arr.dtype.kind != "f":
            arr = arr.astype(np.float32)  # a gradient needs a float dtype
        if arr is data or arr.base is not None:  # an array (or a view of it) is copied, as
            arr = arr.copy()                     # torch.tensor does; `from_numpy` shares
        if isinstance(data, np.ndarray):
            copied = getattr(grad_mode.record, "copied", None)
            if copied is not None:  # a jit trace: it must know whose numbers these are
                copied(data, arr)
        self.data = arr
        self.grad: Any = None
        self.requires_grad = bool(requires_grad)
        self._keeps_grad = self.requires_grad  # leaves keep their gradient (PyTorch semantics)
        self._fn, self._x, self._y, self._hooks = None, (), None, None
        if label is not None:
            self.label = label

    # -- what it is ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor can be read as a number, "
                             f"this one has shape {self.shape}")
        return self.data.item()

    @classmethod
    def from_numpy(cls, array: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """A Tensor that shares ``array``'s memory (as torch.from_numpy): changing one
        changes the other, whatever ``Tensor(array)`` does."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
        if array.dtype.kind not in "fiub" or (requires_grad and array.dtype.kind != "f"):
            raise TypeError(f"from_numpy: dtype {array.dtype} is not supported"
                            f"{' with requires_grad (use a float array)' if requires_grad else ''}")
        t = cls(np.empty(0, array.dtype), requires_grad=requires_grad)
        t.data = array
        return t

    def __float__(self) -> float:
        return float(self.item())

    def numpy(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator["Tensor"]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=20)
        extra = ", requires_grad=True" if self.requires_grad else ""
        extra += f", label={self.label!r}" if self.label else ""
        dt = "" if self.dtype == np.float32 else f", dtype={self.dtype}"
        return f"Tensor({body}{dt}{extra})"

    # -- binary operators with broadcasting --------------------------------------------------
    def _lift(self, x: Any) -> "Tensor":
        """The other operand as a constant tensor. Python numbers take this tensor's dtype
        if it is a float (a float number next to an integer tensor: float32, as in PyTorch);
        so do NumPy's (PyTorch takes them as numbers: float32 * np.float64(2) is float32)."""
        if isinstance(x, Tensor):
            return x
        if x.__class__ is float or x.__class__ is int:  # the common case, without ABC checks
            dtype = self.data.dtype
            if dtype.kind == "f":
                return _wrap(np.asarray(x, dtype=dtype))
            return _wrap(np.asarray(x, dtype=np.float32 if x.__class__ is float else None))
        if isinstance(x, (np.floating, np.integer)):
            return self._lift(x.item())
        if isinstance(x, numbers.Number) and not isinstance(x, np.generic):
            if not isinstance(x, numbers.Real):
                return NotImplemented
            kind = self.data.dtype.kind
            if kind != "f" and isinstance(x, float):
                return _wrap(np.asarray(x, dtype=np.float32))
            return Tensor(np.asarray(x, dtype=self.data.dtype if kind == "f" else None))
        if isinstance(x, (np.ndarray, np.generic)):
            return Tensor.from_numpy(np.asarray(x))  # a constant operand: read, never written
        return NotImplemented

    def _binary(self, other: Any, op: Op, reflected: bool = False) -> "Tensor":
        if self.data.dtype is _FLOAT16 and (op is ops.mul or op is ops.div) and _is_number(other):
            return self._times_number(other, op is ops.div, reflected)
        other = self._lift(other)
        if other is NotImplemented:
            return other
        x, y = (other, self) if reflected else (self, other)
        if x.data.dtype is not y.data.dtype or op is ops.div and x.data.dtype.kind != "f":
            x, y = _promote(x, y, op)
        try:
            return apply(op, (x, y))
        except ValueError as exc:
            if op is ops.matmul or not _broadcastable(x.shape, y.shape):
                raise ValueError(_shape_error(op.name, x.shape, y.shape)) from None
            raise ValueError(f"{op.name}: {exc}") from None  # e.g. ints to negative int powers

    def _times_number(self, c: Any, divide: bool, reflected: bool) -> "Tensor":
        """float16 times (or over) a Python number as PyTorch's CPU kernels compute it: the
        number kept in float32, not rounded to float16 first (``0.5 * 70000.`` is 35000, not
        inf; ``x * 1e30`` at x = 0 is 0, not NaN), the product rounded to float16 once; its
        gradient likewise. ``c / x`` is ``(1 / x) * c``, as PyTorch's ``__rtruediv__``."""
        if divide and reflected:
            return self.reciprocal() * c
        with np.errstate(over="ignore"):  # 1e300 is inf in float32 too, as in PyTorch
            number = _wrap(np.asarray(c.item() if isinstance(c, np.generic) else c, np.float32))
        exact = apply(ops.div if divide else ops.mul, (self, number))
        return apply(ops.cast, (exact,), _FLOAT16)

    def _float(self) -> "Tensor":
        """This tensor if it holds floats, else a float32 copy (what PyTorch computes
        exp, sin, ... of an integer tensor in)."""
        return self if self.data.dtype.kind == "f" else _wrap(self.data.astype(np.float32))

    def __add__(self, o: Any) -> "Tensor": return self._binary(o, ops.add)
    def __radd__(self, o: Any) -> "Tensor": return self._binary(o, ops.add, True)
    def __sub__(self, o: Any) -> "Tensor": return self._binary(o, ops.sub)
    def __rsub__(self, o: Any) -> "Tensor": return self._binary(o, ops.sub, True)
    def __mul__(self, o: Any) -> "Tensor": return self._binary(o, ops.mul)
    def __rmul__(self, o: Any) -> "Tensor": return self._binary(o, ops.mul, True)
    def __truediv__(self, o: Any) -> "Tensor": return self._binary(o, ops.div)
    def __rtruediv__(self, o: Any) -> "Tensor": return self._binary(o, ops.div, True)
    def __rpow__(self, o: Any) -> "Tensor": return self._binary(o, ops.pow_, True)
    def __matmul__(self, o: Any) -> "Tensor": return self._binary(o, ops.matmul)
    def __rmatmul__(self, o: Any) -> "Tensor": return self._binary(o, ops.matmul, True)

    def __pow__(self, other: Any) -> "Tensor":
        if isinstance(other, numbers.Real) and not isinstance(other, np.generic):
            base = self if isinstance(other, numbers.Integral) else self._float()
            return apply(ops.pow_const, (base,), other)
        return self._binary(other, ops.pow_)

    # -- elementwise unary ops -------------------------------------------------------------
    def __neg__(self) -> "Tensor": return apply(ops.neg, (self,))
    def exp(self) -> "Tensor": return apply(ops.exp, (self._float(),))
    def log(self) -> "Tensor": return apply(ops.log, (self._float(),))
    def tanh(self) -> "Tensor": return apply(ops.tanh, (self._float(),))
    def relu(self) -> "Tensor": return apply(ops.relu, (self,))
    def sigmoid(self) -> "Tensor": return apply(ops.sigmoid, (self._float(),))
    def sqrt(self) -> "Tensor": return apply(ops.sqrt, (self._float(),))
    def abs(self) -> "Tensor": return apply(ops.abs_, (self,))

    # -- reductions --------------------------------------------------------------------------
    def sum(self, axis: Axis = None, keepdims: bool = False) -> "Tensor":
        axes = _normalize_axis(axis, self.ndim, "sum")
        return apply(ops.sum_, (self,), (axes, keepdims))

    def mean(self, axis: Axis = None, keepdims: bool = False) -> "Tensor":
        axes = _normalize_axis(axis, self.ndim, "mean")
        count = self.size if axes is None else math.prod([self.shape[a] for a in axes])
        if not count:
            return self.sum(axes, keepdims) / 0.0
        scale = np.asarray(1.0 / count, dtype=self.dtype if self.dtype.kind == "f" else None)
        return apply(ops.mean, (self,), (axes, keepdims, scale))

    def max(self, axis: Axis = None, keepdims: bool = False) -> "Tensor":
        """The largest elements; ties share the gradient evenly (each gets g / count)."""
        axes = _normalize_axis(axis, self.ndim, "max")
        reduced = range(self.ndim) if axes is None else axes
        if self.size == 0 and (self.ndim == 0 or any(self.shape[a] == 0 for a in reduced)):
            raise ValueError(f"max: an axis to reduce has size 0 (shape {self.shape}), so "
                             "there is no maximum")
        return apply(ops.max_, (self,), (axes, keepdims))

    # -- shape ---------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = _shape_arg(shape, "reshape", unknown=True)
        try:
            return apply(ops.reshape, (self,), shape)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"into {shape} ({exc})") from None

    def transpose(self, *axes: Any) -> "Tensor":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = tuple(reversed(range(self.ndim))) if not axes else axes
        return apply(ops.transpose, (self,), _permutation(axes, self.shape, "transpose"))

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def broadcast_to(self, shape: Sequence[int]) -> "Tensor":
        shape = _shape_arg(shape, "broadcast_to")
        try:
            return apply(ops.broadcast, (self,), shape)
        except ValueError:
            raise ValueError(f"broadcast_to: shape {self.shape} cannot be broadcast to {shape}") from None

    def __getitem__(self, index: Any) -> "Tensor":
        index = _clean_index(index)
        try:
            return apply(ops.getitem, (self,), (index, _index_repeats(index)))
        except (IndexError, TypeError, ValueError) as exc:
            raise IndexError(f"index {_show(index)} cannot index a tensor of shape "
                             f"{self.shape} ({exc})") from None

    def _scatter(self, index: Any, shape: tuple[int, ...], repeats: bool) -> "Tensor":
        return apply(ops.scatter, (self,), (index, shape, repeats))

    # -- softmax family ------------------------------------------------------------------------
    def softmax(self, axis: Axis = -1) -> "Tensor":
        """Normalised exponentials along ``axis`` (a tuple: over those axes jointly; None: all)."""
        return apply(ops.softmax, (self,), _all_axes(axis, self.ndim, "softmax"))

    def log_softmax(self, axis: Axis = -1) -> "Tensor":
        """The log of `softmax`, computed stably (the same ``axis`` rules)."""
        return apply(ops.log_softmax, (self,), _all_axes(axis, self.ndim, "log_softmax"))

    # -- autograd ------------------------------------------------------------------------------
    def _seed(self, grad: Any, create_graph: bool) -> Any:
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad, so it has no graph "
                               "to differentiate (create its inputs with requires_grad=True)")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward: grad can be omitted only for a one-element tensor, but this one "
                    f"has shape {self.shape}; reduce it first (e.g. .sum()) or pass "
                    f"grad=<array of shape {self.shape}> (the vector in the vector-Jacobian product)")
            g = np.ones_like(self.data)
        else:
            try:
                g = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"backward: grad must be an array of numbers of shape "
                                f"{self.shape}, got {type(grad).__name__} ({exc})") from None
            if g.shape != self.shape:
                raise ValueError(f"backward: grad has shape {g.shape} but the tensor has shape "
                                 f"{self.shape}; they must match")
        if create_graph:
            return grad if isinstance(grad, Tensor) else Tensor(g)
        return g

    def _zero_grad_like(self, create_graph: bool) -> Any:
        z = np.zeros_like(self.data)
        return Tensor.from_numpy(z) if create_graph else z

    def retain_grad(self) -> "Tensor":
        """Keep this intermediate tensor's gradient in .grad after backward()."""
        self._keeps_grad = True
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (shares memory, like PyTorch's detach)."""
        return Tensor.from_numpy(self.data)

    # == the PyTorch surface (issue 13); each method checks its arguments, then applies ==
    # -- dtype casts -------------------------------------------------------------------------
    def to(self, dtype: Any) -> "Tensor":
        """This tensor in ``dtype`` (itself if it already is); differentiable between floats."""
        dt = as_dtype(dtype, "to")
        if dt == self.dtype:
            return self
        return apply(ops.cast, (self if dt.kind == "f" else _read(self),), dt)

    def float(self) -> "Tensor": return self.to(np.float32)
    def double(self) -> "Tensor": return self.to(np.float64)
    def long(self) -> "Tensor": return self.to(np.int64)

    # -- elementwise -------------------------------------------------------------------------
    def sin(self) -> "Tensor": return apply(ops.sin, (self._float(),))
    def cos(self) -> "Tensor": return apply(ops.cos, (self._float(),))
    def log1p(self) -> "Tensor": return apply(ops.log1p, (self._float(),))
    def expm1(self) -> "Tensor": return apply(ops.expm1, (self._float(),))
    def erf(self) -> "Tensor": return apply(ops.erf, (self._float(),))
    def square(self) -> "Tensor": return apply(ops.square, (self,))
    def reciprocal(self) -> "Tensor": return apply(ops.reciprocal, (self._float(),))
    def silu(self) -> "Tensor": return apply(ops.silu, (self._float(),))

    def leaky_relu(self, negative_slope: Number = 0.01) -> "Tensor":
        return apply(ops.leaky_relu, (self._float(),), as_number(negative_slope, "leaky_relu",
                                                               "negative_slope"))

    def gelu(self, approximate: str = "none") -> "Tensor":
        """x * Phi(x) with Phi the normal CDF (exact, via erf), or PyTorch's tanh
        approximation with ``approximate='tanh'``."""
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return apply(ops.gelu if approximate == "none" else ops.gelu_tanh, (self._float(),))

    def softplus(self, beta: Number = 1.0, threshold: Number = 20.0) -> "Tensor":
        """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's)."""
        beta = as_number(beta, "softplus", "beta")
        if beta == 0:
            raise ValueError("softplus: beta must be nonzero")
        return apply(ops.softplus, (self._float(),), (beta, as_number(threshold, "softplus", "threshold")))

    def clamp(self, min: Number | None = None, max: Number | None = None) -> "Tensor":
        """Limit every element to [min, max]; the gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")
        lo = None if min is None else as_number(min, "clamp", "min")
        hi = None if max is None else as_number(max, "clamp", "max")
        x = self._float() if isinstance(lo, float) or isinstance(hi, float) else self
        return apply(ops.clamp, (x,), (lo, hi))

    clip = clamp

    def maximum(self, other: Any) -> "Tensor":
        """The elementwise larger of the two (ties share the gradient evenly)."""
        return self._binary(_tensor_operand(other, "maximum"), ops.maximum)

    def minimum(self, other: Any) -> "Tensor":
        """The elementwise smaller of the two (ties share the gradient evenly)."""
        return self._binary(_tensor_operand(other, "minimum"), ops.minimum)

    def where(self, condition: Any, other: Any) -> "Tensor":
        """``self`` where ``condition`` holds, ``other`` elsewhere (PyTorch's x.where(c, y))."""
        return where(condition, self, other)

    def _where(self, keep: np.ndarray, other: Number) -> "Tensor":
        return apply(ops.where, (self, self._lift(other)), keep)

    # -- comparisons and logic: boolean tensors, never part of a graph ------------------------
    def _compare(self, other: Any, op: Op) -> "Tensor":
        other = self._lift(other)
        if other is NotImplemented:
            return other
        try:
            return apply(op, (_read(self), _read(other)))
        except ValueError:
            raise ValueError(_shape_error(op.name, self.shape, other.shape)) from None

    def __eq__(self, o: Any) -> "Tensor": return self._compare(o, ops.eq)  # type: ignore[override]
    def __ne__(self, o: Any) -> "Tensor": return self._compare(o, ops.ne)  # type: ignore[override]
    def __lt__(self, o: Any) -> "Tensor": return self._compare(o, ops.lt)
    def __le__(self, o: Any) -> "Tensor": return self._compare(o, ops.le)
    def __gt__(self, o: Any) -> "Tensor": return self._compare(o, ops.gt)
    def __ge__(self, o: Any) -> "Tensor": return self._compare(o, ops.ge)
    __hash__ = Node.__hash__  # identity, as in PyTorch: tensors stay usable as dict keys

    def logical_and(self, o: Any) -> "Tensor": return self._compare(o, ops.logical_and)
    def logical_or(self, o: Any) -> "Tensor": return self._compare(o, ops.logical_or)
    def logical_xor(self, o: Any) -> "Tensor": return self._compare(o, ops.logical_xor)
    def logical_not(self) -> "Tensor": return apply(ops.logical_not, (_read(self),))

    def _logic(self, other: Any, op: Op) -> "Tensor":
        """``& | ^`` on bool tensors (on integers PyTorch means bitwise ops, not provided)."""
        other = self._lift(other)
        if other is NotImplemented:
            return other
        if self.dtype.kind != "b" or other.dtype.kind != "b":
            raise TypeError(f"{op.symbol}: needs bool tensors, got {self.dtype} and {other.dtype} "
                            f"(compare first, or use {op.name})")
        return self._compare(other, op)

    def __and__(self, o: Any) -> "Tensor": return self._logic(o, ops.logical_and)
    def __rand__(self, o: Any) -> "Tensor": return self._logic(o, ops.logical_and)
    def __or__(self, o: Any) -> "Tensor": return self._logic(o, ops.logical_or)
    def __ror__(self, o: Any) -> "Tensor": return self._logic(o, ops.logical_or)
    def __xor__(self, o: Any) -> "Tensor": return self._logic(o, ops.logical_xor)
    def __rxor__(self, o: Any) -> "Tensor": return self._logic(o, ops.logical_xor)

    def __invert__(self) -> "Tensor":
        if self.dtype.kind != "b":
            raise TypeError(f"~: needs a bool tensor, got {self.dtype} (use logical_not)")
        return self.logical_not()

    def __bool__(self) -> bool:
        """The truth of a one-element tensor; any other size is ambiguous (PyTorch's errors)."""
        if self.data.size != 1:
            what = "no values" if self.data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous "
                               f"(shape {self.shape}); use .any() or .all()")
        return bool(self.data)

    # -- more reductions -----------------------------------------------------------------------
    def min(self, axis: Axis = None, keepdims: bool = False) -> "Tensor":
        """The smallest elements; ties share the gradient evenly (each gets g / count)."""
        axes = _normalize_axis(axis, self.ndim, "min")
        if self.size == 0:
            raise ValueError(f"min: the tensor of shape {self.shape} is empty")
        return apply(ops.min_, (self,), (axes, keepdims))

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        """int64 index of the first largest element (of the flattened tensor if axis=None)."""
        return apply(ops.argmax, (_read(self),), self._arg_axis(axis, keepdims, "argmax"))

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        """int64 index of the first smallest element (of the flattened tensor if axis=None)."""
        return apply(ops.argmin, (_read(self),), self._arg_axis(axis, keepdims, "argmin"))

    def _arg_axis(self, axis: int | None, keepdims: bool, what: str) -> tuple:
        if axis is not None and not isinstance(axis, numbers.Integral):
            raise TypeError(f"{what}: axis must be an int or None, got {axis!r}")
        if self.size == 0:
            raise ValueError(f"{what}: the tensor of shape {self.shape} is empty")
        axes = _normalize_axis(axis, self.ndim, what)
        return (None if axes is None else (axes[0] if axes else None), keepdims)

    def all(self, axis: Axis = None, keepdims: bool = False) -> "Tensor":
        return apply(ops.all_, (_read(self),), (_normalize_axis(axis, self.ndim, "all"), keepdims))

    def any(self, axis: Axis = None, keepdims: bool = False) -> "Tensor":
        return apply(ops.any_, (_read(self),), (_normalize_axis(axis, self.ndim, "any"), keepdims))

    def var(self, axis: Axis = None, keepdims: bool = False, *, correction: Number | None = None,
            unbiased: bool | None = None) -> "Tensor":
        """sum((x - mean)^2) / (n - correction); correction=1 by default (Bessel's, as in
        PyTorch), ``unbiased=False`` is correction=0."""
        return apply(ops.var, (self,), self._var_ctx(axis, keepdims, correction, unbiased, "var"))

    def std(self, axis: Axis = None, keepdims: bool = False, *, correction: Number | None = None,
            unbiased: bool | None = None) -> "Tensor":
        """The square root of `var` (same arguments)."""
        return apply(ops.std, (self,), self._var_ctx(axis, keepdims, correction, unbiased, "std"))

    def _var_ctx(self, axis: Axis, keepdims: bool, correction: Number | None,
                 unbiased: bool | None, what: str) -> tuple:
        if self.dtype.kind != "f":
            raise TypeError(f"{what}: needs a float tensor, got {self.dtype}")
        if unbiased is not None:
            if correction is not None:
                raise ValueError(f"{what}: give correction or unbiased, not both")
            correction = 1 if unbiased else 0
        correction = 1 if correction is None else as_number(correction, what, "correction")
        axes = _normalize_axis(axis, self.ndim, what)
        n = self.size if axes is None else math.prod([self.shape[a] for a in axes])
        return (axes, keepdims, float(max(0, n - correction)))

    def logsumexp(self, axis: Axis, keepdims: bool = False) -> "Tensor":
        """log(sum(exp(x))) over ``axis``, computed without overflow."""
        return apply(ops.logsumexp, (self._float(),),
                     (_normalize_axis(axis, self.ndim, "logsumexp"), keepdims))

    def prod(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        """The product over one axis (or of every element); exact gradients at zeros."""
        if axis is None:
            flat = apply(ops.prod, (self.reshape(-1),), (0, False))
            return flat.reshape((1,) * self.ndim) if keepdims else flat
        if not isinstance(axis, numbers.Integral):
            raise TypeError(f"prod: axis must be an int or None, got {axis!r}")
        axes = _normalize_axis(axis, self.ndim, "prod")
        if not axes:  # a 0-d tensor: nothing to multiply
            return self.reshape(())
        return apply(ops.prod, (self,), (axes[0], keepdims))

    def cumsum(self, axis: int) -> "Tensor":
        """Running sums along ``axis``."""
        if not isinstance(axis, numbers.Integral):
            raise TypeError(f"cumsum: axis must be an int, got {axis!r}")
        axes = _normalize_axis(axis, self.ndim, "cumsum")
        return apply(ops.cumsum, (self,), axes[0]) if axes else self.reshape(())

    # -- more shape ops --------------------------------------------------------------------------
    view = reshape  # PyTorch's view; here always allowed (NumPy copies when it must)

    def squeeze(self, axis: Axis = None) -> "Tensor":
        """Drop size-1 axes (those of ``axis`` only; an axis of another size is kept, as in PyTorch)."""
        axes = _all_axes(axis, self.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1)))

    def unsqueeze(self, axis: int) -> "Tensor":
        """A new size-1 axis at position ``axis`` (-ndim - 1 <= axis <= ndim)."""
        n = self.ndim
        if not isinstance(axis, numbers.Integral) or not -n - 1 <= axis <= n:
            raise ValueError(f"unsqueeze: axis {axis} is out of range for a tensor with {n} "
                             f"dimensions (allowed: {-n - 1} to {n})")
        axis = int(axis) % (n + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merge axes start_dim..end_dim (inclusive) into one."""
        if self.ndim == 0:
            return self.reshape(1)
        (start,), (end,) = (_all_axes(d, self.ndim, "flatten") for d in (start_dim, end_dim))
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"for a tensor of shape {self.shape}")
        s = self.shape
        return self.reshape(s[:start] + (math.prod(s[start:end + 1]),) + s[end + 1:])

    def expand(self, *sizes: Any) -> "Tensor":
        """Repeat size-1 axes (and add leading ones) without copying; -1 keeps an axis."""
        sizes = _sizes(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor with {self.ndim} "
                             f"dimensions (shape {self.shape}); give at least {self.ndim}")
        shape = []
        for i, n in enumerate(sizes):
            old = self.shape[i - lead] if i >= lead else None
            if n == -1 and old is not None:
                n = old
            elif n < 0 or old not in (None, 1, n):
                raise ValueError(f"expand: shape {self.shape} cannot be expanded to {sizes} "
                                 f"(size {n} at position {i})")
            shape.append(n)
        return self.broadcast_to(shape)

    def permute(self, *dims: Any) -> "Tensor":
        """The axes in the order ``dims`` (every axis once)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return apply(ops.transpose, (self,), _permutation(dims, self.shape, "permute"))

    def flip(self, axis: Axis) -> "Tensor":
        """Reverse the order of the elements along ``axis`` (an int or a tuple)."""
        return apply(ops.flip, (self,), _all_axes(axis, self.ndim, "flip"))

    def repeat(self, *sizes: Any) -> "Tensor":
        """Tile the tensor ``sizes[i]`` times along axis i (PyTorch's repeat, NumPy's tile)."""
        sizes = _sizes(sizes, "repeat")
        if len(sizes) < self.ndim or any(n < 0 for n in sizes):
            raise ValueError(f"repeat: needs at least {self.ndim} non-negative counts for a tensor "
                             f"of shape {self.shape}, got {sizes}")
        return apply(ops.repeat, (self,), sizes)

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0) -> tuple["Tensor", ...]:
        """Pieces along ``axis``: of size ``split_size`` each (the last may be smaller), or of
        the listed sizes, which must add up to the axis' length."""
        (a,) = _all_axes(axis, max(self.ndim, 1), "split") if self.ndim else (None,)
        if a is None:
            raise ValueError("split: a 0-d tensor has no axis to split")
        n = self.shape[a]
        sizes: Any = split_size_or_sections
        if isinstance(sizes, numbers.Integral):
            if sizes <= 0:
                raise ValueError(f"split: split_size must be positive, got {sizes}")
            sizes = [min(int(sizes), n - i) for i in range(0, n, int(sizes))] or [0]
        sizes = [int(k) for k in sizes]
        if sum(sizes) != n or any(k < 0 for k in sizes):
            raise ValueError(f"split: sections {sizes} do not add up to the size {n} of axis {a} "
                             f"(shape {self.shape})")
        starts = np.cumsum([0] + sizes)
        return tuple(self[(slice(None),) * a + (slice(int(i), int(j)),)]
                     for i, j in zip(starts[:-1], starts[1:]))

    def chunk(self, chunks: int, axis: int = 0) -> tuple["Tensor", ...]:
        """At most ``chunks`` pieces of equal size along ``axis`` (the last may be smaller)."""
        if not isinstance(chunks, numbers.Integral) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
        (a,) = _all_axes(axis, self.ndim, "chunk") if self.ndim else (0,)
        if not self.ndim:
            raise ValueError("chunk: a 0-d tensor has no axis to split")
        return self.split(max(1, -(-self.shape[a] // int(chunks))), a)

    def gather(self, axis: int, index: Any) -> "Tensor":
        """``out[i][j] = self[index[i][j]][j]`` for axis 0 (PyTorch's gather): ``index`` has
        the same number of axes, no larger than self's except along ``axis``."""
        idx, a = self._along(index, axis, "gather")
        for d, (m, n) in enumerate(zip(idx.shape, self.shape)):
            if d != a and m > n:
                raise ValueError(f"gather: index shape {idx.shape} is larger than the tensor's "
                                 f"shape {self.shape} at axis {d}")
        return self._pick_along(idx, a, idx.shape)

    def take_along_axis(self, indices: Any, axis: int) -> "Tensor":
        """NumPy's take_along_axis: ``indices`` broadcasts against self except along ``axis``."""
        idx, a = self._along(indices, axis, "take_along_axis")
        try:
            np.broadcast_shapes(idx.shape[:a] + idx.shape[a + 1:], self.shape[:a] + self.shape[a + 1:])
        except ValueError:
            raise ValueError(f"take_along_axis: indices of shape {idx.shape} do not broadcast "
                             f"against the tensor's shape {self.shape} outside axis {a}") from None
        return self._pick_along(idx, a, self.shape)

    def _along(self, index: Any, axis: int, what: str) -> tuple[np.ndarray, int]:
        idx = np.asarray(index.data if isinstance(index, Tensor) else index)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{what}: the index must hold integers, got {idx.dtype}")
        if idx.ndim != self.ndim:
            raise ValueError(f"{what}: the index has {idx.ndim} dimensions (shape {idx.shape}) but "
                             f"the tensor has {self.ndim} (shape {self.shape}); they must match")
        (a,) = _all_axes(axis, self.ndim, what)
        n, lo = self.shape[a], 0 if what == "gather" else -self.shape[a]
        if idx.size and (idx.min() < lo or idx.max() >= n):
            bad = idx[(idx < lo) | (idx >= n)].flat[0]
            raise IndexError(f"{what}: index {bad} is out of range for axis {a} of size {n}")
        return idx, a

    def _pick_along(self, idx: np.ndarray, a: int, sizes: tuple[int, ...]) -> "Tensor":
        """``self[grid]``: ``idx`` along axis ``a``, every other axis d counted 0..sizes[d]-1
        (a fancy index, so repeated picks accumulate their gradients)."""
        grid = tuple(idx if d == a else np.arange(sizes[d]).reshape((-1,) + (1,) * (self.ndim - d - 1))
                     for d in range(self.ndim))
        return apply(ops.getitem, (self,), (grid, True))

    def pad(self, pad: Sequence[int], value: Number = 0.0) -> "Tensor":
        """Constant padding as PyTorch's F.pad: ``pad`` is (before, after) pairs for the
        last axis first, then the one before it, ..."""
        pad = _sizes(tuple(pad), "pad")
        if len(pad) % 2 or len(pad) // 2 > self.ndim or any(p < 0 for p in pad):
            raise ValueError(f"pad: needs (before, after) pairs of non-negative ints for at most "
                             f"{self.ndim} axes (shape {self.shape}), got {pad}")
        widths = [(0, 0)] * self.ndim
        for i in range(len(pad) // 2):
            widths[self.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        return apply(ops.pad, (self,), (tuple(widths), as_number(value, "pad", "value")))


_FLOAT16 = np.dtype(np.float16)


def _is_number(x: Any) -> bool:
    """Whether ``x`` is a real Python or NumPy number (PyTorch's "wrapped number" operand)."""
    return x.__class__ is float or x.__class__ is int or (
        isinstance(x, numbers.Real) and not isinstance(x, Tensor))


def _wrap(arr: np.ndarray) -> Tensor:
    """A constant leaf around ``arr`` (no checks, no copy): operands, casts, detached reads."""
    t = _new(Tensor)
    t.data, t.grad, t.requires_grad, t._keeps_grad = arr, None, False, False
    t._fn, t._x, t._y, t._hooks = None, (), None, None
    return t


def _read(t: Tensor) -> Tensor:
    """``t`` as a constant: an op without a gradient (a comparison, argmax) reads it."""
    return _wrap(t.data) if t.requires_grad else t


def as_dtype(dtype: Any, what: str) -> np.dtype:
    """``dtype`` (a NumPy dtype or its name) as a dtype a Tensor may hold."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{what}: {dtype!r} is not a dtype") from None
    if dt.kind not in "fiub":
        raise TypeError(f"{what}: dtype {dt} is not supported (use a float, int or bool dtype)")
    return dt


def as_number(x: Any, what: str, name: str) -> Any:
    """A real Python/NumPy number argument, as a Python number."""
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise TypeError(f"{what}: {name} must be a number, got {type(x).__name__}")
    return x.item() if isinstance(x, np.generic) else x


def _sizes(sizes: tuple, what: str) -> tuple[int, ...]:
    """Sizes given as ints or as one sequence, as ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in sizes):
        raise TypeError(f"{what}: sizes must be ints, got {sizes}")
    return tuple(int(n) for n in sizes)


def _permutation(axes: tuple, shape: tuple[int, ...], what: str) -> tuple[int, ...]:
    n = len(shape)
    if not all(isinstance(a, numbers.Integral) and -n <= int(a) < n for a in axes) \
            or sorted(int(a) % n for a in axes) != list(range(n)):
        raise ValueError(f"{what}: axes {axes} are not a permutation of the "
                         f"{n} axes of a tensor of shape {shape}")
    return tuple(int(a) % n for a in axes)


def _tensor_operand(x: Any, what: str) -> Any:
    """A Tensor, array or number operand; anything else is refused by name."""
    if isinstance(x, (Tensor, np.ndarray, np.generic)) or isinstance(x, numbers.Real):
        return x
    raise TypeError(f"{what}: expected a Tensor, array or number, got {type(x).__name__}")


def _promote(x: Tensor, y: Tensor, op: Op) -> tuple[Tensor, Tensor]:
    """PyTorch's promotion where NumPy's differs: an integer or bool operand next to a float
    one takes the float's dtype (NumPy: int64 with float32 gives float64), and dividing
    integers gives float32 (NumPy: float64)."""
    fx, fy = x.data.dtype.kind == "f", y.data.dtype.kind == "f"
    if fx == fy:
        if fx or op is not ops.div:
            return x, y
        return x._float(), y._float()
    dtype = (x if fx else y).data.dtype
    if fx:
        return x, _wrap(y.data.astype(dtype))
    return _wrap(x.data.astype(dtype)), y


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _shape_error(name: str, a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """Say which shapes a binary op could not combine, in the op's own terms."""
    if name == "matmul":
        if not a or not b:
            return f"matmul: both operands need at least 1 dimension, got shapes {a} and {b}"
        k_left = a[-1]
        k_right = b[0] if len(b) == 1 else b[-2]
        if k_left != k_right:
            return (f"matmul: shapes {a} and {b} are not aligned: {k_left} (last dim of the left) "
                    f"!= {k_right} ({'dim 0' if len(b) == 1 else 'second-to-last dim'} of the right)")
        return f"matmul: the batch dimensions of shapes {a} and {b} do not broadcast"
    return f"{name}: shapes {a} and {b} cannot be broadcast together"


# -- functions of several tensors (PyTorch's torch.cat, torch.stack, torch.where, ...) --------

def _as_tensors(tensors: Any, what: str) -> list[Tensor]:
    """A non-empty sequence of tensors (arrays and lists are converted), one float dtype
    for all if any is a float (PyTorch's promotion)."""
    if isinstance(tensors, (Tensor, np.ndarray)) or not isinstance(tensors, Sequence) or not tensors:
        raise TypeError(f"{what}: expected a non-empty list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    items = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    floats = [t.dtype for t in items if t.dtype.kind == "f"]
    if floats:
        dtype = np.result_type(*floats)
        items = [t if t.dtype == dtype or t.requires_grad else _wrap(t.data.astype(dtype)) for t in items]
    return items


def cat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; all other axes must match."""
    items = _as_tensors(tensors, "cat")
    first = items[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated (use stack)")
    (a,) = _all_axes(axis, first.ndim, "cat")
    for i, t in enumerate(items):
        if t.ndim != first.ndim or t.shape[:a] + t.shape[a + 1:] != first.shape[:a] + first.shape[a + 1:]:
            raise ValueError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; they must match except along axis {a}")
    offsets = tuple(int(o) for o in np.cumsum([0] + [t.shape[a] for t in items]))
    return apply(ops.cat, tuple(items), (a, offsets))


concatenate = cat


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    items = _as_tensors(tensors, "stack")
    first = items[0]
    for i, t in enumerate(items):
        if t.shape != first.shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; stacked tensors must all have the same shape")
    n = first.ndim
    if not isinstance(axis, numbers.Integral) or not -n - 1 <= axis <= n:
        raise ValueError(f"stack: axis {axis} is out of range for tensors with {n} dimensions "
                         f"(allowed: {-n - 1} to {n})")
    return apply(ops.stack, tuple(items), int(axis) % (n + 1))


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """``input`` where ``condition`` holds, ``other`` elsewhere, broadcast together; the
    gradient of each goes only where it was chosen."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if cond.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input, other = _as_tensors([input, other], "where")
    x = input if isinstance(input, Tensor) else other._lift(_tensor_operand(input, "where"))
    y = other if isinstance(other, Tensor) else x._lift(_tensor_operand(other, "where"))
    if x.dtype != y.dtype:
        x, y = _promote(x, y, ops.where)
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape} (condition), {x.shape} and {y.shape} "
                         "cannot be broadcast together") from None
    return apply(ops.where, (x, y), cond)


def maximum(input: Any, other: Any) -> Tensor:
    """The elementwise larger of the two (ties share the gradient evenly)."""
    if isinstance(input, Tensor):
        return input.maximum(other)
    return _tensor_lift(other, "maximum")._binary(_tensor_operand(input, "maximum"), ops.maximum, True)


def minimum(input: Any, other: Any) -> Tensor:
    """The elementwise smaller of the two (ties share the gradient evenly)."""
    if isinstance(input, Tensor):
        return input.minimum(other)
    return _tensor_lift(other, "minimum")._binary(_tensor_operand(input, "minimum"), ops.minimum, True)


def _tensor_lift(x: Any, what: str) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(_tensor_operand(x, what))
