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
from .engine import Node, Op, apply

_new = object.__new__
Axis = int | Sequence[int] | None


def _as_array(data: Any, dtype: Any, what: str) -> np.ndarray:
    """Convert user data: lists and numbers to float32, arrays keep their dtype."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = np.asarray(data, dtype=dtype)
    else:
        try:
            arr = np.asarray(data, dtype=np.float32 if dtype is None else dtype)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{what}: cannot make a float array from {type(data).__name__} "
                            f"({exc})") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what}: dtype {arr.dtype} is not supported (use a float, int or bool array)")
    return arr


def _normalize_axis(axis: Axis, ndim: int, what: str) -> tuple[int, ...] | None:
    """An int or tuple axis as a sorted tuple of non-negative ints (None means all axes).

    A 0-d tensor takes axis 0 or -1, as in PyTorch: there is nothing to reduce, so ().
    """
    if axis is None:
        return None
    if axis.__class__ is int and -ndim <= axis < ndim:  # the common case, quickly
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, numbers.Integral)) else tuple(axis)
    n = max(ndim, 1)
    out: list[int] = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or not -n <= int(a) < n:
            raise ValueError(f"{what}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


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
        i = np.asarray(i)
        if i.size == 0 and i.dtype.kind == "f":  # [] picks nothing, as in NumPy
            i = i.astype(np.intp)
        elif i.dtype.kind == "f":
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
        arr = _as_array(data, dtype, "Tensor")
        if requires_grad and arr.dtype.kind != "f":
            arr = arr.astype(np.float32)  # a gradient needs a float dtype
        self.data = arr
        self.grad: Any = None
        self.requires_grad = bool(requires_grad)
        self._keeps_grad = self.requires_grad  # leaves keep their gradient (PyTorch semantics)
        self._fn, self._inputs, self._ctx, self._hooks = None, (), None, None
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
        """The other operand as a constant tensor; Python numbers take this tensor's dtype."""
        if isinstance(x, Tensor):
            return x
        if x.__class__ is float or x.__class__ is int:  # the common case, without ABC checks
            dtype = self.data.dtype
            t = _new(Tensor)
            t.data = np.asarray(x, dtype=dtype if dtype.kind == "f" else None)
            t.grad, t.label, t.requires_grad, t._keeps_grad = None, None, False, False
            t._fn, t._inputs, t._ctx, t._hooks = None, (), None, None
            return t
        if isinstance(x, numbers.Number) and not isinstance(x, np.generic):
            if not isinstance(x, numbers.Real):
                return NotImplemented
            kind = self.data.dtype.kind
            return Tensor(np.asarray(x, dtype=self.data.dtype if kind == "f" else None))
        if isinstance(x, (np.ndarray, np.generic)):
            return Tensor(x)
        return NotImplemented

    def _binary(self, other: Any, op: Op, reflected: bool = False) -> "Tensor":
        other = self._lift(other)
        if other is NotImplemented:
            return other
        x, y = (other, self) if reflected else (self, other)
        try:
            return apply(op, (x, y))
        except ValueError:
            raise ValueError(_shape_error(op.name, x.shape, y.shape)) from None

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
            return apply(ops.pow_const, (self,), other)
        return self._binary(other, ops.pow_)

    # -- elementwise unary ops -------------------------------------------------------------
    def __neg__(self) -> "Tensor": return apply(ops.neg, (self,))
    def exp(self) -> "Tensor": return apply(ops.exp, (self,))
    def log(self) -> "Tensor": return apply(ops.log, (self,))
    def tanh(self) -> "Tensor": return apply(ops.tanh, (self,))
    def relu(self) -> "Tensor": return apply(ops.relu, (self,))
    def sigmoid(self) -> "Tensor": return apply(ops.sigmoid, (self,))
    def sqrt(self) -> "Tensor": return apply(ops.sqrt, (self,))
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
        if self.size == 0:
            raise ValueError(f"max: the tensor of shape {self.shape} is empty")
        return apply(ops.max_, (self,), (axes, keepdims))

    # -- shape ---------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            return apply(ops.reshape, (self,), shape)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"into {shape} ({exc})") from None

    def transpose(self, *axes: Any) -> "Tensor":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        n = self.ndim
        axes = tuple(reversed(range(n))) if not axes else axes
        if not all(isinstance(a, numbers.Integral) and -n <= int(a) < n for a in axes) \
                or sorted(int(a) % n for a in axes) != list(range(n)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{self.ndim} axes of a tensor of shape {self.shape}")
        axes = tuple(int(a) % self.ndim for a in axes)
        return apply(ops.transpose, (self,), axes)

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def broadcast_to(self, shape: Sequence[int]) -> "Tensor":
        shape = tuple(shape)
        try:
            return apply(ops.broadcast, (self,), shape)
        except ValueError:
            raise ValueError(f"broadcast_to: shape {self.shape} cannot be broadcast to {shape}") from None

    def __getitem__(self, index: Any) -> "Tensor":
        index = _clean_index(index)
        return apply(ops.getitem, (self,), (index, _index_repeats(index)))

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
            g = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if g.shape != self.shape:
                raise ValueError(f"backward: grad has shape {g.shape} but the tensor has shape "
                                 f"{self.shape}; they must match")
        if create_graph:
            return grad if isinstance(grad, Tensor) else Tensor(g)
        return g

    def _zero_grad_like(self, create_graph: bool) -> Any:
        z = np.zeros_like(self.data)
        return Tensor(z) if create_graph else z

    def retain_grad(self) -> "Tensor":
        """Keep this intermediate tensor's gradient in .grad after backward()."""
        self._keeps_grad = True
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (shares memory, like PyTorch's detach)."""
        return Tensor(self.data)


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
